"""SOAP 1.1 and 1.2 endpoints, on plain Starlette routes (DECISIONS.md).

- `POST <prefix>/soap/<Service>` (e.g. `/soap/SendMeterReadings`) and `POST <prefix>/soap`:
  the SOAP version comes from the content type (`text/xml` 1.1, `application/soap+xml` 1.2),
  the operation from the body's root element; any SOAPAction is accepted (digest 6.9). The
  service name is passed to the handler as the endpoint (an event and an async reply share
  their action; the endpoint tells them apart).
- `GET <prefix>/soap/<Service>?wsdl`: the generated WSDL, its address the URL it was fetched
  from; `GET <prefix>/soap/xsd/<File>.xsd`: our schemas, which the WSDL imports.

Answers: 200 with the Reply (typed wrapper for a typed request, generic otherwise); a SOAP
Fault only for what `cimmeter.transport.inbound` refuses or the handler finds unusable, with
HTTP 500 (SOAP 1.1) or 400 (1.2, Sender), 401 when the token is missing or wrong.
"""

from __future__ import annotations

from typing import Any

from lxml import etree
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from cimmeter.message.envelope import FaultMessage
from cimmeter.transport.dispatch import Dispatcher, HandlerCrashed
from cimmeter.transport.handler import Rendered, render, render_fault, soap_fault
from cimmeter.transport.http.auth import BearerAuth
from cimmeter.transport.http.wsdl import service_by_name, services, wsdl_document
from cimmeter.transport.inbound import EnvelopeError, FaultReason, receive
from cimmeter.xml.safe import XmlLimits
from cimmeter.xml.soap import SOAP_CONTENT_TYPES, SoapVersion
from cimmeter.xml.validation import XSD_DIR

_FAULT_STATUS: dict[SoapVersion, int] = {"1.1": 500, "1.2": 400}


def soap_version_of(content_type: str) -> SoapVersion:
    return "1.2" if "application/soap+xml" in content_type.lower() else "1.1"


class SoapEndpoints:
    """The SOAP routes of one role, mounted under `prefix` ("" or "/headend")."""

    def __init__(
        self, prefix: str, dispatcher: Dispatcher, auth: BearerAuth, limits: XmlLimits
    ) -> None:
        self.prefix = prefix
        self.dispatcher = dispatcher
        self.auth = auth
        self.limits = limits
        self.schema_files = {p.name for p in XSD_DIR.glob("*.xsd")}

    def routes(self) -> list[Route]:
        base = f"{self.prefix}/soap"
        return [
            Route(f"{base}/xsd/{{name}}", self.schema, methods=["GET"]),
            Route(base, self.post, methods=["POST"]),
            Route(f"{base}/{{service}}", self.post, methods=["POST"]),
            Route(f"{base}/{{service}}", self.describe, methods=["GET"]),
            Route(base, self.index, methods=["GET"]),
        ]

    async def post(self, request: Request) -> Response:
        version = soap_version_of(request.headers.get("content-type", ""))
        service = request.path_params.get("service")
        if service is not None and service_by_name(service) is None:
            return _fault(
                EnvelopeError(
                    FaultReason.UNKNOWN_OPERATION,
                    f"no SOAP service {service}",
                    expected=f"one of the services listed at {self.prefix}/soap",
                ),
                version,
                404,
            )
        if not self.auth.check(request):
            error = EnvelopeError(
                FaultReason.UNAUTHENTICATED,
                "missing or wrong bearer token",
                expected="Authorization: Bearer <token>",
            )
            return _fault(error, version, 401, {"WWW-Authenticate": 'Bearer realm="cimmeter"'})
        body = await request.body()
        try:
            inbound = receive(
                body,
                "xml",
                role=self.dispatcher.role,
                via="soap",
                endpoint=service,
                limits=self.limits,
            )
        except EnvelopeError as error:
            return _fault(error, error.soap or version, _FAULT_STATUS[error.soap or version])
        answer_version = inbound.envelope.soap or version
        try:
            answer = await self.dispatcher.answer(inbound)
        except HandlerCrashed:
            return _server_fault(answer_version)
        rendered = render(answer, "xml", envelope=inbound.envelope, soap=answer_version)
        status = _FAULT_STATUS[answer_version] if isinstance(answer, FaultMessage) else 200
        return _response(rendered, status)

    async def describe(self, request: Request) -> Response:
        name = request.path_params["service"]
        service = service_by_name(name)
        if service is None:
            return Response(f"no SOAP service {name}\n", 404, media_type="text/plain")
        if "wsdl" not in {k.lower() for k in request.query_params}:
            return Response(
                f"{name}: POST SOAP 1.1 or 1.2 here; the WSDL is at ?wsdl\n",
                200,
                media_type="text/plain",
            )
        location = str(request.url.replace(query=""))
        return Response(wsdl_document(service, location), media_type="text/xml; charset=utf-8")

    async def index(self, request: Request) -> Response:
        base = str(request.url.replace(query="")).rstrip("/")
        lines = [f"{base}/{s.name}?wsdl" for s in services()]
        return Response("\n".join(lines) + "\n", media_type="text/plain")

    async def schema(self, request: Request) -> Response:
        name = request.path_params["name"]
        if name not in self.schema_files:  # only our own files: no path is ever built from input
            return Response(f"no schema {name}\n", 404, media_type="text/plain")
        return Response((XSD_DIR / name).read_bytes(), media_type="text/xml; charset=utf-8")


def _response(rendered: Rendered, status: int, headers: dict[str, Any] | None = None) -> Response:
    return Response(rendered.body, status, headers=headers, media_type=rendered.content_type)


def _fault(
    error: EnvelopeError, version: SoapVersion, status: int, headers: dict[str, Any] | None = None
) -> Response:
    return _response(render_fault(error, "xml", soap=version), status, headers)


def _server_fault(version: SoapVersion) -> Response:
    envelope = soap_fault(
        None, version, "internal error: the message was not processed", sender=False
    )
    body = etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")
    return Response(body, 500, media_type=SOAP_CONTENT_TYPES[version])


__all__ = ["SoapEndpoints", "soap_version_of"]
