"""A strict stand-in for Microsoft Entra ID (token endpoint) and the Azure Monitor Logs Ingestion
API, served over HTTPS (a throw-away CA made with ``trustme``) by uvicorn on loopback.

Documented behaviours it checks, and where they are written down:

- Token: ``POST /{tenant}/oauth2/v2.0/token``, form-encoded ``grant_type=client_credentials``,
  ``client_id``, ``client_secret``, ``scope`` -> ``{"token_type": "Bearer", "expires_in",
  "access_token"}``; errors as ``{"error", "error_description": "AADSTS...", "error_codes"}``:
  unknown tenant 400 ``invalid_request`` (AADSTS90002), bad secret 401 ``invalid_client``
  (AADSTS7000215), bad scope 400 ``invalid_scope`` (AADSTS70011). (Microsoft identity platform,
  "OAuth 2.0 client credentials flow"; learn.microsoft.com/entra/identity-platform/
  v2-oauth2-client-creds-grant-flow; the PowerShell sample of learn.microsoft.com/azure/
  azure-monitor/logs/tutorial-logs-ingestion-code.)
- Upload: ``POST /dataCollectionRules/{dcrImmutableId}/streams/{streamName}?api-version=
  2023-01-01``, ``Authorization: Bearer`` a token of scope ``https://monitor.azure.com//.default``,
  a JSON array body, ``Content-Encoding: gzip`` allowed; success is 204 with no body
  (logs-ingestion-api-overview; the tutorial: "you should see an HTTP - 204 response").
- Errors are ``{"error": {"code", "message"}}`` with an ``x-ms-error-code`` header (Azure REST
  API guidelines; azure-sdk-for-net Azure.Monitor.Ingestion tests and TROUBLESHOOTING.md):
  over 1,048,576 bytes, before or after gzip, -> 413 ``ContentLengthLimitExceeded``
  "Maximum allowed content length: 1048576 bytes (1 MB)." (Azure Monitor service limits,
  "Logs Ingestion API": 1 MB per call, compressed and uncompressed); unknown DCR -> 404
  ``NotFound`` "Data collection rule with immutable Id '...' not found."; a token without access
  -> 403 ``OperationFailed``; throttling -> 429 with ``Retry-After`` (service limits: "Retry after
  the duration listed in the Retry-After header").

Not documented, modelled conservatively (the service is all-or-nothing per call): a stream the
DCR does not declare -> 400 ``InvalidStream``; a row whose value does not fit its declared
column type -> 400 ``InvalidPayload`` for the whole call, nothing ingested. (Azure itself turns
such a value into null, silently; here it must fail, so tests prove the templates fit the rows.)
Columns a DCR does not declare are dropped, as Azure does, and remembered in ``undeclared``.

Faults switched on by tests: ``fail_next`` (statuses for the next uploads, e.g. 503 or 429),
``reject_record_ids`` (rows refused with 400), ``expired`` (tokens the server stops accepting).
"""

from __future__ import annotations

import gzip
import json
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import trustme
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from tests._support.hec_receiver import serve_app

LIMIT = 1_048_576
SCOPE = "https://monitor.azure.com//.default"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT_ID = "0b2c7c6e-1f0a-4d39-9d4e-3a7f5e1c2b10"
CLIENT_SECRET = "stand-in-secret-Q~3xYz"
DCR = "dcr-00112233445566778899aabbccddeeff"
_TEMPLATE = (
    Path(__file__).resolve().parents[2] / "integrations" / "sentinel"
    / "gta-annotation.azuredeploy.json"
)  # fmt: skip


def declared_streams(path: Path = _TEMPLATE) -> dict[str, dict[str, str]]:
    """DCR stream -> {column: type} from the shipped ARM template."""
    body = json.loads(path.read_text(encoding="utf-8"))
    for resource in body["resources"]:
        if resource["type"] == "Microsoft.Insights/dataCollectionRules":
            declared = resource["properties"]["streamDeclarations"]
            return {n: {c["name"]: c["type"] for c in d["columns"]} for n, d in declared.items()}
    raise ValueError("no data collection rule in the template")


def fits(value: Any, column_type: str) -> bool:
    """True when a JSON value can be stored in a column of ``column_type`` without loss."""
    if value is None:
        return True
    if column_type == "string":
        return isinstance(value, str)
    if column_type in ("int", "long"):
        return isinstance(value, int) and not isinstance(value, bool)
    if column_type == "real":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if column_type == "boolean":
        return isinstance(value, bool)
    if column_type == "datetime":
        if not isinstance(value, str):
            return False
        from datetime import datetime

        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return False
        return True
    return column_type == "dynamic"


@dataclass
class StandinState:
    """What the stand-in ingested and saw; tests read it and set the fault switches."""

    tenant: str = TENANT
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    dcr: str = DCR
    streams: dict[str, dict[str, str]] = field(default_factory=declared_streams)
    token_lifetime: int = 3599
    tokens: set[str] = field(default_factory=set)
    token_requests: int = 0
    forbidden: bool = False  # the app lacks the role on the DCR
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    uploads: int = 0
    gzip_uploads: int = 0
    largest_body: int = 0  # bytes after gzip decoding
    undeclared: set[str] = field(default_factory=set)
    fail_next: list[int] = field(default_factory=list)
    retry_after: str = "0"
    reject_record_ids: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record_ids(self) -> list[str]:
        with self.lock:
            return [str(r.get("recordId")) for rows in self.rows.values() for r in rows]


def _error(status: int, code: str, message: str, **headers: str) -> JSONResponse:
    body = {"error": {"code": code, "message": message}}
    return JSONResponse(body, status_code=status, headers={"x-ms-error-code": code, **headers})


def _aad_error(status: int, error: str, code: int, text: str) -> JSONResponse:
    body = {"error": error, "error_description": f"AADSTS{code}: {text}", "error_codes": [code]}
    return JSONResponse(body, status_code=status)


def build_app(state: StandinState) -> Starlette:
    async def token(request: Request) -> JSONResponse:
        if request.headers.get("content-type", "").split(";")[0] != (
            "application/x-www-form-urlencoded"
        ):
            return _aad_error(400, "invalid_request", 900144, "The request body must contain "
                              "the following parameter: 'grant_type'.")  # fmt: skip
        form = dict(parse_qsl((await request.body()).decode()))
        with state.lock:
            state.token_requests += 1
        if request.path_params["tenant"] != state.tenant:
            return _aad_error(400, "invalid_request", 90002, "Tenant not found.")
        if form.get("grant_type") != "client_credentials":
            return _aad_error(400, "unsupported_grant_type", 70003, "Unsupported grant type.")
        if form.get("client_id") != state.client_id:
            return _aad_error(400, "unauthorized_client", 700016, "Application not found.")
        if form.get("client_secret") != state.client_secret:
            return _aad_error(401, "invalid_client", 7000215, "Invalid client secret provided.")
        if form.get("scope") != SCOPE:
            return _aad_error(400, "invalid_scope", 70011, "The provided value for scope is "
                                                           "not valid.")  # fmt: skip
        issued = secrets.token_urlsafe(24)
        with state.lock:
            state.tokens.add(issued)
        life = state.token_lifetime
        return JSONResponse(
            {"token_type": "Bearer", "expires_in": life, "ext_expires_in": life,
             "access_token": issued}
        )  # fmt: skip

    async def upload(request: Request) -> Response:
        dcr, stream = request.path_params["dcr"], request.path_params["stream"]
        if request.query_params.get("api-version") != "2023-01-01":
            return _error(400, "UnsupportedApiVersion", "The api-version is missing or not "
                                                        "supported.")  # fmt: skip
        scheme, _, bearer = request.headers.get("authorization", "").partition(" ")
        if scheme != "Bearer" or bearer not in state.tokens:
            return _error(401, "InvalidToken", "The provided token is invalid or expired.")
        if dcr != state.dcr:
            return _error(404, "NotFound", f"Data collection rule with immutable Id '{dcr}' not "
                                           "found.")  # fmt: skip
        if state.forbidden:
            return _error(403, "OperationFailed", "The authentication token provided does not "
                          f"have access to ingest data for the data collection rule with "
                          f"immutable Id '{dcr}'.")  # fmt: skip
        if stream not in state.streams:
            return _error(400, "InvalidStream", f"Stream '{stream}' is not declared in the DCR.")
        raw = await request.body()
        too_big = ("ContentLengthLimitExceeded",
                   f"Maximum allowed content length: {LIMIT} bytes (1 MB).")  # fmt: skip
        if len(raw) > LIMIT:
            return _error(413, *too_big)
        if request.headers.get("content-encoding") == "gzip":
            raw = gzip.decompress(raw)
            gzipped = True
            if len(raw) > LIMIT:
                return _error(413, *too_big)
        else:
            gzipped = False
        try:
            rows = json.loads(raw)
        except ValueError:
            return _error(400, "InvalidPayload", "The body is not valid JSON.")
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            return _error(400, "InvalidPayload", "The body must be a JSON array of objects.")
        with state.lock:
            state.uploads += 1
            state.gzip_uploads += gzipped
            state.largest_body = max(state.largest_body, len(raw))
            if state.fail_next:
                status = state.fail_next.pop(0)
                if status == 429:
                    return _error(429, "TooManyRequests", "Rate limit exceeded.",
                                  **{"Retry-After": state.retry_after})  # fmt: skip
                return _error(status, "ServiceUnavailable", "The service is busy.")
            columns = state.streams[stream]
            kept: list[dict[str, Any]] = []
            for row in rows:
                if row.get("recordId") in state.reject_record_ids:
                    return _error(400, "InvalidPayload", "A row was refused "
                                  f"(recordId {row.get('recordId')}).")  # fmt: skip
                for name, value in row.items():
                    if name in columns and not fits(value, columns[name]):
                        return _error(400, "InvalidPayload", f"Column '{name}' of type "
                                      f"{columns[name]} cannot hold {value!r:.60}.")  # fmt: skip
                state.undeclared.update(name for name in row if name not in columns)
                kept.append({k: v for k, v in row.items() if k in columns})
            state.rows.setdefault(stream, []).extend(kept)
        return Response(status_code=204)

    return Starlette(
        routes=[
            Route("/{tenant}/oauth2/v2.0/token", token, methods=["POST"]),
            Route("/dataCollectionRules/{dcr}/streams/{stream}", upload, methods=["POST"]),
        ]
    )


@dataclass
class RunningStandin:
    state: StandinState
    base_url: str  # https://127.0.0.1:PORT (the DCE and the authority host)
    ca_file: Path  # PEM of the CA that signed the server's certificate

    def url(self, **params: str) -> str:
        """A sink URL for this stand-in; the secret comes from ``GTA_SENTINEL_CLIENT_SECRET``."""
        query = {"dcr": self.state.dcr, "tenant_id": self.state.tenant,
                 "client_id": self.state.client_id, "authority_host": self.base_url,
                 "ca_bundle": str(self.ca_file), **params}  # fmt: skip
        host = self.base_url.removeprefix("https://")
        return f"sentinel+https://{host}?" + "&".join(f"{k}={v}" for k, v in query.items())


@contextmanager
def run_standin(state: StandinState | None = None, *, tmp: Path) -> Iterator[RunningStandin]:
    """Serve the stand-in on 127.0.0.1 (a free port) over HTTPS for the ``with`` block."""
    state = state or StandinState()
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    tmp.mkdir(parents=True, exist_ok=True)
    ca_file, chain, key = tmp / "standin-ca.pem", tmp / "standin-cert.pem", tmp / "standin-key.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    cert.private_key_pem.write_to_path(str(key))
    chain.write_bytes(b"".join(blob.bytes() for blob in cert.cert_chain_pems))
    with serve_app(build_app(state), "Sentinel stand-in", certfile=str(chain),
                   keyfile=str(key)) as port:  # fmt: skip
        yield RunningStandin(state, f"https://127.0.0.1:{port}", ca_file)
