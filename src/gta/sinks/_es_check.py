"""``gta sinks check`` for Elasticsearch / OpenSearch: ``GET /`` proves reachability, TLS trust
and the credentials (401 when refused) and names the product and version; ``HEAD /{index}`` says
whether the index or data stream exists yet. Nothing is written."""

from __future__ import annotations

from typing import Any

import httpx

from gta.sinks._check import Check, first_contact
from gta.sinks._elasticsearch import _text
from gta.sinks._es_config import API_KEY_ENV, parse_es_url
from gta.sinks._http_sink import json_object
from gta.sinks._tls import http_verify


def check_elasticsearch(url: str, options: dict[str, Any]) -> list[Check]:
    options = dict(options)
    if "token" in options:  # `gta sinks check --token` gives the API key here
        options["api_key"] = options.pop("token")
    config, auth = parse_es_url(url, options)
    headers = {"Authorization": auth.header} if auth.header else {}
    with httpx.Client(
        base_url=config.base_url,
        headers=headers,
        verify=http_verify("elasticsearch", config.verify),
        timeout=10.0,
    ) as client:
        response, checks = first_contact(client, "/", config.base_url, config.verify, "credentials")
        if response is None:
            return checks
        if response.status_code in (401, 403):
            given = "given" if auth.header else f"none given (api_key or {API_KEY_ENV})"
            checks.append(
                Check(
                    "credentials",
                    False,
                    f"refused: HTTP {response.status_code}; credentials {given}",
                )
            )
            return checks
        body = json_object(response)
        version = body.get("version") if isinstance(body.get("version"), dict) else {}
        assert isinstance(version, dict)
        product = _text(version.get("distribution") or config.flavour)
        checks.append(
            Check(
                "credentials",
                response.status_code == 200,
                f"HTTP {response.status_code}: {product} {_text(version.get('number', '?'))}",
            )
        )
        try:
            head = client.head(f"/{config.index}")
        except httpx.HTTPError as exc:
            checks.append(Check("index", False, f"request failed: {type(exc).__name__}"))
            return checks
        if head.status_code == 200:
            checks.append(Check("index", True, f"{config.index} exists"))
        elif head.status_code == 404:
            checks.append(
                Check(
                    "index",
                    True,
                    f"{config.index} does not exist yet: created on "
                    "the first write (auto-create, or the gta index template)",
                )
            )
        else:
            checks.append(Check("index", False, f"HEAD {config.index}: HTTP {head.status_code}"))
    return checks
