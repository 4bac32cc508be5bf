"""Which Python functions the task queue may run.

Each app declares its periodic tasks in its own `schedules.py` (imported when the app is ready): a fixed schedule
(`schedule_declare`) or a family of schedules kept in step with rows (`schedule_family_declare`, e.g. one poll per
monitor). `schedules_sync` applies them all, idempotently, in one place (`manage.py sync_schedules`, and whenever
an app says its rows changed).

A django-q2 schedule is a row naming a function by its dotted path, and the cluster imports and calls whatever it
names: a form that can write `os.system` there runs shell commands on the workers. So a schedule may name only a task
an app declared (a declaration allows its function), never a result hook, and no argument that django-q2 reads as
a queue option (`hook=`, `chain=`, ...). The admin offers only those choices; below it a schedule row breaking the
rules is refused on save, and every task is checked where it enters the queue (the scheduler, a resubmitted
failure): one whose function is not an AIMS task runs as a refusal instead.
"""

import ast
import logging
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

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


@dataclass(frozen=True)
class Periodic:
    """One schedule row as AIMS wants it: a task function, every `minutes`, with positional arguments (a literal)."""

    name: str
    func: Callable[..., object]
    minutes: int = 1
    args: str = ""


_periodic: dict[str, Periodic] = {}
_families: dict[str, Callable[[], list[Periodic]]] = {}


def task_path(func: Callable[..., object]) -> str:
    """The dotted path django-q2 stores for a task function."""
    return f"{func.__module__}.{func.__qualname__}"


def schedule_declare(*, name: str, func: Callable[..., object], minutes: int = 1) -> None:
    """Declare a fixed periodic task of an app (from its schedules.py)."""
    _periodic[name] = Periodic(name=name, func=func, minutes=minutes)
    _schedulable.add(task_path(func))


def schedule_family_declare(*, prefix: str, func: Callable[..., object], wanted: Callable[[], list[Periodic]]) -> None:
    """Declare a family of schedules named `prefix…` running `func`: `wanted()` lists the rows there should be
    now; sync removes the family's others."""
    _families[prefix] = wanted
    _schedulable.add(task_path(func))


@transaction.atomic
def schedules_sync() -> dict[str, int]:
    """Make the task scheduler hold exactly the declared schedules (by name, so running this again, or on every
    start, never doubles one) and no other row of a declared family."""
    from django_q.models import Schedule  # django_q's models load after the apps' schedules.py are imported

    wanted = list(_periodic.values())
    removed = 0
    for prefix, family in _families.items():
        rows = family()
        if any(not row.name.startswith(prefix) for row in rows):
            raise ValueError(f"a schedule of family {prefix!r} must be named {prefix}…")
        stale = Schedule.objects.filter(name__startswith=prefix).exclude(name__in=[row.name for row in rows])
        removed += stale.delete()[0]
        wanted += rows
    for row in wanted:
        Schedule.objects.update_or_create(
            name=row.name,
            defaults={
                "func": task_path(row.func),
                "args": row.args or None,
                "schedule_type": Schedule.MINUTES,
                "minutes": row.minutes,
                "repeats": -1,
            },
        )
    return {"schedules": len(wanted), "removed": removed}


# Apps with tasks beyond the domain apps (their data is the Admins' or the callers' alone: not in DOMAIN_APPS).
INTEGRATION_APPS = ("webhooks", "tickets", "api")


def _task_modules() -> list[str]:
    """The modules AIMS tasks live in."""
    names = [f"{app}.tasks" for app in (*DOMAIN_APPS, *INTEGRATION_APPS)]
    for name in names:
        try:
            import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
    return names


def scheduled_tasks() -> list[str]:
    """Every task a schedule may name (those the apps declared), sorted."""
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
