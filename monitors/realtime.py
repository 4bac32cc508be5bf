"""Channel-layer group names of the runs and pipelines pages, built in one place, and the broadcast services make."""

from collections.abc import Iterable

from aimsweb.realtime import broadcast_after_commit

RUN_LIST_GROUP = "runs.list"
PIPELINE_LIST_GROUP = "pipelines.list"


def runs_changed_broadcast(*, pipeline_ids: Iterable[int]) -> None:
    """Tell the runs and pipelines pages that runs of these pipelines were added or changed: one message per
    ingested batch (after commit), however many runs it holds."""
    ids = sorted(set(pipeline_ids))
    if not ids:
        return
    broadcast_after_commit(group=RUN_LIST_GROUP, event="runs.changed", ids=ids)
    broadcast_after_commit(group=PIPELINE_LIST_GROUP, event="runs.changed", ids=ids)
