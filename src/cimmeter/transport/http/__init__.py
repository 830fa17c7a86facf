"""HTTP: one ASGI app with SOAP 1.1/1.2 (WSDL), REST/JSON (OpenAPI) and `POST /messages`."""

from cimmeter.transport.http.app import HttpSettings, Mount, create_app

__all__ = ["HttpSettings", "Mount", "create_app"]
