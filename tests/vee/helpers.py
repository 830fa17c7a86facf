"""Synthetic channels for the VEE tests: a smooth, clean 15-minute load with a daily shape."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from cimmeter.model.identity import ObjectRef
from cimmeter.model.readings import ReadingBlock
from cimmeter.vee import ChannelInput, ChannelResult, VeeConfig, run_channel

FWD = "0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0"
NET = "0.0.2.4.4.1.12.0.0.0.0.0.0.0.0.3.72.0"
FWD_REG = "0.0.0.1.1.1.12.0.0.0.0.0.0.0.0.3.72.0"
START = int(datetime(2025, 3, 3, tzinfo=UTC).timestamp())  # a Monday
IV = 900
DAY = 86_400
METER = ObjectRef(mrid="m-1")


def load(days: int = 14, start: int = START, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Timestamps and kWh values: a daily shape, weekday/weekend alike, small noise, in Wh."""
    ts = np.arange(start + IV, start + days * DAY + 1, IV, dtype=np.int64)
    hour = ((ts - IV) % DAY) / 3600.0
    shape = 0.3 + 0.25 * np.sin((hour - 6) / 24 * 2 * np.pi) ** 2 + 0.2 * (hour > 17)
    rng = np.random.default_rng(seed)
    values = np.round(shape * (1 + 0.1 * rng.standard_normal(len(ts))), 3)
    return ts, np.maximum(values, 0.001)


def block(
    ts: np.ndarray, values: np.ndarray, rt: str = FWD, qualities=None, kind: str = "interval"
) -> ReadingBlock:  # type: ignore[no-untyped-def]
    return ReadingBlock.build(rt, ts, values, qualities, meter=METER, kind=kind)  # type: ignore[arg-type]


def run(
    ts: np.ndarray,
    values: np.ndarray,
    *,
    rt: str = FWD,
    start: int | None = None,
    end: int | None = None,
    now: int | None = None,
    config: VeeConfig | None = None,
    qualities=None,
    **kw: object,
) -> ChannelResult:  # type: ignore[no-untyped-def]
    kind = "register" if rt == FWD_REG else "interval"
    s = START if start is None else start
    e = int(ts.max()) if end is None else end
    inp = ChannelInput(
        block(ts, values, rt, qualities, kind), s, e, now if now is not None else e + DAY, **kw
    )  # type: ignore[arg-type]
    return run_channel(inp, config)


def fired(result: ChannelResult, rule: str) -> list[tuple[int, int, int]]:
    return [(f.start, f.end, f.count) for f in result.findings if f.rule == rule]


def rules_fired(result: ChannelResult) -> set[str]:
    return {f.rule for f in result.findings}
