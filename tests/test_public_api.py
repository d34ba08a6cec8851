"""The public surface is deliberate: each package's ``__all__`` is pinned here (STYLE.md rule 2).

A change to a public name must change this file too, and the CHANGELOG with it.
"""

from __future__ import annotations

import importlib

import pytest

PUBLIC = {
    "gta": ["Client", "ClientSettings", "__version__", "errors"],
    "gta.errors": [
        "ApiConnectionError",
        "ApiError",
        "ApiStatusError",
        "ApiTimeoutError",
        "AuthenticationError",
        "BadRequestError",
        "ConfigurationError",
        "GtaError",
        "InputError",
        "NotFoundError",
        "PermissionDeniedError",
        "RateLimitError",
        "ResponseTooLargeError",
        "ServerError",
    ],
    "gta.sinks": [
        "Check",
        "Count",
        "Flag",
        "Positive",
        "PositiveInt",
        "Record",
        "SCHEMES",
        "Sink",
        "SinkConfigError",
        "SinkError",
        "SinkOptions",
        "SinkSpec",
        "Text",
        "check_sink",
        "destination_key",
        "open_sink",
        "option",
        "option_rows",
        "read_options",
        "redact_url",
        "register_sink",
        "sink_specs",
        "unregister_sink",
    ],
    "gta.state": [
        "Checkpoint",
        "CheckpointStore",
        "DEFAULT_LEASE_TTL_S",
        "Lease",
        "LeaseHeldError",
        "LeaseInfo",
        "LeaseLostError",
        "MIN_LEASE_TTL_S",
        "MigrationPlan",
        "SCHEMA_VERSION",
        "StateBackend",
        "StateError",
        "StateLocation",
        "StateStore",
        "StateTx",
        "StateUrlError",
        "copy_checkpoints",
        "current_identity",
        "default_state_path",
        "held_by_other",
        "open_state",
        "parse_state",
        "plan_migration",
        "redact_state_url",
    ],
    "gta.formats": [
        "ALERTS",
        "ApiObject",
        "EVENTS",
        "FLOWS",
        "FORMAT_NAMES",
        "Format",
        "FormatContext",
        "FormatTable",
        "RECORD_KINDS",
        "RecordFn",
        "THREAT_DETECTIONS",
        "Tombstone",
        "UnknownFormatError",
        "UnsupportedKindError",
        "encode_cef",
        "get_format",
        "is_tombstone",
        "record_risk",
        "records_for",
        "string_list",
        "unique",
    ],
}


@pytest.mark.parametrize("module_name", sorted(PUBLIC))
def test_all_is_pinned_and_every_name_exists(module_name: str) -> None:
    module = importlib.import_module(module_name)
    assert sorted(module.__all__) == sorted(PUBLIC[module_name])
    for name in module.__all__:
        assert hasattr(module, name), f"{module_name}.{name} is listed but missing"


def test_errors_reachable_as_an_attribute_of_gta() -> None:
    gta = importlib.import_module("gta")
    assert gta.errors.GtaError.__name__ == "GtaError"


def test_every_format_name_resolves_to_a_format() -> None:
    from gta.formats import FORMAT_NAMES, UnknownFormatError, get_format

    for name in FORMAT_NAMES:
        assert get_format(name).name == name
    with pytest.raises(UnknownFormatError, match="annotation, nested, ocsf"):
        get_format("xml")
