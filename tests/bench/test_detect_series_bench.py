"""The detect_series benchmark (bench/detect_series.py) at a tiny size: its series are seeded, both passes score
every series, and its result rows carry the speed and the quality figures beside Elementary's."""

from pathlib import Path

from bench import anomaly_eval, detect_series

CORPUS_LINES = 4


def test_detect_series_bench_synthetic_series_seeded_and_daily():
    first, again = detect_series.synthetic_series(5, 40), detect_series.synthetic_series(5, 40)

    assert first == again
    assert [len(points) for points in first] == [40] * 5
    assert all((b[0] - a[0]).days == 1 for points in first for a, b in zip(points, points[1:], strict=False))


def test_detect_series_bench_plain_pass_flags_a_spike():
    points = [(t, 100.0 + i % 2) for i, (t, _) in enumerate(detect_series.synthetic_series(1, 30)[0])]
    points[25] = (points[25][0], 1000.0)

    assert detect_series.plain_pass([points]) == 1


def test_detect_series_bench_tiny_run_rows(monkeypatch, tmp_path: Path, capsys):
    corpus = tmp_path / "dev.jsonl"
    corpus.write_text("".join(anomaly_eval.DEV_CORPUS.read_text().splitlines(keepends=True)[:CORPUS_LINES]))
    monkeypatch.setattr(anomaly_eval, "DEV_CORPUS", corpus)
    monkeypatch.setattr(detect_series, "SERIES", 12)
    monkeypatch.setattr(detect_series, "POINTS", 45)
    monkeypatch.setattr(detect_series, "ROUNDS", 1)

    metrics = {m.metric: m for m in detect_series.run()}

    assert list(metrics) == [
        "detect_10k_series",
        "anomaly_precision_dev",
        "anomaly_recall_dev",
        "anomaly_sustained_recall_dev",
        "anomaly_false_alarms_per_90_dev",
    ]
    speed = metrics["detect_10k_series"]
    assert speed.value > 0 and speed.ceiling > 0 and speed.target == "reported"
    assert speed.ratio > 1
    assert metrics["anomaly_precision_dev"].target == ">= 0.80"
    assert metrics["anomaly_false_alarms_per_90_dev"].target == "<= 1.00"
    assert all(m.value >= 0 for m in metrics.values())
    out = capsys.readouterr().out
    assert "12 series, 540 points" in out and "ms/point" in out and "Elementary" in out
