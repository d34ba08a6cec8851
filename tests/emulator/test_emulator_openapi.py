"""The OpenAPI document describes parameters and bodies as the handlers check them."""

from __future__ import annotations

from typing import Any

import pytest
from emu_http import HTTP

from gta.emulator import RunningEmulator


@pytest.fixture(scope="module")
def doc(emulator: RunningEmulator) -> dict[str, Any]:
    response = HTTP.get(f"{emulator.url}/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def _params(doc: dict[str, Any], path: str, method: str = "get") -> dict[str, Any]:
    return {p["name"]: p for p in doc["paths"][path][method].get("parameters", [])}


def test_every_api_path_is_documented(doc: dict[str, Any]) -> None:
    cid = "/{customerId}"
    expected = {
        ("post", "/iroh/oauth2/token"),
        ("get", "/auth/api-clients/me"),
        ("get", f"/alert-management/customer{cid}/alerts"),
        ("get", f"/alert-management/customer{cid}/alerts/{{alertId}}"),
        ("post", f"/alert-management/customer{cid}/alerts/search"),
        ("patch", f"/alert-management/customer{cid}/alerts/{{alertId}}/status"),
        ("patch", f"/alert-management/customer{cid}/alerts/{{alertId}}/note"),
        ("delete", f"/alert-management/customer{cid}/alerts/{{alertId}}/note"),
        (
            "post",
            f"/alert-management/customer{cid}/enriched-threat-detections-with-alert-ids/search",
        ),
        ("get", f"/threat-detection/customer{cid}/threat-detections"),
        ("get", f"/threat-detection/customer{cid}/enriched-events-with-threat-detection-ids"),
        ("get", f"/event-detection/customer{cid}/events"),
        ("post", f"/event-detection/customer{cid}/events/search"),
        ("post", f"/event-detection/customer{cid}/flows/search"),
        ("post", f"/asset-management/customer{cid}/assets/search"),
        ("post", "/threat-catalog/records/search"),
        ("post", "/_emulator/activity"),
        ("post", "/_emulator/clock"),
        ("put", "/_emulator/faults"),
        ("get", "/_emulator/stats"),
    }
    documented = {(m, p) for p, ops in doc["paths"].items() for m in ops}
    assert expected <= documented
    for method, path in expected:
        if path.startswith("/_emulator"):
            assert doc["paths"][path][method]["tags"] == ["admin"]


def test_parameters_and_errors_are_accurate(doc: dict[str, Any]) -> None:
    params = _params(doc, "/alert-management/customer/{customerId}/alerts")
    assert params["size"]["schema"] == {
        "type": "integer",
        "minimum": 1,
        "description": params["size"]["schema"]["description"],
        "title": "Size",
    }
    assert params["triggeredAfter"]["schema"]["format"] == "date-time"
    assert params["sort"]["schema"]["const"] == "triggeredAt:asc"
    events = _params(doc, "/event-detection/customer/{customerId}/events")
    assert events["sort"]["schema"]["const"] == "modificationSequenceNumber"
    for ops in doc["paths"].values():
        for operation in ops.values():
            assert "422" not in operation["responses"]
    search = doc["components"]["schemas"]["AlertFilter"]
    assert search["additionalProperties"] is False
    ids = search["properties"]["alertIds"]["anyOf"][0]
    assert ids["maxItems"] == 1000
    status = doc["components"]["schemas"]["StatusChange"]["properties"]["value"]
    assert set(status["enum"]) == {"New", "Open", "Closed"}
    assert doc["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
