"""The warehouse parts of a scenario, checked and filled in: its SQL warehouses, which pipeline or job loads which
demo table, and the problems injected into those loads."""

from typing import Any

from simulator.sql_demo import DEMO_COLUMNS, column_index
from simulator.sql_loads import NEEDS_COLUMN, PROBLEM_KINDS

DEFAULT_SQL_WAREHOUSE = {"id": "5e1a0c0ffee0a1b2", "name": "Starter Warehouse"}


def normalize_sql_warehouses(given: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    warehouses = [dict(DEFAULT_SQL_WAREHOUSE)] if given is None else [dict(w) for w in given]
    for warehouse in warehouses:
        if not str(warehouse.get("id") or "").isalnum():
            raise ValueError("every sql_warehouses entry needs an id of letters and digits")
        warehouse.setdefault("name", warehouse["id"])
    return warehouses


def _pair(value: Any, what: str, *, low: float = 0) -> list[float]:
    pair = [value, value] if isinstance(value, int | float) else list(value)
    if len(pair) != 2 or not low <= pair[0] <= pair[1]:
        raise ValueError(f"{what} must be [min, max] with {low} <= min <= max")
    return pair


def normalize_loads(scenario: dict[str, Any]) -> list[dict[str, Any]]:
    """Each loader as {"table", "source", "name", "factory", "rows"}; written {"table", "adf": pipeline, "factory"}
    or {"table", "databricks": job}, naming a table the warehouses hold and a pipeline or job of the scenario."""
    pipelines = {(f["factory_name"], p["name"]) for f in scenario["factories"] for p in f["pipelines"]}
    jobs = {j["name"] for j in (scenario["workspaces"][0]["jobs"] if scenario["workspaces"] else [])}
    loads, tables = [], set()
    for item in scenario["warehouse_loads"]:
        if item.get("source") in ("adf", "databricks"):  # already normalised (a scenario loaded again)
            item = {**item, item["source"]: item.get("name")}
        table = item.get("table")
        if table not in DEMO_COLUMNS or table not in scenario["warehouse_tables"]:
            raise ValueError(
                f"warehouse_loads: {table!r} is not one of the warehouse_tables {scenario['warehouse_tables']}"
            )
        if table in tables:
            raise ValueError(f"warehouse_loads: {table} has two loaders")
        tables.add(table)
        if item.get("adf"):
            source, name, factory = "adf", item["adf"], item.get("factory")
            if not any(n == name and factory in (None, f) for f, n in pipelines):
                raise ValueError(f"warehouse_loads: no ADF pipeline {name!r} for {table}")
        elif item.get("databricks"):
            source, name, factory = "databricks", item["databricks"], None
            if name not in jobs:
                raise ValueError(f"warehouse_loads: no job {name!r} in the first workspace for {table}")
        else:
            raise ValueError(f"warehouse_loads: {table} needs its loader, 'adf' (a pipeline) or 'databricks' (a job)")
        rows = _pair(item.get("rows", [20, 60]), f"warehouse_loads: {table} rows", low=1)
        loads.append({"table": table, "source": source, "name": name, "factory": factory, "rows": rows})
    return loads


def normalize_problems(scenario: dict[str, Any]) -> dict[str, Any]:
    config = dict(scenario["warehouse_problems"])
    config["first_after_seconds"] = _pair(config["first_after_seconds"], "warehouse_problems.first_after_seconds")
    config["gap_seconds"] = _pair(config["gap_seconds"], "warehouse_problems.gap_seconds")
    loaded = {load["table"] for load in scenario["warehouse_loads"]}
    problems = []
    for given in config.get("problems") or []:
        problem = {"column": None, "share": 0.5, "loads": [2, 4], **given}
        kind, table = problem.get("kind"), str(problem.get("table"))
        if kind not in PROBLEM_KINDS:
            raise ValueError(f"warehouse_problems: unknown kind {kind!r}; allowed: {list(PROBLEM_KINDS)}")
        if table not in loaded:
            raise ValueError(f"warehouse_problems: {kind} on {table!r}, which no warehouse_loads entry loads")
        if kind in NEEDS_COLUMN:
            column_index(table, problem["column"] or "")
        if not 0.0 < float(problem["share"]) <= 1.0:
            raise ValueError(f"warehouse_problems: {kind} share must be within (0, 1]")
        problem["loads"] = [int(n) for n in _pair(problem["loads"], f"warehouse_problems: {kind} loads", low=1)]
        problems.append(problem)
    config["problems"] = problems
    return config
