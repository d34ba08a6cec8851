"""CEF encoding: header and extension escaping, field mapping, round trip through a parser
written from the specification (tests/_support/cef_parser.py)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests._support.cef_parser import parse_cef, parse_extension

from gta._version import __version__
from gta.formats._cef import encode_cef, epoch_millis, escape_header, escape_value, severity

TRICKY = ["plain", "a|b", "back\\slash", "eq=ual", "new\nline", "cr\rlf\r\n", "x=\\|=y", "ünï 🛡"]


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [("a|b", "a\\|b"), ("a\\b", "a\\\\b"), ("a=b", "a=b"), ("l1\nl2", "l1 l2")],
)
def test_header_escaping(raw: str, escaped: str) -> None:
    assert escape_header(raw) == escaped


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("a=b", "a\\=b"),
        ("a\\b", "a\\\\b"),
        ("a|b", "a|b"),
        ("l1\nl2", "l1\\nl2"),
        ("c\rd", "c\\rd"),
    ],
)
def test_extension_value_escaping(raw: str, escaped: str) -> None:
    assert escape_value(raw) == escaped


def _annotation_row(i: int, text: str) -> dict[str, Any]:
    return {
        "recordId": f"{i:032x}",
        "stream": "events",
        "indexTime": "2026-11-27T10:00:00Z",
        "eventId": f"ev-{i}",
        "eventDetectedAt": "2020-10-14T13:59:54.047Z",
        "eventModifiedAt": "2020-10-15T08:00:00Z",
        "securityEventTypeId": 1234,
        "eventTitle": f"Title {text}",
        "eventSubtitle": f"Subtitle {text} end",
        "assumedOwner": f"user {text}",
        "alertId": "a" * 64,
        "alertStatus": "Open",
        "risk": "Critical",
        "threatTitle": "Malware",
        "threatCategory": f"cat {text}",
        "threatSubCategory": "sub",
        "affectedAssetId": "asset-1",
        "threatDetectionId": "td-1",
        "confidence": 87,
    }


@pytest.mark.parametrize("text", TRICKY)
def test_round_trip_gives_back_the_field_values(text: str) -> None:
    row = _annotation_row(1, text)
    event = parse_cef(encode_cef(row))
    assert (event.version, event.vendor, event.product) == ("0", "Cisco", "Global Threat Alerts")
    assert event.device_version == __version__
    assert event.signature_id == "1234"
    header_text = text.replace("\n", " ").replace("\r", " ")
    assert event.name == f"Title {header_text}"
    assert event.severity == "10"
    ext = event.extension
    assert ext["externalId"] == row["recordId"]
    assert ext["msg"] == row["eventSubtitle"]
    assert ext["duser"] == row["assumedOwner"]
    assert ext["cat"] == row["threatCategory"]
    assert ext["rt"] == "1602683994047"
    assert ext["end"] == str(epoch_millis("2020-10-15T08:00:00Z"))
    assert ext["cs1"] == row["alertId"] and ext["cs1Label"] == "alertId"
    assert ext["cs2"] == "td-1" and ext["cs3"] == "ev-1" and ext["cs4"] == "Open"
    assert ext["cs5"] == "asset-1" and ext["cs6"] == "events" and ext["cs6Label"] == "stream"
    assert ext["cn1"] == "87" and ext["flexString1"] == "sub"


def test_flow_fields_map_to_network_keys() -> None:
    flow = {
        "recordId": "f" * 32,
        "stream": "flows",
        "flowId": "fl-1",
        "timeStamp": "2020-10-14T13:59:54Z",
        "sourceIp": "10.0.0.1",
        "sourcePort": 51000,
        "destinationIp": "203.0.113.9",
        "destinationPort": 443,
        "protocol": "tcp",
        "bytesIn": 100,
        "bytesOut": "200",
    }
    ext = parse_cef(encode_cef(flow)).extension
    assert (ext["src"], ext["spt"], ext["dst"], ext["dpt"]) == (
        "10.0.0.1",
        "51000",
        "203.0.113.9",
        "443",
    )
    assert (ext["proto"], ext["in"], ext["out"]) == ("tcp", "100", "200")
    assert ext["cs3"] == "fl-1" and ext["rt"] == "1602683994000"


def test_non_integer_values_are_left_out_of_integer_keys() -> None:
    ext = parse_cef(
        encode_cef({"recordId": "r", "confidence": "High", "sourcePort": True})
    ).extension
    assert "cn1" not in ext and "spt" not in ext


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ({"risk": "Critical"}, 10),
        ({"risk": "High"}, 8),
        ({"risk": "medium"}, 5),
        ({"risk": "Low"}, 3),
        ({"risk": "Unknown"}, 0),
        ({"severity_id": 4}, 8),
        ({}, 0),
    ],
)
def test_severity(record: dict[str, Any], expected: int) -> None:
    assert severity(record) == expected


def test_parser_handles_spaces_in_values_and_escaped_equals() -> None:
    assert parse_extension("msg=hello big world a\\=b src=1.2.3.4") == {
        "msg": "hello big world a=b",
        "src": "1.2.3.4",
    }


@given(
    title=st.text(min_size=1, max_size=40),
    subtitle=st.text(min_size=1, max_size=80),
    owner=st.text(min_size=1, max_size=20),
)
@settings(max_examples=300, deadline=None)
def test_any_text_round_trips(title: str, subtitle: str, owner: str) -> None:
    row = {"recordId": "r" * 32, "stream": "events", "eventTitle": title,
           "eventSubtitle": subtitle, "assumedOwner": owner}  # fmt: skip
    event = parse_cef(encode_cef(row))
    assert event.name == title.replace("\n", " ").replace("\r", " ")
    assert event.extension["msg"] == subtitle
    assert event.extension["duser"] == owner
    assert event.extension["externalId"] == row["recordId"]


def test_nested_event_takes_the_highest_risk_of_its_alerts() -> None:
    nested = {
        "recordId": "n" * 32,
        "stream": "events",
        "threatDetections": [
            {"alerts": [{"risk": "Low"}, {"risk": "High"}]},
            {"alerts": [{"risk": "Medium"}, {"risk": None}]},
            {"alerts": []},
        ],
    }
    assert severity(nested) == 8
    assert severity({"threatDetections": [{"alerts": [{"risk": "Bogus"}]}]}) == 0
