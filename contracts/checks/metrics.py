"""A checked table's measurements as metrics for time series (insights watches them for anomalies): the rows in
the checked scope, the freshness lag, and the null and distinct ratios of the columns the contract measures."""

from contracts.checks.clauses import Measure
from contracts.checks.evaluate import Status
from contracts.checks.table import TableResult


def table_metrics(table: TableResult) -> dict[str, float]:
    """Metric name (`row_count`, `freshness_lag_minutes`, `null_ratio:<column>`, `distinct_ratio:<column>`) to value,
    from what the check measured; a measure that failed to read is left out."""
    if table.error or table.rows is None:
        return {}
    rows = table.rows
    metrics: dict[str, float] = {"row_count": float(rows)}
    nulls: dict[str, int] = {}
    duplicates: dict[str, int] = {}
    for outcome in table.outcomes:
        clause = outcome.clause
        if outcome.status == Status.ERROR:
            continue
        if clause.measure == Measure.FRESHNESS and outcome.observed is not None:
            lag = float(outcome.observed) / 60
            metrics["freshness_lag_minutes"] = max(lag, metrics.get("freshness_lag_minutes", 0.0))
        elif clause.measure == Measure.NULLS and clause.column and outcome.count is not None:
            nulls[clause.column] = outcome.count
        elif clause.measure == Measure.DUPLICATES and clause.column and outcome.count is not None:
            duplicates[clause.column] = outcome.count
    for column, count in nulls.items():
        metrics[f"null_ratio:{column}"] = round(count / rows, 6) if rows else 0.0
    for column, count in duplicates.items():
        present = rows - nulls.get(column, 0)
        metrics[f"distinct_ratio:{column}"] = round((present - count) / present, 6) if present > 0 else 1.0
    return metrics
