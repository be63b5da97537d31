"""Where a benchmark phase's CPU went on this machine: server, PostgreSQL, Redis, load generator, the rest.

Read from /proc (Linux), so a benchmark can say what one request cost each part, not only how many were served.
The load generator's processes are counted when the benchmark has joined them (their time then shows in its own
``children`` times); the server is counted by its process tree, PostgreSQL and Redis by process name.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
PARTS = ("server", "postgres", "redis", "load", "other")


def _proc_ticks(pid: int) -> tuple[str, int, int]:
    """(command name, parent pid, user + system ticks) of one process."""
    with open(f"/proc/{pid}/stat") as stat:
        text = stat.read()
    name = text[text.index("(") + 1:text.rindex(")")]
    fields = text[text.rindex(")") + 2:].split()
    return name, int(fields[1]), int(fields[11]) + int(fields[12])


def _machine_ticks() -> tuple[int, int]:
    """(busy, idle) ticks of all cores; iowait counts as idle."""
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    idle = values[3] + values[4]
    return sum(values[:8]) - idle, idle


@dataclass
class Snapshot:
    parts: dict[str, int]
    busy: int
    idle: int


def snapshot(server_pid: int) -> Snapshot:
    processes = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                processes[int(entry)] = _proc_ticks(int(entry))
            except (OSError, ValueError):
                continue  # ended while we looked
    server_tree = {server_pid}
    for pid, (_, parent, _) in sorted(processes.items()):
        if parent in server_tree:
            server_tree.add(pid)
    parts = dict.fromkeys(PARTS, 0)
    for pid, (name, _, ticks) in processes.items():
        if pid in server_tree:
            parts["server"] += ticks
        elif name.startswith("postgres"):
            parts["postgres"] += ticks
        elif name.startswith("redis"):
            parts["redis"] += ticks
    own = os.times()
    parts["load"] = round((own.children_user + own.children_system) * TICKS)
    busy, idle = _machine_ticks()
    return Snapshot(parts, busy, idle)


def per_request(before: Snapshot, after: Snapshot, requests: int) -> dict[str, float]:
    """Milliseconds of CPU per request for each part, the machine's total, and the idle share."""
    spent = {part: (after.parts[part] - before.parts[part]) / TICKS for part in PARTS if part != "other"}
    busy = (after.busy - before.busy) / TICKS
    spent["other"] = max(busy - sum(spent.values()), 0.0)  # the kernel's network work, the rest of the machine
    figures = {part: 1000 * seconds / max(requests, 1) for part, seconds in spent.items()}
    figures["total"] = 1000 * busy / max(requests, 1)
    elapsed = (after.busy + after.idle - before.busy - before.idle) or 1
    figures["idle_share"] = (after.idle - before.idle) / elapsed
    return figures


def available() -> bool:
    return os.path.exists("/proc/stat")
