"""Which Python functions the task queue may run.

A django-q2 schedule is a row naming a function by its dotted path, and the cluster imports and calls whatever it
names: a form that can write `os.system` there runs shell commands on the workers. So a schedule may name only a task
an app declared schedulable (`scheduled_tasks_allow`, called next to the schedules the app creates), never a result
hook, and no argument that django-q2 reads as a queue option (`hook=`, `chain=`, ...). The admin offers only those
choices; below it a schedule row breaking the rules is refused on save, and every task is checked where it enters the
queue (the scheduler, a resubmitted failure): one whose function is not an AIMS task runs as a refusal instead.
"""

import ast
import logging
from importlib import import_module
from typing import Any

from django.core.exceptions import ValidationError

from aimsweb.roles import DOMAIN_APPS

logger = logging.getLogger(__name__)

# async_task() takes these keyword arguments (and q_options' keys) as queue options, not as the function's: a hook or
# a chain names another callable, and the others would move the task off its cluster or change how it runs.
QUEUE_OPTION_NAMES = frozenset(
    {
        "hook", "chain", "group", "save", "sync", "cached", "ack_failure", "iter_count", "iter_cached", "broker",
        "broker_name", "cluster", "timeout", "task_name", "q_options",
    }
)  # fmt: skip

_schedulable: set[str] = set()


def scheduled_tasks_allow(*funcs: str) -> None:
    """Declare tasks (dotted paths of functions in an app's `tasks` module) that a schedule may name."""
    _schedulable.update(funcs)


def _task_modules() -> list[str]:
    """The modules AIMS tasks live in; importing them runs every app's `scheduled_tasks_allow`."""
    names = [f"{app}.tasks" for app in DOMAIN_APPS]
    for name in names:
        try:
            import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
    return names


def scheduled_tasks() -> list[str]:
    """Every task a schedule may name, sorted."""
    _task_modules()
    return sorted(_schedulable)


def task_is_aims(func: str) -> bool:
    """Whether `func` is the dotted path of a function defined in an AIMS app's `tasks` module (never anything such
    a module merely imports, and no other module is imported to find out)."""
    module_name, _, name = func.rpartition(".")
    if module_name not in _task_modules():
        return False
    target = getattr(import_module(module_name), name, None)
    return callable(target) and getattr(target, "__module__", None) == module_name


def schedule_kwargs_parse(text: str) -> dict[str, Any]:
    """A schedule's keyword arguments as django-q2's scheduler reads them: a dict literal or `a=1, b='x'`."""
    try:
        value = ast.literal_eval(text)
    except (SyntaxError, ValueError):
        call = ast.parse(f"f({text})", mode="eval").body  # SyntaxError for text that is neither form
        if not isinstance(call, ast.Call) or call.args:
            raise ValueError("not keyword arguments") from None
        values: dict[str, Any] = {}
        for keyword in call.keywords:
            if keyword.arg is None:  # **mapping
                raise ValueError("not keyword arguments") from None
            values[keyword.arg] = ast.literal_eval(keyword.value)
        return values
    if not isinstance(value, dict):
        raise ValueError("not a dict")
    return value


def schedule_problems(
    *, func: str, hook: str | None, args: str | None, kwargs: str | None, intended_date_kwarg: str | None
) -> dict[str, str]:
    """What makes a schedule unsafe to run, by field (empty: it may be saved)."""
    problems = {}
    if func not in scheduled_tasks():
        problems["func"] = f"{func!r} is not a task AIMS schedules; choose one of: {', '.join(scheduled_tasks())}."
    if hook:
        problems["hook"] = "A schedule may not name a result hook."
    if args:
        try:
            ast.literal_eval(args)
        except (SyntaxError, ValueError):
            problems["args"] = "Arguments must be plain values (numbers, strings, lists), e.g. 1, 'name'."
    if kwargs:
        try:
            options = QUEUE_OPTION_NAMES.intersection(schedule_kwargs_parse(kwargs))
        except (SyntaxError, ValueError):
            problems["kwargs"] = "Keyword arguments must be plain values, e.g. days=7, name='x'."
        else:
            if options:
                problems["kwargs"] = f"Keyword arguments may not set queue options ({', '.join(sorted(options))})."
    if intended_date_kwarg in QUEUE_OPTION_NAMES:
        problems["intended_date_kwarg"] = f"{intended_date_kwarg!r} is a queue option, not a task argument."
    return problems


def schedule_refuse_unsafe(sender, instance, **kwargs) -> None:
    """pre_save of django-q2's Schedule: whatever writes the row (admin, shell, code), an unsafe one is not saved."""
    problems = schedule_problems(
        func=instance.func,
        hook=instance.hook,
        args=instance.args,
        kwargs=instance.kwargs,
        intended_date_kwarg=instance.intended_date_kwarg,
    )
    if problems:
        raise ValidationError(problems)


def task_refused(func: str) -> None:
    """What runs in place of a queued function that is not an AIMS task: a failure naming it."""
    raise PermissionError(f"{func!r} is not an AIMS task; refused")


def task_refuse_unlisted(sender, task: dict, **kwargs) -> None:
    """pre_enqueue of django-q2 (every task passes here before it is signed and queued): a function given by name
    must be an AIMS task, else the task becomes a refusal; AIMS queues no result hooks or chains, so any is dropped."""
    func = task["func"]
    if isinstance(func, str) and not task_is_aims(func):
        logger.warning("Refused to queue %r: not an AIMS task", func)
        task.update(func=f"{__name__}.task_refused", args=(func,), kwargs={})
    for option in ("hook", "chain"):
        if task.pop(option, None):
            logger.warning("Dropped the %s of queued task %r", option, func)
