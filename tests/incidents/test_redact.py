import pytest

from aimsweb.redact import MASK, redact

CASES = [
    ("Invalid token dapi0123456789abcdef0123456789abcdef-2 for workspace", "dapi0123456789abcdef"),
    ("401 with header Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl", "eyJhbGciOiJSUzI1NiJ9"),
    ("request failed: Authorization: Bearer abcDEF123456789xyz==", "abcDEF123456789xyz"),
    ("Server=tcp:sql.example.net;Database=sales;User ID=etl;Password=S3cr3t!Pass;Encrypt=True", "S3cr3t!Pass"),
    (
        "DefaultEndpointsProtocol=https;AccountName=lake;AccountKey=" + "A" * 86 + "==;EndpointSuffix=core.windows.net",
        "A" * 40,
    ),
    (
        "GET https://lake.blob.core.windows.net/c/f.csv?sv=2022-11-02&se=2025-03-15&sp=r&sig=AbCdEf%2B123xyz%3D",
        "AbCdEf",
    ),
    ("AADSTS7000215: Invalid client secret provided. client_secret=Q~abc.def_ghi-jkl123", "Q~abc.def_ghi-jkl123"),
    ('config {"client_secret": "Zx9~secretvalue", "tenant": "t1"}', "Zx9~secretvalue"),
    ("jdbc:postgresql://etl:hunter2@db.example.net:5432/sales refused", "hunter2"),
    ("Error calling model with api_key sk-proj-abcdefghijklmnopqrstuvwxyz012345", "abcdefghijklmnopqrstuvwxyz"),
    ("SharedAccessKey=Endpoint+key/Value123=; EntityPath=events", "Endpoint+key/Value123"),
]


@pytest.mark.parametrize(("text", "secret"), CASES)
def test_redact_removes_each_secret_form(text, secret):
    cleaned = redact(text)

    assert secret not in cleaned
    assert MASK in cleaned


def test_redact_keeps_what_helps_diagnosis():
    text = "Server=tcp:sql.example.net;Database=sales;Password=x1y2z3;Encrypt=True -- SqlException 18456 Login failed"

    cleaned = redact(text)

    for kept in ("sql.example.net", "Database=sales", "Password=", "SqlException 18456 Login failed"):
        assert kept in cleaned


def test_redact_leaves_ordinary_errors_alone():
    text = "AnalysisException: [TABLE_OR_VIEW_NOT_FOUND] The table or view `raw`.`orders` cannot be found."

    assert redact(text) == text
