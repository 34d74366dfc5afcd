"""Process trees from /proc: peak resident memory (sampled while a run goes on) and CPU time,
of the measured server and of everything else on the machine (a shared box skews figures)."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

PROC = Path("/proc")
INTERVAL_S = 0.2
TICK_S = 1 / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class RssPeak:
    total_mb: float  # the largest sum over the tree seen in one sample
    process_mb: float  # the largest single process (one worker) seen


def _stat_fields(pid: int) -> list[str]:
    """/proc/<pid>/stat from field 3 (state) on; [] if the process is gone."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return []
    # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
    return stat[stat.rfind(")") + 2 :].split()


def _parent_map() -> dict[int, int]:
    parents: dict[int, int] = {}
    for entry in PROC.iterdir():
        fields = _stat_fields(int(entry.name)) if entry.name.isdigit() else []
        if fields:
            parents[int(entry.name)] = int(fields[1])
    return parents


def process_tree(root: int) -> list[int]:
    """`root` and all its descendants."""
    children: dict[int, list[int]] = {}
    for pid, parent in _parent_map().items():
        children.setdefault(parent, []).append(pid)
    tree, pending = [], [root]
    while pending:
        pid = pending.pop()
        tree.append(pid)
        pending.extend(children.get(pid, ()))
    return tree


def rss_kb(pid: int) -> int:
    try:
        for line in (PROC / str(pid) / "status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


class RssSampler:
    """Samples the tree under `root` every INTERVAL_S in a thread; `peak` once stopped.

    Usage::

        with RssSampler(proc.pid) as sampler:
            run_load()
        print(sampler.peak.total_mb)
    """

    def __init__(self, root: int, interval_s: float = INTERVAL_S) -> None:
        self._root = root
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="rss-sampler", daemon=True)
        self._total_kb = 0
        self._process_kb = 0

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    @property
    def peak(self) -> RssPeak:
        return RssPeak(self._total_kb / 1024, self._process_kb / 1024)

    def _loop(self) -> None:
        while True:
            self._sample()
            if self._stop.wait(self._interval_s):
                self._sample()
                return

    def _sample(self) -> None:
        sizes = [rss_kb(pid) for pid in process_tree(self._root)]
        self._total_kb = max(self._total_kb, sum(sizes))
        self._process_kb = max(self._process_kb, max(sizes, default=0))


def tree_cpu_s(root: int) -> float:
    """CPU seconds of `root` and its descendants, reaped children included (cutime, cstime)."""
    ticks = 0
    for pid in process_tree(root):
        fields = _stat_fields(pid)
        if len(fields) > 14:
            ticks += sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
    return ticks * TICK_S


def machine_busy_s() -> float:
    """CPU seconds all cores have spent busy since boot (/proc/stat, not idle or iowait)."""
    values = [int(v) for v in (PROC / "stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = values
    return (user + nice + system + irq + softirq + steal) * TICK_S


@dataclass(frozen=True, slots=True)
class CpuUse:
    server_cores: float  # the measured server's process tree
    other_cores: float  # processes the harness did not start (other users of the machine)


class CpuMeter:
    """CPU used during a block by the server's tree and by processes outside the harness's tree
    (the harness, nginx, wrk and the server are all descendants of the harness)."""

    def __init__(self, server_pid: int) -> None:
        self._server_pid = server_pid
        self._start = self._snapshot()
        self.use: CpuUse | None = None

    def _snapshot(self) -> tuple[float, float, float, float]:
        return (
            time.monotonic(),
            machine_busy_s(),
            tree_cpu_s(os.getpid()),
            tree_cpu_s(self._server_pid),
        )

    def stop(self) -> CpuUse:
        end = self._snapshot()
        elapsed, machine, ours, server = (b - a for a, b in zip(self._start, end, strict=True))
        elapsed = max(elapsed, 1e-6)
        self.use = CpuUse(server / elapsed, max(0.0, (machine - ours) / elapsed))
        return self.use


def background_cores(seconds: float = 1.0) -> float:
    """Cores kept busy by processes outside the harness's tree over `seconds`."""
    start_machine, start_ours = machine_busy_s(), tree_cpu_s(os.getpid())
    time.sleep(seconds)
    machine = machine_busy_s() - start_machine
    ours = tree_cpu_s(os.getpid()) - start_ours
    return max(0.0, (machine - ours) / seconds)
