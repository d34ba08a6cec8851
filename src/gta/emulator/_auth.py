"""OAuth2 client credentials as the SecureX token issuer does them (API.md section 2).

``POST /iroh/oauth2/token`` takes HTTP Basic client credentials and a form body
``grant_type=client_credentials`` and answers a bearer token; errors are RFC 6749 section 5.2
bodies (``invalid_client`` is a 400, as documented). API calls need ``Authorization: Bearer``
with that exact capitalisation; a token reaches only its own customer's paths.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import time
from dataclasses import dataclass
from urllib.parse import parse_qs

from gta.emulator._problems import Problem, unauthorized
from gta.emulator._settings import CustomerIdentity

RFC6749_ERRORS = "https://tools.ietf.org/html/rfc6749#section-5.2"


class TokenError(Exception):
    """A refused token request: rendered as an RFC 6749 error body with a 400."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description

    def body(self) -> dict[str, str]:
        return {
            "error": self.error,
            "error_description": self.description,
            "error_uri": RFC6749_ERRORS,
        }


@dataclass(frozen=True)
class Grant:
    customer: CustomerIdentity
    expires_at: float


class TokenIssuer:
    """Issues opaque bearer tokens and checks them; tokens expire on the real clock."""

    def __init__(self, identities: list[CustomerIdentity]) -> None:
        self._by_client = {i.client_id: i for i in identities}
        self._tokens: dict[str, Grant] = {}
        self.issued = 0

    def issue(self, authorization: str | None, body: bytes, ttl: int) -> dict[str, object]:
        """Check the client and form; return the token response body or raise TokenError."""
        form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        grant_types = form.get("grant_type", [])
        if len(grant_types) != 1:
            raise TokenError("invalid_request", "grant_type is required, exactly once")
        if grant_types[0] != "client_credentials":
            raise TokenError("unsupported_grant_type", "only client_credentials is supported")
        client = self._client(authorization)
        if client is None:
            raise TokenError("invalid_client", "unknown client")
        now = time.monotonic()
        if len(self._tokens) > 10_000:
            self._tokens = {t: g for t, g in self._tokens.items() if g.expires_at > now}
        token = secrets.token_urlsafe(32)
        self._tokens[token] = Grant(client, now + ttl)
        self.issued += 1
        return {
            "access_token": token,
            "token_type": "bearer",
            "expires_in": ttl,
            "scope": "casebook",
        }

    def _client(self, authorization: str | None) -> CustomerIdentity | None:
        if not authorization or not authorization.startswith("Basic "):
            return None
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        client_id, sep, password = decoded.partition(":")
        client = self._by_client.get(client_id)
        if not sep or client is None:
            return None
        if not secrets.compare_digest(client.client_password.encode(), password.encode()):
            return None
        return client

    def check(self, authorization: str | None) -> CustomerIdentity:
        """The customer of a valid ``Bearer`` token; a 401 Problem otherwise."""
        if not authorization:
            raise unauthorized("missing Authorization header")
        if not authorization.startswith("Bearer "):
            raise unauthorized("the Authorization scheme must be 'Bearer' (capitalised)")
        grant = self._tokens.get(authorization[7:].strip())
        if grant is None:
            raise unauthorized("invalid access token")
        if grant.expires_at <= time.monotonic():
            self._tokens.pop(authorization[7:].strip(), None)
            raise unauthorized("access token expired")
        return grant.customer

    def check_customer(self, authorization: str | None, customer_id: str) -> CustomerIdentity:
        """As ``check``, and the path's customer must be the token's own (403 otherwise)."""
        customer = self.check(authorization)
        if customer.customer_id != customer_id:
            raise Problem(403, "this token does not grant access to that customer")
        return customer
