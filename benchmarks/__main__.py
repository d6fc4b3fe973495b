"""Run every benchmark and print each figure with its ratio to a baseline measured in the same run.

Usage: ``python -m benchmarks [NAME ...] [--repeat N]``.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from benchmarks import (
    bench_app,
    bench_beyond,
    bench_borough,
    bench_county,
    bench_load,
    bench_national,
    bench_network,
    bench_print,
    bench_store,
)


@dataclass
class Result:
    name: str
    seconds: float
    baseline_name: str
    baseline_seconds: float
    target: str

    def line(self) -> str:
        ratio = self.seconds / self.baseline_seconds if self.baseline_seconds else float("nan")
        return (
            f"{self.name:<42} {self.seconds * 1000:9.1f} ms   baseline {self.baseline_name:<34} "
            f"{self.baseline_seconds * 1000:9.1f} ms   ratio {ratio:6.2f}   target {self.target}"
        )


def timed(fn: Callable[[], object], repeat: int) -> float:
    """Return the median wall time of ``repeat`` calls, after one warm-up call."""
    fn()
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def interleaved(jobs: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """Median seconds of each job over ``repeat`` rounds, after one warm-up call of each.

    The jobs take turns within each round, so that a slow spell of a shared machine hits them all alike.
    """
    for job in jobs.values():
        job()
    times: dict[str, list[float]] = {name: [] for name in jobs}
    for _ in range(repeat):
        for name, job in jobs.items():
            gc.collect()
            start = time.perf_counter()
            job()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


SUITES: dict[str, Callable[[int], list[Result]]] = {
    "load": bench_load.run,
    "borough": bench_borough.run,
    "network": bench_network.run,
    "national": bench_national.run,
    "store": bench_store.run,
    "app": bench_app.run,
    "print": bench_print.run,
    "county": bench_county.run,
    "beyond": bench_beyond.run,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("names", nargs="*", choices=[*SUITES, []], help="suites to run (default: all)")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    for name in args.names or list(SUITES):
        for result in SUITES[name](args.repeat):
            print(result.line(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
