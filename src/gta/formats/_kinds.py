"""Record kinds: the kinds of API object a format turns into records.

A format is a table keyed by these names (``Format.records``); a sync stream names the kind its
objects are (``gta.sync.StreamSpec.kind``), so formats never import sync. A kind's name is also
what its records carry as ``stream`` and what their record ids hash: it must never change.
"""

from __future__ import annotations

EVENTS = "events"
"""Network security events (enriched with their detections, alerts, asset and intel record)."""
ALERTS = "alerts"
"""Alerts, and the tombstones of removed alerts (``gta.formats._ids.Tombstone``)."""
THREAT_DETECTIONS = "threat-detections"
"""Threat detections (with their alert ids, asset and threat-intel record)."""
FLOWS = "flows"
"""Network flows (immutable, no parents)."""

RECORD_KINDS = (EVENTS, ALERTS, THREAT_DETECTIONS, FLOWS)
"""Every kind, in the order the documentation and the OCSF schema list them."""
