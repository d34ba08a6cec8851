"""``gta sinks check sentinel+https://...``: without ingesting a row.

1. token: Entra ID issues a token for the scope with the app's client credentials (proves tenant,
   client id and secret).
2. tls/reachability: the data collection endpoint answers over trusted TLS.
3. stream: for the configured DCR stream (or each of the four the shipped DCR declares), an
   upload of an empty JSON array: 204 proves the DCR and stream exist and that the app holds
   "Monitoring Metrics Publisher" on the DCR (403 otherwise, 404 for an unknown DCR). An empty
   array carries no row, so nothing is ingested.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx

from gta.client import Runtime, is_tls_verification_failure
from gta.sinks._base import SinkConfigError, SinkError
from gta.sinks._entra import EntraToken
from gta.sinks._sentinel import _error
from gta.sinks._sentinel_config import (
    API_VERSION,
    DEFAULT_STREAMS,
    SECRET_ENV,
    parse_sentinel_url,
)
from gta.sinks._spec import Check
from gta.sinks._tls import http_verify


def check_sentinel(url: str, options: dict[str, Any]) -> list[Check]:
    config, secret = parse_sentinel_url(url, options)
    # A check answers in seconds: one retry at most, short waits.
    config = dataclasses.replace(config, max_retries=1, backoff_cap=2.0, timeout=10.0)
    if not secret:
        return [Check("token", False, f"no client secret (client_secret=env:NAME or {SECRET_ENV})")]
    checks: list[Check] = []
    with httpx.Client(base_url=config.endpoint, verify=http_verify("sentinel", config.verify),
                      timeout=config.timeout) as client:  # fmt: skip
        token = EntraToken(config, secret, client, Runtime())
        try:
            bearer = token.get()
        except (SinkConfigError, SinkError) as exc:
            return [Check("token", False, str(exc))]
        checks.append(Check("token", True, f"Entra ID issued a token for {config.scope}"))
        streams = [config.stream] if config.stream else list(DEFAULT_STREAMS.values())
        for number, stream in enumerate(streams):
            try:
                response = client.post(
                    config.upload_path(stream),
                    params={"api-version": API_VERSION},
                    content=b"[]",
                    headers={"Authorization": f"Bearer {bearer}",
                             "Content-Type": "application/json"},
                )  # fmt: skip
            except httpx.HTTPError as exc:
                name = "tls" if is_tls_verification_failure(exc) else "reachability"
                checks.append(Check(name, False, f"{config.endpoint}: {type(exc).__name__}: {exc}"))
                return checks
            if number == 0:
                checks.append(Check("reachability", True, f"{config.endpoint} answered"))
                verified = "NOT verified" if config.verify is False else "verified"
                checks.append(Check("tls", True, f"TLS on, certificate {verified}"))
            status = response.status_code
            code, message = _error(response)
            if status in (200, 204):
                detail = f"{stream}: upload accepted (HTTP {status}; empty array, nothing ingested)"
                checks.append(Check("stream", True, detail))
            elif status == 403:
                checks.append(Check("stream", False, f"{stream}: HTTP 403 {code}: the app lacks "
                                    f"'Monitoring Metrics Publisher' on {config.dcr}"))  # fmt: skip
            elif status == 404:
                checks.append(Check("stream", False, f"{stream}: HTTP 404 {code}: {message}"))
            else:
                checks.append(
                    Check("stream", False, f"{stream}: unexpected HTTP {status} {code}: {message}")
                )
    return checks
