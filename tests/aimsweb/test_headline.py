"""The headline of an error (aimsweb.headline): the innermost readable cause as one short line, on every shape of
the labelled corpus and on hostile input."""

import json
from pathlib import Path

from django.conf import settings

from aimsweb.headline import HEADLINE_MAX, headline, headline_cut, headline_title
from tests.incidents.corpus import read_jsonl

DEV_CORPUS = Path(settings.BASE_DIR).parent / "shared" / "corpus" / "dev_errors.jsonl"
PUBLIC = Path(settings.BASE_DIR) / "tests" / "incidents" / "data" / "public_errors.jsonl"


def _errors() -> list[str]:
    """Real errors: the dev corpus (where this checkout sits beside it) and the public validation set."""
    sources = [path for path in (DEV_CORPUS, PUBLIC) if path.exists()]
    return [row["error_message"] for path in sources for row in read_jsonl(path)]


def _shapes(error: str) -> list[str]:
    """The error as platforms deliver it, and wrapped as they wrap it: ANSI colours, an ADF activity envelope, a
    Spark trace over several lines."""
    return [
        error,
        f"\x1b[0;31m{error}\x1b[0m",
        json.dumps(
            {"errorCode": "2011", "message": error, "failureType": "UserError", "target": "Notebook1"}, indent=4
        ),
        f"Operation on target Copy sales failed: {json.dumps({'StatusCode': 'DF-Executor', 'Message': error})}",
        f"org.apache.spark.SparkException: Job aborted.\n\tat org.apache.spark.Foo(Foo.scala:1)\nCaused by: {error}",
    ]


def test_headline_every_corpus_shape_is_one_short_clean_line():
    errors = _errors()
    assert len(errors) >= 300
    bad = []
    for error in errors:
        for shape in _shapes(error):
            title = headline_title("pl_sales_daily_load", shape, fallback="Source database timed out")
            line = title.removeprefix("pl_sales_daily_load: ")
            if not (
                0 < len(title) <= HEADLINE_MAX
                and not any(char in title for char in "\n\r\t\x1b")
                and not title.endswith(("{", "[", ":", ","))
                and not line.startswith(("{", '"'))
            ):
                bad.append((title, shape[:200]))
    assert not bad, bad[:5]


def test_headline_json_envelope_gives_its_innermost_message():
    error = json.dumps(
        {
            "errorCode": "2200",
            "message": "Operation on target Copy failed: "
            + json.dumps(
                {"StatusCode": "DF-Executor-Auth", "Message": "Job failed due to reason: Access key is wrong"}
            ),
            "failureType": "UserError",
        },
        indent=2,
    )

    assert headline(error) == "Access key is wrong"


def test_headline_unreadable_error_falls_back_to_the_summary():
    assert headline('{\n  "state": "TERMINATED"\n}', fallback="Cluster terminated") == "Cluster terminated"
    assert headline("", fallback="") == ""


def test_headline_cut_at_a_word_with_an_ellipsis_and_no_dangling_separator():
    cut = headline_cut("word " * 20 + "Reason: {", limit=60)

    assert cut.endswith("…") and len(cut) <= 60 and " …" not in cut
    assert headline_cut("Failed to connect:") == "Failed to connect"
    assert headline_cut("x" * 300).endswith("…") and len(headline_cut("x" * 300)) == HEADLINE_MAX


def test_headline_redacts_secrets_and_strips_escapes():
    line = headline("\x1b]0;title\x07Login failed: Password=hunter2; User=etl\x1b[0m")

    assert "hunter2" not in line and "[REDACTED]" in line and "\x1b" not in line


def test_headline_title_keeps_the_prefix_and_the_limit():
    title = headline_title("p" * 200, "Read timed out while copying the sales table")

    assert len(title) <= HEADLINE_MAX
    assert headline_title("pl_orders", "") == "pl_orders"
