"""Bearer-token authentication for every route that reads or writes data.

Tokens come from `serve --token` or `CIMMETER_TOKEN` (several may be configured, for rotation);
`--no-auth` turns the check off only when asked for explicitly. Tokens are compared in constant
time. `/health`, the WSDL/XSD files and the OpenAPI document hold no data and stay open.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence

from starlette.requests import HTTPConnection


class AuthSettingsError(ValueError):
    """Authentication asked for but no token configured (or an empty token)."""


class BearerAuth:
    def __init__(self, tokens: Sequence[str], *, required: bool = True) -> None:
        if required and not tokens:
            raise AuthSettingsError(
                "no bearer token configured: pass --token or set CIMMETER_TOKEN "
                "(or --no-auth, explicitly, for a server that anyone may use)"
            )
        if any(not t.strip() for t in tokens):
            raise AuthSettingsError("an empty bearer token is not a token")
        self._tokens = tuple(t.encode() for t in tokens)
        self.required = required

    def check(self, conn: HTTPConnection) -> bool:
        """True when the request may proceed."""
        if not self.required:
            return True
        header = conn.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return False
        given = token.strip().encode()
        # Compare with every token (no early exit) so timing tells nothing about which matched.
        matched = False
        for expected in self._tokens:
            matched |= hmac.compare_digest(given, expected)
        return matched


__all__ = ["AuthSettingsError", "BearerAuth"]
