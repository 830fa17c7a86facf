"""`GET /usage-points/{mrid}/greenbutton?start=&end=`: a Green Button feed over REST.

The feed is the one `cimmeter export greenbutton` writes (cimmeter.greenbutton), streamed as
`application/atom+xml` while it is generated (Starlette runs the generator in a worker thread).
Local days and DST rules use `timezone` (default UTC; the billing configuration of the server is
not known to the REST layer).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Path, Query
from fastapi.params import Depends
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import AwareDatetime

from cimmeter.billing import CalendarError
from cimmeter.billing.determinants import billing_config_from_mapping
from cimmeter.greenbutton.export import ExportOptions, FeedReader, iter_feed
from cimmeter.store.records import ObjectKind

ATOM_MEDIA_TYPE = "application/atom+xml"
MAX_RANGE = timedelta(days=400)
"""Longest range one request may export (as `ServiceConfig.max_time_range`)."""


def add_greenbutton_route(
    router: APIRouter, reader: Callable[[], FeedReader], dependencies: list[Depends]
) -> None:
    """Add the route to `router`; `reader` gives the read side at request time."""

    async def greenbutton(
        mrid: Annotated[str, Path(min_length=1)],
        start: Annotated[AwareDatetime, Query(description="exclusive: readings after this")],
        end: Annotated[AwareDatetime, Query(description="inclusive: readings up to this")],
        timezone: Annotated[str, Query(description="zone of local days and DST rules")] = "UTC",
    ) -> Response:
        if end <= start:
            return _problem(400, "bad time range", f"end {end} is not after start {start}")
        if end - start > MAX_RANGE or start.year < 1990 or end.year > 2100:
            return _problem(
                400,
                "bad time range",
                f"{start} .. {end}: expected at most {MAX_RANGE.days} days within 1990..2100",
            )
        try:
            config = billing_config_from_mapping({"timezone": timezone}, source="timezone")
        except CalendarError as exc:
            return _problem(400, "bad time zone", str(exc))
        source = reader()
        obj = await anyio.to_thread.run_sync(
            lambda: source.get_object(ObjectKind.USAGE_POINT, mrid)
        )
        if obj is None or obj.deleted:
            return _problem(404, "not found", f"no UsagePoint with mRID {mrid!r}")
        options = ExportOptions(
            start=start,
            end=end,
            billing=config,
            updated=datetime.now(UTC).replace(microsecond=0),
        )
        return StreamingResponse(iter_feed(source, [mrid], options), media_type=ATOM_MEDIA_TYPE)

    router.add_api_route(
        "/usage-points/{mrid}/greenbutton",
        greenbutton,
        methods=["GET"],
        dependencies=dependencies,
        tags=["readings"],
        summary="Green Button (ESPI Atom) feed of one of the usage points",
        response_class=Response,
        responses={
            200: {"content": {ATOM_MEDIA_TYPE: {}}, "description": "the ESPI Atom feed"},
            400: {"description": "bad time range or zone"},
            404: {"description": "no such usage point"},
        },
        operation_id="greenbutton_of_usage_points",
    )


def _problem(status: int, error: str, detail: str) -> Response:
    body: dict[str, Any] = {"error": error, "detail": detail}
    return JSONResponse(body, status)


__all__ = ["ATOM_MEDIA_TYPE", "add_greenbutton_route"]
