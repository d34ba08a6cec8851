"""Models: aliases both ways, unknown fields and enum values kept, nulls tolerated."""

from __future__ import annotations

from datetime import UTC, datetime

import gta.client
from gta.client import (
    Alert,
    AlertStatus,
    Asset,
    Event,
    Flow,
    PageInfo,
    SecurityAnnotation,
    ThreatDetection,
    ThreatIntelRecord,
)

ALERT = {
    "id": "f" * 64,
    "risk": "Extreme",  # a value the service may add one day
    "status": {"value": "Snoozed", "closingReasons": None},
    "etaFlag": "EtaBasedDetection",
    "note": None,
    "triggeredAt": "2020-10-14T13:59:54.047Z",
    "modifiedAt": "2020-10-15T13:59:54.047Z",
    "state": {"value": "Open"},
    "futureField": [1, 2],
}


def test_alert_round_trip() -> None:
    alert = Alert.model_validate(ALERT)
    assert alert.status is not None and alert.status.value == "Snoozed"
    assert alert.risk == "Extreme"
    assert alert.eta_flag == "EtaBasedDetection"
    assert alert.triggered_at == datetime(2020, 10, 14, 13, 59, 54, 47000, tzinfo=UTC)
    assert alert.state == {"value": "Open"}
    dumped = alert.model_dump(by_alias=True, mode="json")
    assert dumped["futureField"] == [1, 2]
    assert dumped["etaFlag"] == "EtaBasedDetection"
    assert dumped["status"] == {"value": "Snoozed", "closingReasons": None}
    assert set(ALERT) <= set(dumped)


def test_everything_optional_and_nulls_tolerated() -> None:
    for model in (
        Alert,
        AlertStatus,
        ThreatDetection,
        Event,
        SecurityAnnotation,
        Flow,
        Asset,
        ThreatIntelRecord,
        PageInfo,
    ):
        assert model.model_validate({}).model_dump() is not None
    alert = Alert.model_validate({"id": "a", "status": None, "risk": None, "triggeredAt": None})
    assert alert.status is None and alert.state is None


def test_populate_by_name_and_numbers_as_strings() -> None:
    assert Asset(assumed_owner="bob").assumed_owner == "bob"
    assert Asset.model_validate({"id": 12, "assumedOwner": "x"}).id == "12"
    assert PageInfo.model_validate({"endCursor": 25717281}).end_cursor == "25717281"


def test_event_fields() -> None:
    event = Event.model_validate(
        {
            "id": "e1",
            "securityEventTypeId": 1003,
            "securityAnnotation": {"id": "sa", "requiredAttributes": {"k": "v"}},
            "threatDetectionIds": ["t1", "t2"],
        }
    )
    assert event.threat_detection_ids == ["t1", "t2"]
    assert event.security_annotation is not None
    assert event.security_annotation.required_attributes == {"k": "v"}
    assert event.security_event_type_id == 1003


def test_flow_and_threat_detection_keep_extras() -> None:
    flow = Flow.model_validate(
        {
            "timeStamp": "2024-01-01T00:00:00Z",
            "networkSecurityEventId": "e",
            "sourceIp": "10.0.0.1",
            "bytes": 42,
        }
    )
    assert flow.network_security_event_id == "e"
    assert flow.model_extra == {"sourceIp": "10.0.0.1", "bytes": 42}
    detection = ThreatDetection.model_validate({"confidence": 87, "alertIds": ["a"]})
    assert detection.confidence == 87 and detection.alert_ids == ["a"]


def test_known_values_listed() -> None:
    assert Alert.RISKS == ("Critical", "High", "Medium", "Low")
    assert AlertStatus.VALUES == ("New", "Open", "Closed")


def test_public_names_pinned() -> None:
    assert sorted(gta.client.__all__) == sorted(
        [
            "Alert",
            "AlertStatus",
            "ApiConnectionError",
            "ApiError",
            "ApiStatusError",
            "ApiTimeoutError",
            "Asset",
            "AuthenticationError",
            "BadRequestError",
            "Client",
            "ClientSettings",
            "ConfigurationError",
            "Event",
            "Flow",
            "GtaError",
            "NotFoundError",
            "Page",
            "PageInfo",
            "Pager",
            "PermissionDeniedError",
            "RETRY_AFTER_CAP",
            "RateLimitError",
            "ResponseTooLargeError",
            "Runtime",
            "SearchResults",
            "SecurityAnnotation",
            "ServerError",
            "ThreatDetection",
            "ThreatIntelRecord",
            "backoff_delay",
            "check_proxy_url",
            "is_retryable_exception",
            "is_retryable_status",
            "is_tls_verification_failure",
            "parse_retry_after",
            "redact_proxy",
            "token_refresh_delay",
        ]
    )
    for name in gta.client.__all__:
        assert getattr(gta.client, name) is not None
