"""REST/JSON: `POST /messages` and the resource routes a developer expects (FastAPI, OpenAPI).

REST and JSON are a cimmeter extension: no edition of 61968-100 defines them (digest 6.10).

- `POST /messages` takes any 61968-100 message as XML (generic, typed, or in SOAP) or in the
  JSON form (`cimmeter.message.json`), by Content-Type, and answers the Reply in the same
  syntax (or the one `Accept` asks for). A message refused before the handler (not
  well-formed, no Header/Verb/Noun, unknown operation) gets 400 with a FaultMessage.
- `GET /meters`, `/meters/{mrid}`, `/meters/{mrid}/readings`, `/usage-points`,
  `/usage-points/{mrid}`, `/usage-points/{mrid}/readings`, `GET /events`: keyset pagination
  with `limit` and an opaque `after` cursor (`next` in the body, `Link: rel="next"`); reading
  sets stream as JSON, NDJSON or CSV (`Accept` or `format=`).
- `POST /controls`: an EndDeviceControls document (JSON form) sent as `create
  EndDeviceControls`; `Idempotency-Key` becomes the MessageID, so a retry is not applied twice.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

import anyio.to_thread
from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AwareDatetime, BaseModel, Field

from cimmeter.message.envelope import FaultMessage, Header, Payload, RequestMessage
from cimmeter.message.json import JsonInputError, from_json, to_json
from cimmeter.message.verbs import Verb
from cimmeter.model.base import CimDocument
from cimmeter.model.end_device_controls import EndDeviceControls
from cimmeter.store.base import EventQuery, ReadingQuery
from cimmeter.store.records import ObjectKind
from cimmeter.transport.dispatch import Dispatcher, HandlerCrashed
from cimmeter.transport.handler import (
    FAULT_HTTP_STATUS,
    JSON_CONTENT_TYPE,
    Rendered,
    render,
    render_fault,
)
from cimmeter.transport.http.auth import BearerAuth
from cimmeter.transport.http.greenbutton import add_greenbutton_route
from cimmeter.transport.inbound import EnvelopeError, Syntax, receive
from cimmeter.transport.read_side import (
    READING_MEDIA_TYPES,
    CursorError,
    ReadingCursor,
    ReadingFormat,
    ReadingPage,
    ReadSide,
    VeeReadSide,
    decode_event_cursor,
    event_cursor,
    event_view,
    object_view,
    page_readings,
    readings_csv,
    readings_json,
    readings_ndjson,
)
from cimmeter.xml.errors import XmlInputError
from cimmeter.xml.safe import XmlLimits

# -- response models (for the OpenAPI document; routes write JSON directly) ----------------------


class Problem(BaseModel):
    error: str
    detail: str


class NameOut(BaseModel):
    name: str
    nameType: str | None = None
    nameTypeAuthority: str | None = None


class ObjectOut(BaseModel):
    mRID: str
    kind: str
    names: list[NameOut]
    serialNumber: str | None = None
    status: str | None = None
    version: int
    updatedAt: str | None = None
    deleted: bool
    document: dict[str, Any] = Field(description="the object in the cimmeter JSON form")


class ObjectPage(BaseModel):
    items: list[ObjectOut]
    next: str | None = Field(None, description="cursor of the next page: pass as `after`")


class ReadingOut(BaseModel):
    timestamp: str = Field(description="end of the interval, ISO 8601 UTC with Z")
    value: float | str = Field(description="a number, or NaN/Infinity/-Infinity as a string")
    quality: list[str] = Field(description="ReadingQualityType codes")


class SeriesOut(BaseModel):
    meter: str | None
    usagePoint: str | None
    readingType: str
    kind: Literal["interval", "register"]
    readings: list[ReadingOut]


class ReadingsOut(BaseModel):
    meter: str | None = None
    usagePoint: str | None = None
    start: str | None = None
    end: str | None = None
    series: list[SeriesOut]
    count: int
    next: str | None = None


class EventOut(BaseModel):
    mRID: str
    type: str
    createdDateTime: str
    device: str | None = None
    usagePoint: str | None = None
    reason: str | None = None
    severity: str | None = None
    issuerID: str | None = None
    details: dict[str, str]
    correlationID: str | None = None


class VeeFindingOut(BaseModel):
    meter: str
    readingType: str
    rule: str
    start: str
    end: str
    count: int
    reason: str
    quality: str
    actor: str | None = None


class VeeFindingsOut(BaseModel):
    usagePoint: str
    findings: list[VeeFindingOut]


class VeeReportOut(BaseModel):
    period: str
    usagePoints: list[dict[str, Any]]


class EventPage(BaseModel):
    items: list[EventOut]
    next: str | None = None


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    roles: list[str]
    checks: dict[str, str] = {}


_XML_TYPES = ("application/xml", "text/xml", "application/soap+xml")
_MESSAGE_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "description": "a message in the cimmeter JSON form (schema: /schema/message.json)",
            }
        },
        "application/xml": {
            "schema": {"type": "string", "description": "a 61968-100 message as XML"}
        },
    },
}
_MESSAGE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "the Reply (Result OK, PARTIAL or FAILED), in the request's syntax",
        "content": {
            "application/json": {"schema": {"type": "object"}},
            "application/xml": {"schema": {"type": "string"}},
        },
    },
    400: {"description": "refused: a FaultMessage (not well-formed, no Header/Verb/Noun, ...)"},
    401: {"description": "missing or wrong bearer token", "model": Problem},
    413: {"description": "request body too large"},
}
_READING_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "the readings: JSON (streamed), NDJSON or CSV",
        "model": ReadingsOut,
        "content": {
            "application/x-ndjson": {"schema": {"type": "string"}},
            "text/csv": {"schema": {"type": "string"}},
        },
    },
    400: {"model": Problem},
    401: {"model": Problem},
    404: {"model": Problem},
}

MaxLimit = 100_000
_BEARER = HTTPBearer(
    auto_error=False, description="the server's token (serve --token or CIMMETER_TOKEN)"
)


class RestApi:
    """The REST routes of a server: messages per role, resources from the read side."""

    def __init__(
        self,
        dispatchers: dict[str, Dispatcher],
        read_side: ReadSide | None,
        auth: BearerAuth,
        limits: XmlLimits,
        health: Callable[[], dict[str, str]] | None = None,
    ) -> None:
        self.dispatchers = dispatchers
        self.read_side = read_side
        self.auth = auth
        self.limits = limits
        self.health_checks = health

    def router(self) -> APIRouter:
        router = APIRouter()
        authed = [Depends(self._require_token)]
        router.add_api_route(
            "/health", self.health, methods=["GET"], response_model=Health, tags=["server"]
        )
        for prefix in self.dispatchers:
            router.add_api_route(
                f"{prefix}/messages",
                self._messages_route(prefix),
                methods=["POST"],
                dependencies=authed,
                tags=["messages"],
                summary=f"Send any 61968-100 message{' to the head-end' if prefix else ''}",
                response_class=Response,
                responses=_MESSAGE_RESPONSES,
                openapi_extra={"requestBody": _MESSAGE_BODY},
                operation_id=f"post_messages{prefix.replace('/', '_')}",
            )
        router.add_api_route(
            "/schema/message.json",
            self.message_schema,
            methods=["GET"],
            tags=["messages"],
            summary="JSON Schema of the cimmeter JSON form of messages",
        )
        router.add_api_route(
            "/controls",
            self.controls,
            methods=["POST"],
            dependencies=authed,
            tags=["controls"],
            summary="Send EndDeviceControls (create EndDeviceControls)",
            response_class=Response,
            responses=_MESSAGE_RESPONSES,
        )
        if self.read_side is None:
            return router
        for path, kind, name in (
            ("/meters", ObjectKind.METER, "meters"),
            ("/usage-points", ObjectKind.USAGE_POINT, "usage points"),
        ):
            router.add_api_route(
                path,
                self._list_route(kind),
                methods=["GET"],
                dependencies=authed,
                tags=["resources"],
                summary=f"List {name}",
                response_model=ObjectPage,
                responses={400: {"model": Problem}, 401: {"model": Problem}},
                operation_id=f"list_{name.replace(' ', '_')}",
            )
            router.add_api_route(
                f"{path}/{{mrid}}",
                self._get_route(kind),
                methods=["GET"],
                dependencies=authed,
                tags=["resources"],
                summary=f"One of the {name}",
                response_model=ObjectOut,
                responses={401: {"model": Problem}, 404: {"model": Problem}},
                operation_id=f"get_{name.replace(' ', '_')}",
            )
            router.add_api_route(
                f"{path}/{{mrid}}/readings",
                self._readings_route(kind),
                methods=["GET"],
                dependencies=authed,
                tags=["readings"],
                summary=f"Readings of one of the {name}",
                response_model=None,
                responses=_READING_RESPONSES,
                operation_id=f"readings_of_{name.replace(' ', '_')}",
            )
        add_greenbutton_route(router, self._read, authed)
        router.add_api_route(
            "/events",
            self.events,
            methods=["GET"],
            dependencies=authed,
            tags=["resources"],
            summary="End device events",
            response_model=EventPage,
            responses={400: {"model": Problem}, 401: {"model": Problem}},
        )
        if isinstance(self.read_side, VeeReadSide):
            router.add_api_route(
                "/usage-points/{mrid}/vee",
                self.vee_findings,
                methods=["GET"],
                dependencies=authed,
                tags=["vee"],
                summary="VEE findings of a usage point: rules, estimates, edits (issue 10)",
                response_model=VeeFindingsOut,
                responses={
                    400: {"model": Problem},
                    401: {"model": Problem},
                    404: {"model": Problem},
                },
            )
            router.add_api_route(
                "/vee/report",
                self.vee_report,
                methods=["GET"],
                dependencies=authed,
                tags=["vee"],
                summary="Per usage point: % actual, estimated, edited, missing; rules fired",
                response_model=VeeReportOut,
                responses={400: {"model": Problem}, 401: {"model": Problem}},
            )
        return router

    # -- VEE ------------------------------------------------------------------------------------

    async def vee_findings(
        self,
        mrid: Annotated[str, Path(min_length=1)],
        start: Annotated[AwareDatetime | None, Query()] = None,
        end: Annotated[AwareDatetime | None, Query()] = None,
    ) -> Response:
        side = self.read_side
        assert isinstance(side, VeeReadSide)
        if start is not None and end is not None and end < start:
            return _problem(400, "bad time range", f"end {end} is before start {start}")
        found = await anyio.to_thread.run_sync(
            lambda: self._read().get_object(ObjectKind.USAGE_POINT, mrid)
        )
        if found is None or found.deleted:
            return _problem(404, "not found", f"no UsagePoint with mRID {mrid!r}")
        items = await anyio.to_thread.run_sync(lambda: side.vee_findings(mrid, start, end))
        return JSONResponse({"usagePoint": mrid, "findings": items})

    async def vee_report(
        self, period: Annotated[str, Query(description="YYYY-MM or YYYY-MM-DD (UTC)")]
    ) -> Response:
        side = self.read_side
        assert isinstance(side, VeeReadSide)
        try:
            rows = await anyio.to_thread.run_sync(lambda: side.vee_report(period))
        except ValueError as exc:
            return _problem(400, "bad period", str(exc))
        return JSONResponse({"period": period, "usagePoints": rows})

    # -- auth, health ---------------------------------------------------------------------------

    async def _require_token(
        self,
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)],
    ) -> None:
        # `credentials` only declares the scheme in the OpenAPI document; BearerAuth decides.
        if not self.auth.check(request):
            raise HTTPException(
                401,
                detail="missing or wrong bearer token (Authorization: Bearer <token>)",
                headers={"WWW-Authenticate": 'Bearer realm="cimmeter"'},
            )

    async def health(self) -> dict[str, Any]:
        checks = self.health_checks() if self.health_checks else {}
        status = "ok" if all(v == "ok" for v in checks.values()) else "degraded"
        roles = [d.role.value for d in self.dispatchers.values()]
        return {"status": status, "roles": roles, "checks": checks}

    async def message_schema(self) -> Response:
        from cimmeter.message.json import json_schema

        return JSONResponse(json_schema())

    # -- messages -------------------------------------------------------------------------------

    def _messages_route(self, prefix: str) -> Callable[[Request], Any]:
        dispatcher = self.dispatchers[prefix]

        async def post_message(request: Request) -> Response:
            content_type = request.headers.get("content-type", "").lower()
            syntax: Syntax = "json" if "json" in content_type else "xml"
            if syntax == "xml" and content_type and not any(t in content_type for t in _XML_TYPES):
                return _problem(
                    415,
                    "unsupported media type",
                    f"Content-Type {content_type!r}: send application/json or application/xml",
                )
            answer_syntax = _accepted_syntax(request.headers.get("accept", ""), syntax)
            body = await request.body()
            return await self._answer(dispatcher, body, syntax, answer_syntax, "http")

        return post_message

    async def _answer(
        self,
        dispatcher: Dispatcher,
        body: bytes,
        syntax: Syntax,
        answer_syntax: Syntax,
        endpoint: str,
    ) -> Response:
        try:
            inbound = receive(
                body,
                syntax,
                role=dispatcher.role,
                via="http",
                endpoint=endpoint,
                limits=self.limits,
            )
        except EnvelopeError as error:
            return _rendered(render_fault(error, answer_syntax), FAULT_HTTP_STATUS[error.fault])
        try:
            answer = await dispatcher.answer(inbound)
        except HandlerCrashed:
            return _problem(500, "internal error", "the message was not processed; retry later")
        envelope = inbound.envelope if answer_syntax == syntax else None
        rendered = render(answer, answer_syntax, envelope=envelope)
        status = 400 if isinstance(answer, FaultMessage) else 200
        return _rendered(rendered, status)

    async def controls(self, request: Request) -> Response:
        root = self.dispatchers[next(iter(self.dispatchers))]
        body = await request.body()
        try:
            data = json.loads(body)
            document = _controls_document(data)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            return _problem(400, "not valid JSON", str(exc))
        except XmlInputError as exc:
            return _problem(400, "not an EndDeviceControls document", exc.one_line())
        key = request.headers.get("idempotency-key")
        message = RequestMessage(
            header=Header(
                verb=Verb.create,
                noun="EndDeviceControls",
                source=request.headers.get("x-source") or "rest",
                message_id=key or str(uuid.uuid4()),
                correlation_id=key or None,
            ),
            payload=Payload(document=document),
        )
        raw = json.dumps(to_json(message)).encode()
        return await self._answer(root, raw, "json", "json", "controls")

    # -- resources ------------------------------------------------------------------------------

    def _read(self) -> ReadSide:
        assert self.read_side is not None
        return self.read_side

    def _list_route(self, kind: ObjectKind) -> Callable[..., Any]:
        async def list_objects(
            request: Request,
            limit: Annotated[int, Query(ge=1, le=1000)] = 100,
            after: Annotated[
                str | None, Query(description="cursor: `next` of the last page")
            ] = None,
        ) -> Response:
            items = await anyio.to_thread.run_sync(
                lambda: self._read().list_objects(kind, after_mrid=after, limit=limit + 1)
            )
            more = len(items) > limit
            items = items[:limit]
            next_cursor = items[-1].mrid if more and items else None
            body = {"items": [object_view(o) for o in items], "next": next_cursor}
            return JSONResponse(body, headers=_link(request, next_cursor))

        return list_objects

    def _get_route(self, kind: ObjectKind) -> Callable[..., Any]:
        async def get_object(mrid: Annotated[str, Path(min_length=1)]) -> Response:
            obj = await anyio.to_thread.run_sync(lambda: self._read().get_object(kind, mrid))
            if obj is None or obj.deleted:
                return _problem(404, "not found", f"no {kind.value} with mRID {mrid!r}")
            return JSONResponse(object_view(obj))

        return get_object

    def _readings_route(self, kind: ObjectKind) -> Callable[..., Any]:
        async def readings(
            request: Request,
            mrid: Annotated[str, Path(min_length=1)],
            start: Annotated[
                AwareDatetime | None, Query(description="exclusive: readings after this time")
            ] = None,
            end: Annotated[
                AwareDatetime | None, Query(description="inclusive: readings up to this time")
            ] = None,
            reading_type: Annotated[
                list[str] | None, Query(alias="readingType", description="18-field codes")
            ] = None,
            series: Annotated[Literal["raw", "final", "best"], Query()] = "best",
            limit: Annotated[int | None, Query(ge=1, le=MaxLimit * 10)] = None,
            after: Annotated[
                str | None, Query(description="cursor: `next` of the last page")
            ] = None,
            format: Annotated[ReadingFormat | None, Query(description="overrides Accept")] = None,
        ) -> Response:
            if start is not None and end is not None and end < start:
                return _problem(400, "bad time range", f"end {end} is before start {start}")
            try:
                cursor = ReadingCursor.decode(after) if after else None
            except CursorError as exc:
                return _problem(400, "bad cursor", str(exc))
            obj = await anyio.to_thread.run_sync(lambda: self._read().get_object(kind, mrid))
            if obj is None:
                return _problem(404, "not found", f"no {kind.value} with mRID {mrid!r}")
            by = {"meters": (mrid,)} if kind == ObjectKind.METER else {"usage_points": (mrid,)}
            query = ReadingQuery(
                reading_types=tuple(reading_type or ()),
                start=start,
                end=end,
                series=series,
                **by,  # type: ignore[arg-type]
            )
            page: ReadingPage = await anyio.to_thread.run_sync(
                lambda: page_readings(self._read().read_readings(query), after=cursor, limit=limit)
            )
            chosen = format or _reading_format(request.headers.get("accept", ""))
            head = {
                "meter" if kind == ObjectKind.METER else "usagePoint": mrid,
                "start": start.isoformat() if start else None,
                "end": end.isoformat() if end else None,
            }
            chunks: Iterator[bytes]
            if chosen == "csv":
                chunks = readings_csv(page)
            elif chosen == "ndjson":
                chunks = readings_ndjson(page)
            else:
                chunks = readings_json(page, head)
            next_cursor = page.next.encode() if page.next else None
            return StreamingResponse(
                _aiter(chunks),
                media_type=READING_MEDIA_TYPES[chosen],
                headers=_link(request, next_cursor),
            )

        return readings

    async def events(
        self,
        request: Request,
        device: Annotated[list[str] | None, Query(description="EndDevice mRIDs")] = None,
        usage_point: Annotated[list[str] | None, Query(alias="usagePoint")] = None,
        event_type: Annotated[
            list[str] | None, Query(alias="type", description="codes; `*` matches a field")
        ] = None,
        start: Annotated[AwareDatetime | None, Query()] = None,
        end: Annotated[AwareDatetime | None, Query()] = None,
        limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
        after: Annotated[str | None, Query(description="cursor: `next` of the last page")] = None,
    ) -> Response:
        if start is not None and end is not None and end < start:
            return _problem(400, "bad time range", f"end {end} is before start {start}")
        cut: tuple[str, str] | None = None
        if after:
            try:
                cut = decode_event_cursor(after)
                cut_time = datetime.fromisoformat(cut[0])
            except (CursorError, ValueError) as exc:
                return _problem(400, "bad cursor", str(exc))
            # Half-open ranges (start, end]: start just before the cursor's time, then skip
            # what the last page already had (ties on the same instant included).
            start = (
                max(start, cut_time - timedelta(microseconds=1))
                if start
                else (cut_time - timedelta(microseconds=1))
            )
        query = EventQuery(
            devices=tuple(device or ()),
            usage_points=tuple(usage_point or ()),
            type_patterns=tuple(event_type or ()),
            start=start,
            end=end,
            limit=limit + 1 + (1000 if cut else 0),
        )
        found = await anyio.to_thread.run_sync(lambda: self._read().query_events(query))
        found.sort(key=lambda e: (e.created, e.mrid))
        if cut is not None:
            cut_key = (datetime.fromisoformat(cut[0]), cut[1])
            found = [e for e in found if (e.created, e.mrid) > cut_key]
        more = len(found) > limit
        found = found[:limit]
        next_cursor = event_cursor(found[-1]) if more and found else None
        body = {"items": [event_view(e) for e in found], "next": next_cursor}
        return JSONResponse(body, headers=_link(request, next_cursor))


def _controls_document(data: Any) -> CimDocument:
    if isinstance(data, dict) and "EndDeviceControls" not in data:
        data = {"EndDeviceControls": data}
    document = from_json(data)
    if not isinstance(document, EndDeviceControls):
        raise JsonInputError(
            "expected an EndDeviceControls document",
            path="/",
            expected='{"EndDeviceControls": {"EndDeviceControl": [...]}}',
        )
    return document


def _accepted_syntax(accept: str, default: Syntax) -> Syntax:
    accept = accept.lower()
    wants_json = "application/json" in accept
    wants_xml = any(t in accept for t in _XML_TYPES)
    if wants_json and not wants_xml:
        return "json"
    if wants_xml and not wants_json:
        return "xml"
    return default


def _reading_format(accept: str) -> ReadingFormat:
    accept = accept.lower()
    if "text/csv" in accept:
        return "csv"
    if "ndjson" in accept:
        return "ndjson"
    return "json"


def _link(request: Request, cursor: str | None) -> dict[str, str]:
    """`Link: <same query, after=cursor>; rel="next"` (RFC 8288) when there is a next page."""
    if cursor is None:
        return {}
    return {"Link": f'<{request.url.include_query_params(after=cursor)}>; rel="next"'}


def _problem(status: int, error: str, detail: str) -> Response:
    return JSONResponse({"error": error, "detail": detail}, status)


def _rendered(rendered: Rendered, status: int) -> Response:
    return Response(rendered.body, status, media_type=rendered.content_type)


async def _aiter(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


__all__ = ["JSON_CONTENT_TYPE", "RestApi"]
