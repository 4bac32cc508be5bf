"""A checked table's measurements become metrics for its time series: rows, freshness lag in minutes, null and
distinct ratios of the columns the contract measures; a table that could not be checked gives none."""

from contracts.checks.clauses import Clause, Measure
from contracts.checks.evaluate import Outcome, Status
from contracts.checks.metrics import table_metrics
from contracts.checks.table import TableResult
from contracts.odcs.model import Threshold

LIMIT = Threshold(operator="mustBe", value=0)


def _outcome(measure: Measure, *, column: str | None = None, count=None, observed=None, status=Status.PASSED):
    clause = Clause(
        key=f"orders.{column}.{measure}",
        schema_object="orders",
        measure=measure,
        threshold=LIMIT,
        label=str(measure),
        column=column,
    )
    return Outcome(
        clause=clause, status=status, observed=observed if observed is not None else count, message="", count=count
    )


def _table(rows, *outcomes, error="") -> TableResult:
    return TableResult(
        object="orders", table="sales.orders", rows=rows, outcomes=tuple(outcomes), observed_schema=(), error=error
    )


def test_table_metrics_from_a_checked_table_rows_lag_and_ratios():
    table = _table(
        1000,
        _outcome(Measure.FRESHNESS, column="loaded_at", observed=5400.0),
        _outcome(Measure.NULLS, column="customer_id", count=50, status=Status.FAILED),
        _outcome(Measure.NULLS, column="order_id", count=0),
        _outcome(Measure.DUPLICATES, column="order_id", count=10),
        _outcome(Measure.DUPLICATES, column="customer_id", count=150),
    )

    assert table_metrics(table) == {
        "row_count": 1000.0,
        "freshness_lag_minutes": 90.0,
        "null_ratio:customer_id": 0.05,
        "null_ratio:order_id": 0.0,
        "distinct_ratio:order_id": 0.99,
        "distinct_ratio:customer_id": round(800 / 950, 6),  # of the non-null values
    }


def test_table_metrics_leave_out_what_could_not_be_measured():
    unreadable = _outcome(Measure.NULLS, column="customer_id", count=None, status=Status.ERROR)
    assert table_metrics(_table(0, unreadable)) == {"row_count": 0.0}
    assert table_metrics(_table(None)) == {}
    assert table_metrics(_table(10, error="relation sales.orders does not exist")) == {}
