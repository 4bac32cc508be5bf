import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command

from bench.anomaly_eval import TARGETS, aims_results, elementary_results, load, meets_targets
from insights.anomalies.scoring import score
from tests.insights.anomaly_series import daily_volume, scaled

DEV_SERIES = Path("/work/shared/corpus/observability/anomalies_dev.jsonl")


def _line(series_id: str, points) -> str:
    return json.dumps(
        {
            "id": series_id,
            "kind": "volume_daily",
            "granularity": "day",
            "points": [{"t": t.isoformat().replace("+00:00", "Z"), "value": v} for t, v in points],
        }
    )


def _run(tmp_path: Path, lines: list[str]) -> tuple[list[str], str]:
    path = tmp_path / "series.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    call_command("detect_anomalies", str(path), stdout=out, stderr=err)
    return out.getvalue().splitlines(), err.getvalue()


def test_detect_anomalies_command_one_json_object_per_line(tmp_path):
    broken = scaled(daily_volume(40), range(35, 38), 0.0)

    out, err = _run(tmp_path, [_line("ts-broken", broken), _line("ts-clean", daily_volume(40))])

    assert [json.loads(line) for line in out] == [
        {"id": "ts-broken", "anomalous": [35, 36, 37]},
        {"id": "ts-clean", "anomalous": []},
    ]
    assert err == ""


def test_detect_anomalies_command_bad_lines_get_error_and_run_goes_on(tmp_path):
    unknown_kind = json.dumps({"id": "ts-kind", "kind": "bytes", "granularity": "day", "points": []})
    no_value = json.dumps({"id": "ts-point", "kind": "volume_daily", "granularity": "day", "points": [{"t": "x"}]})

    out, err = _run(tmp_path, ["not json", unknown_kind, no_value, _line("ts-ok", daily_volume(30))])

    rows = [json.loads(line) for line in out]
    assert [row["id"] for row in rows] == [None, "ts-kind", "ts-point", "ts-ok"]
    assert "not valid JSON" in rows[0]["error"]
    assert "kind 'bytes'" in rows[1]["error"]
    assert "points[0]" in rows[2]["error"]
    assert rows[3] == {"id": "ts-ok", "anomalous": []}
    assert "series.jsonl:1:" in err and "series.jsonl:3:" in err


@pytest.mark.skipif(not DEV_SERIES.is_file(), reason="the shared dev corpus is not on this machine")
def test_detect_dev_corpus_meets_targets_per_kind_and_beats_elementary():
    corpus = load(DEV_SERIES)

    figures = score(aims_results(corpus))
    seasonal = score(elementary_results(corpus, seasonal=True))["overall"]

    report = "; ".join(
        f"{kind}: P {f.precision:.2f} R {f.recall:.2f} sust {f.sustained_recall:.2f} FA/90 {f.false_alarms_per_90:.2f}"
        for kind, f in figures.items()
    )
    assert all(meets_targets(f) for f in figures.values()), f"targets {TARGETS}; AIMS {report}"
    assert figures["overall"].f1 > seasonal.f1, f"AIMS {report}; Elementary seasonal F1 {seasonal.f1:.2f}"
