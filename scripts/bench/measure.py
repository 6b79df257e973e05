"""Whole-process measurement: wall time and peak resident memory of a command, over several runs.

Each run goes through `run-once` (scripts/bench/tools), a small Rust launcher that times the
command and reads its peak resident set from `getrusage(RUSAGE_CHILDREN)`. Linux keeps a
process's peak across `exec`, so a command forked straight from this Python process would carry
Python's own 15 MiB into every reading. Output goes to /dev/null, so terminal speed does not
count. A `prepare` callable runs before every run, untimed (an empty cache for the cold case).
`measure_many` takes turns between commands, so that their ratios survive a drifting load.
"""
from __future__ import annotations

import statistics
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

RUN_ONCE: Path | None = None  # set by the caller: the built run-once binary


@dataclass
class Result:
    name: str
    seconds: list[float] = field(default_factory=list)
    max_rss_kib: list[int] = field(default_factory=list)
    cpu_seconds: list[float] = field(default_factory=list)

    @property
    def median_cpu(self) -> float:
        """User plus system time over all threads (py2nix reads large locks on several)."""
        return statistics.median(self.cpu_seconds) if self.cpu_seconds else float("nan")

    @property
    def median_s(self) -> float:
        return statistics.median(self.seconds)

    @property
    def median_mib(self) -> float:
        return statistics.median(self.max_rss_kib) / 1024

    def as_json(self) -> dict:
        return {
            "name": self.name,
            "median_s": self.median_s,
            "median_mib": self.median_mib,
            "seconds": self.seconds,
            "max_rss_kib": self.max_rss_kib,
            "median_cpu_s": self.median_cpu,
            "cpu_seconds": self.cpu_seconds,
        }


class CommandFailed(RuntimeError):
    pass


def run_once(argv, cwd=None, env=None) -> tuple[float, int, float]:
    assert RUN_ONCE is not None, "measure.RUN_ONCE is not set"
    proc = subprocess.run(
        [str(RUN_ONCE), *map(str, argv)],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    err = proc.stderr.decode(errors="replace")
    if proc.returncode != 0:
        raise CommandFailed(f"{' '.join(map(str, argv))} exited {proc.returncode}:\n{err[-3000:]}")
    seconds, rss, cpu = err.strip().splitlines()[-1].split()
    return float(seconds), int(rss), float(cpu)


def measure(name, argv, runs=7, warmup=1, prepare=None, cwd=None, env=None) -> Result:
    """Runs `argv` `warmup` times unmeasured, then `runs` times measured."""
    result = Result(name)
    for i in range(warmup + runs):
        if prepare:
            prepare()
        elapsed, rss, cpu = run_once(argv, cwd=cwd, env=env)
        if i >= warmup:
            result.seconds.append(elapsed)
            result.max_rss_kib.append(rss)
            result.cpu_seconds.append(cpu)
    return result


def measure_many(specs, runs=7, warmup=1, cwd=None, env=None) -> list[Result]:
    """Measures several commands in turns: run i of every command before run i+1 of any, so a
    change in the machine's load while they run hits all of them alike and their ratios hold.

    `specs` are `(name, argv, prepare or None)`.
    """
    results = [Result(name) for name, _, _ in specs]
    for i in range(warmup + runs):
        for (name, argv, prepare), result in zip(specs, results):
            if prepare:
                prepare()
            elapsed, rss, cpu = run_once(argv, cwd=cwd, env=env)
            if i >= warmup:
                result.seconds.append(elapsed)
                result.max_rss_kib.append(rss)
                result.cpu_seconds.append(cpu)
    return results

