"""ADF reads: the factory, pipeline and run lookups, and queryPipelineRuns / queryActivityruns as of a snapshot
(filters, ordering, the isLatest flag of rerun groups)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from simulator.model import AdfActivity, AdfRun, FactorySpec, PipelineSpec, adf_activity_states, adf_run_state
from simulator.world.errors import SimError

if TYPE_CHECKING:
    from simulator.world.state import World

# (run, status, lastUpdated, end, isLatest) and (activity run, status, end) as of a snapshot.
AdfRunView = tuple[AdfRun, str, int, int | None, bool]
ActivityView = tuple[AdfActivity, str, int | None]
QueryFilter = tuple[str, str, list[Any]]  # (operand, operator, values)


@dataclass(slots=True)
class AdfQuery:
    """A normalised queryPipelineRuns / queryActivityruns body (minus the continuation token)."""

    after_us: int
    before_us: int
    filters: list[QueryFilter]
    order: list[tuple[str, bool]]  # (field, descending)

    def signature(self) -> str:
        return json.dumps([self.after_us, self.before_us, self.filters, self.order], sort_keys=True, default=str)


def find_factory(world: World, subscription_id: str, resource_group: str, factory_name: str) -> FactorySpec:
    factory = world.factories.get((subscription_id.casefold(), resource_group.casefold(), factory_name.casefold()))
    if factory is None:
        raise SimError(
            404,
            "ResourceNotFound",
            f"The Resource 'Microsoft.DataFactory/factories/{factory_name}' under resource group "
            f"'{resource_group}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
        )
    return factory


def find_adf_run(world: World, factory: FactorySpec, run_id: str) -> AdfRun:
    run = world.adf_runs.get(run_id.lower())
    if run is None or run.pipeline.factory is not factory:
        raise SimError(
            404, "PipelineRunNotFound", f"Pipeline run '{run_id}' does not exist in factory '{factory.name}'."
        )
    return run


def find_pipeline(factory: FactorySpec, name: str) -> PipelineSpec:
    pipeline = factory.pipelines.get(name.casefold())
    if pipeline is None:
        raise SimError(404, "PipelineNotFound", f"Pipeline '{name}' does not exist in factory '{factory.name}'.")
    return pipeline


def is_latest(world: World, run: AdfRun, s: int) -> bool:
    group = world.adf_groups.get(run.group_id, [run])
    if len(group) == 1:
        return True
    latest = max((r for r in group if r.seq <= s), key=lambda r: r.seq, default=run)
    return latest is run


def adf_run_views(world: World, factory: FactorySpec, query: AdfQuery, t: int, s: int) -> list[AdfRunView]:
    """Every run matching the query as of (t, s), in the query's order: (run, status, lastUpdated, end, latest)."""
    with world.lock:
        return world.cached(
            ("adf", factory.key, query.signature(), t, s), lambda: _adf_views(world, factory, query, t, s)
        )


def _adf_views(world: World, factory: FactorySpec, query: AdfQuery, t: int, s: int) -> list[AdfRunView]:
    views = []
    for run in world.adf_by_factory[factory.key]:
        if run.seq > s or run.created_us > t:
            continue
        status, last_updated, end = adf_run_state(run, t, s)
        if not query.after_us <= last_updated <= query.before_us:
            continue
        view = (run, status, last_updated, end, is_latest(world, run, s))
        if all(_adf_filter_match(view, f) for f in query.filters):
            views.append(view)
    views.sort(key=lambda v: v[0].run_id)
    for fld, desc in reversed(query.order or [("RunStart", True)]):
        views.sort(key=_ADF_SORT_KEYS[fld], reverse=desc)
    return views


def adf_activity_views(world: World, run: AdfRun, query: AdfQuery, t: int, s: int) -> list[ActivityView]:
    with world.lock:
        views = []
        for act, status, end in adf_activity_states(run, t, s):
            updated = end if end is not None else act.start_us
            if not query.after_us <= updated <= query.before_us:
                continue
            view = (act, status, end)
            if all(_activity_filter_match(view, f) for f in query.filters):
                views.append(view)
        for fld, desc in reversed(query.order):
            views.sort(key=_ACTIVITY_SORT_KEYS[fld], reverse=desc)
        return views


def _none_key(value: Any) -> tuple[int, Any]:
    return (0, 0) if value is None else (1, value)


_ADF_SORT_KEYS: dict[str, Callable[[AdfRunView], Any]] = {
    "RunStart": lambda v: v[0].created_us,
    "RunEnd": lambda v: _none_key(v[3]),
    "PipelineName": lambda v: v[0].pipeline.name.casefold(),
    "Status": lambda v: v[1],
}
_ACTIVITY_SORT_KEYS: dict[str, Callable[[ActivityView], Any]] = {
    "ActivityName": lambda v: v[0].name.casefold(),
    "ActivityRunStart": lambda v: v[0].start_us,
    "ActivityRunEnd": lambda v: _none_key(v[2]),
    "Status": lambda v: v[1],
}


def _match(actual: Any, operator: str, values: list[Any]) -> bool:
    hit = actual in values
    return hit if operator in ("Equals", "In") else not hit


def _adf_filter_match(view: AdfRunView, flt: QueryFilter) -> bool:
    run, status, _, end, latest = view
    operand, operator, values = flt
    if operand == "PipelineName":
        return _match(run.pipeline.name.casefold(), operator, [str(v).casefold() for v in values])
    if operand == "Status":
        return _match(status.casefold(), operator, [str(v).casefold() for v in values])
    if operand == "RunGroupId":
        return _match(run.group_id, operator, [str(v).lower() for v in values])
    if operand == "LatestOnly":
        # The service honours only a JSON boolean true here; the string "True" is ignored.
        return latest if values and values[0] is True else True
    if operand == "RunStart":
        return _match(run.created_us, operator, values)
    if operand == "RunEnd":
        return _match(end, operator, values)
    return True


def _activity_filter_match(view: ActivityView, flt: QueryFilter) -> bool:
    act, status, end = view
    operand, operator, values = flt
    if operand == "ActivityName":
        return _match(act.name.casefold(), operator, [str(v).casefold() for v in values])
    if operand == "ActivityType":
        return _match(act.type.casefold(), operator, [str(v).casefold() for v in values])
    if operand == "Status":
        return _match(status.casefold(), operator, [str(v).casefold() for v in values])
    if operand == "ActivityRunStart":
        return _match(act.start_us, operator, values)
    if operand == "ActivityRunEnd":
        return _match(end, operator, values)
    return True
