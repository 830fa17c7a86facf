"""The `vee.run` job: VEE over what an ingest stored, run by the MDM's `tick` in its own
transaction after the ingest committed (never in the ingest's hot path)."""

from __future__ import annotations

from datetime import datetime

from cimmeter.service.core import JobContext
from cimmeter.vee.runner import RunSummary, load_config, run_meters, select_meters


def run_vee_job(ctx: JobContext) -> RunSummary:
    payload = ctx.job.payload
    start = datetime.fromisoformat(str(payload["start"]))
    end = datetime.fromisoformat(str(payload["end"]))
    meters = payload.get("meters")
    chosen = list(meters) if meters else select_meters(ctx.tx, at=end)
    summary = RunSummary()
    run_meters(ctx.tx, chosen, start, end, ctx.now, load_config(ctx.tx, None), summary)
    return summary
