"""CPU time spent by each part of the stack during a bench, read from /proc (Linux): user + system time of every
process in a group, so that a figure per processed failure can be printed beside a latency."""

import os
from dataclasses import dataclass, field

TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[str, int, float] | None:
    """(command name, session id, CPU seconds) of a process, None when it has gone."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            text = handle.read()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    name = text[text.index("(") + 1 : text.rindex(")")]
    fields = text[text.rindex(")") + 2 :].split()
    # After the name: state(0) ppid(1) pgrp(2) session(3) ... utime(11) stime(12)
    return name, int(fields[3]), (int(fields[11]) + int(fields[12])) / TICKS


def _machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot."""
    with open("/proc/stat") as handle:
        values = [int(v) for v in handle.readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])  # without guest time, already counted in user
    return (total - idle) / TICKS, total / TICKS


@dataclass
class CpuMeter:
    """Groups: a name to the session ids whose processes it sums, or to a command name (e.g. "postgres")."""

    sessions: dict[str, int] = field(default_factory=dict)
    commands: dict[str, str] = field(default_factory=dict)
    pids: dict[str, int] = field(default_factory=dict)

    def snapshot(self) -> dict[str, float]:
        totals = dict.fromkeys([*self.sessions, *self.commands, *self.pids], 0.0)
        by_session = {sid: name for name, sid in self.sessions.items()}
        by_command = {command: name for name, command in self.commands.items()}
        by_pid = {pid: name for name, pid in self.pids.items()}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            pid = int(entry)
            found = _stat(pid)
            if found is None:
                continue
            command, session, seconds = found
            group = by_pid.get(pid) or by_session.get(session) or by_command.get(command)
            if group:
                totals[group] += seconds
        busy, total = _machine_busy()
        totals["machine busy"] = busy
        totals["machine total"] = total
        return totals


def cpu_report(before: dict[str, float], after: dict[str, float], processed: int) -> list[str]:
    """Lines: CPU milliseconds per processed failure by group, and the machine's busy share over the interval."""
    lines = []
    wall_cpu = after["machine total"] - before["machine total"]
    busy = after["machine busy"] - before["machine busy"]
    for name in before:
        if name.startswith("machine"):
            continue
        spent = after[name] - before[name]
        per = f"{spent * 1000 / processed:.1f} ms per failure" if processed else "no failure processed"
        lines.append(f"  {name}: {spent:.1f} s CPU, {per}")
    if wall_cpu:
        lines.append(f"  machine: {busy / wall_cpu:.0%} busy over {os.cpu_count()} cores")
    return lines
