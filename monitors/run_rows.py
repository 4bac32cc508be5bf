"""What the layers above show on the runs page's rows (e.g. a pending retry's badge): each registers a hook that sets
attributes on a page of runs, in a fixed number of queries; this layer calls them without knowing what they add."""

from collections.abc import Callable

from monitors.models import PipelineRun

RunRowsHook = Callable[[list[PipelineRun]], None]

_hooks: list[RunRowsHook] = []


def run_rows_hook_register(hook: RunRowsHook) -> None:
    """Called once per hook from an app's ready(); registering the same hook again changes nothing."""
    if hook not in _hooks:
        _hooks.append(hook)


def run_rows_annotate(runs: list[PipelineRun]) -> None:
    """Let every registered hook add what it shows to this page of runs."""
    for hook in _hooks:
        hook(runs)
