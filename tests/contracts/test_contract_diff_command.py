import io
import json
import re
from pathlib import Path

import pytest
from django.core.management import call_command

DEV_PAIRS = Path("/work/shared/corpus/observability/contracts_dev.jsonl")


def _element(path: str) -> str:
    """The scoring unit of the corpus README: the path cut after its last properties[...], or its first segment."""
    columns = list(re.finditer(r"properties\[[^\]]*\]", path))
    return path[: columns[-1].end()] if columns else re.match(r"[^.\[]+(\[[^\]]*\])?", path).group(0)


def _run(*args) -> tuple[list[dict], str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("contract_diff", *args, stdout=out, stderr=err)
    return [json.loads(line) for line in out.getvalue().splitlines() if line.startswith("{")], err.getvalue()


@pytest.mark.skipif(not DEV_PAIRS.is_file(), reason="the shared dev corpus is not on this machine")
def test_contract_diff_dev_pairs_full_breaking_recall_no_widening_breaking():
    labelled = [json.loads(line) for line in DEV_PAIRS.read_text().splitlines()]
    predicted = {row["id"]: row for row in _run("--pairs", str(DEV_PAIRS))[0]}

    verdicts = sum(predicted[pair["id"]]["verdict"] == pair["verdict"] for pair in labelled)
    breaking_found = breaking_total = widened_breaking = widened_total = 0
    for pair in labelled:
        marked = {_element(c["path"]) for c in predicted[pair["id"]]["changes"] if c["level"] == "breaking"}
        for change in pair["changes"]:
            if change["level"] == "breaking":
                breaking_total += 1
                breaking_found += _element(change["path"]) in marked
            if change["kind"] == "type_widened":
                widened_total += 1
                widened_breaking += _element(change["path"]) in marked
    scores = (
        f"verdict accuracy {verdicts}/{len(labelled)}, breaking recall {breaking_found}/{breaking_total}, "
        f"widenings called breaking {widened_breaking}/{widened_total}"
    )

    assert breaking_found == breaking_total and widened_breaking == 0, scores
    assert verdicts == len(labelled), scores


def test_contract_diff_bad_lines_error_objects_run_goes_on(tmp_path):
    good = {"id": "ok", "old": "schema: [{name: t, properties: [{name: a}]}]", "new": "schema: [{name: t}]"}
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("not json\n" + json.dumps({"id": "bad", "old": "a: [", "new": "{}"}) + "\n" + json.dumps(good))

    rows, errors = _run("--pairs", str(pairs))

    assert [row.get("id") for row in rows] == [None, "bad", "ok"]
    assert "error" in rows[0] and "old line 1: invalid YAML" in rows[1]["error"]
    assert rows[2] == {
        "id": "ok",
        "verdict": "breaking",
        "changes": [{"path": "schema[t].properties[a]", "kind": "property_removed", "level": "breaking"}],
    }
    assert "pairs.jsonl:1" in errors and "pairs.jsonl:2" in errors


def test_contract_diff_two_files_table_and_exit_status(tmp_path):
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    old.write_text("schema:\n  - name: t\n    properties:\n      - {name: a, physicalType: int}\n")
    new.write_text("schema:\n  - name: t\n    properties:\n      - {name: a, physicalType: smallint}\n")
    out = io.StringIO()

    with pytest.raises(SystemExit) as exited:
        call_command("contract_diff", str(old), str(new), stdout=out)

    assert exited.value.code == 1
    assert re.search(
        r"breaking\s+type_narrowed\s+schema\[t\]\.properties\[a\]\.physicalType\s+int -> smallint", out.getvalue()
    )
    assert "verdict: breaking" in out.getvalue()
