"""Helpers shared by the benchmarks: run a function in a fresh process, report time and peak RSS."""

from __future__ import annotations

import multiprocessing as mp
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Measure:
    label: str
    seconds: float
    items: int
    peak_rss_mb: float

    @property
    def rate(self) -> float:
        return self.items / self.seconds if self.seconds > 0 else float("inf")


def _child(fn: Callable[..., int], args: tuple[Any, ...], queue: Any) -> None:
    start = time.perf_counter()
    items = fn(*args)
    seconds = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    queue.put((seconds, items, peak_kb / 1024.0))


def in_process(label: str, fn: Callable[..., int], *args: Any) -> Measure:
    """Run `fn(*args)` (which returns the number of items it handled) in a fresh process, so
    peak RSS is its own; `fn` and `args` must be picklable (module-level functions)."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(fn, args, queue))
    proc.start()
    seconds, items, rss = queue.get()
    proc.join()
    return Measure(label, seconds, items, rss)


def best_of(runs: int, label: str, fn: Callable[..., int], *args: Any) -> Measure:
    """The fastest of `runs` fresh-process runs (the machine is noisy); RSS of that run."""
    results = [in_process(label, fn, *args) for _ in range(runs)]
    return min(results, key=lambda m: m.seconds)


def table(measures: list[Measure], *, unit: str, reference: str | None = None) -> str:
    """A plain-text table of rates, peak RSS and ratios to `reference` (a label)."""
    ref = next((m for m in measures if m.label == reference), None)
    lines = [f"{'way':<48} {unit + '/s':>14} {'peak RSS MB':>12} {'ratio':>8}"]
    for m in measures:
        ratio = f"{m.rate / ref.rate:8.2f}" if ref else ""
        lines.append(f"{m.label:<48} {m.rate:14,.0f} {m.peak_rss_mb:12.0f} {ratio}")
    return "\n".join(lines)
