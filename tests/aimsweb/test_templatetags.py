import pytest

from aimsweb.templatetags.aims import duration_ms


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "—"),
        (850, "850 ms"),
        (42_000, "42 s"),
        (217_000, "3 min 37 s"),
        (180_000, "3 min"),
        (7_500_000, "2 h 5 min"),
        (7_200_000, "2 h"),
    ],
)
def test_duration_ms_human(value, text):
    assert duration_ms(value) == text
