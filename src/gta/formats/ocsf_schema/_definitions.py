"""The OCSF 1.3.0 definitions behind ``ocsf-1.3.0.schema.json``, for the two classes gta emits.

Transcribed from the OCSF schema server's JSON Schema export for version 1.3.0 (classes
``detection_finding`` and ``network_activity`` and the objects they reference that gta fills).
Attribute names, types, enum values and requirements are OCSF's; ``required`` lists are those of
the classes *without optional profiles* (the export had the ``cloud``, ``osint`` and
``security_control`` profiles applied, which add ``cloud``, ``osint`` and ``action_id`` as
required; gta declares no profile in ``metadata.profiles``). Objects gta never fills are kept
as plain ``object`` so a record using them still type-checks at the top level.
"""

from __future__ import annotations

from typing import Any

OCSF_VERSION = "1.3.0"

STRING, INTEGER, BOOLEAN = "string", "integer", "boolean"


def obj(name: str = "object") -> tuple[str, str]:
    """An object attribute; ``name`` is an OCSF object defined below, else a plain object."""
    return ("object", name)


def arr(item: Any) -> tuple[str, Any]:
    return ("array", item)


def enum(*values: int) -> tuple[str, tuple[int, ...]]:
    return ("enum", values)


def const(value: int) -> tuple[str, int]:
    return ("const", value)


def span(low: int, high: int) -> tuple[str, tuple[int, ...]]:
    """``enum`` of ``low..high`` plus 99 (Other), OCSF's usual shape for ``*_id`` attributes."""
    return ("enum", (*range(low, high + 1), 99))


def attrs(
    strings: str = "", integers: str = "", booleans: str = "", objects: str = "", **more: Any
) -> dict[str, Any]:
    """Attributes by type, names separated by spaces; ``more`` holds the other specs."""
    out: dict[str, Any] = {}
    out.update(dict.fromkeys(strings.split(), STRING))
    out.update(dict.fromkeys(integers.split(), INTEGER))
    out.update(dict.fromkeys(booleans.split(), BOOLEAN))
    out.update({name: obj() for name in objects.split()})
    out.update(more)
    return out


_BASE = attrs(
    strings="activity_name category_name class_name end_time_dt message raw_data severity "
    "start_time_dt status status_code status_detail time_dt type_name action disposition",
    integers="count duration end_time start_time time timezone_offset type_uid",
    objects="api cloud actor firewall_rule",
    enrichments=arr(obj("enrichment")),
    metadata=obj("metadata"),
    observables=arr(obj("observable")),
    osint=arr(obj()),
    severity_id=span(0, 6),
    unmapped=obj(),
    device=obj("device"),
    action_id=span(0, 2),
    attacks=arr(obj()),
    authorizations=arr(obj()),
    disposition_id=span(0, 27),
    malware=arr(obj()),
)

CLASSES: dict[str, dict[str, Any]] = {
    "detection_finding": {
        "properties": {
            **_BASE,
            **attrs(
                strings="comment confidence impact risk_details risk_level",
                integers="confidence_score impact_score risk_score",
                objects="remediation",
                activity_id=span(0, 3),
                category_uid=const(2),
                class_uid=const(2004),
                confidence_id=span(0, 3),
                evidences=arr(obj("evidences")),
                finding_info=obj("finding_info"),
                impact_id=span(0, 4),
                resources=arr(obj()),
                risk_level_id=span(0, 4),
                status_id=span(0, 4),
                vulnerabilities=arr(obj()),
            ),
        },
        "required": ["activity_id", "category_uid", "class_uid", "finding_info", "metadata",
                     "severity_id", "time", "type_uid"],
    },
    "network_activity": {
        "properties": {
            **_BASE,
            **attrs(
                strings="app_name",
                objects="load_balancer proxy proxy_connection_info proxy_endpoint "
                "proxy_http_request proxy_http_response proxy_tls tls url",
                activity_id=span(0, 7),
                category_uid=const(4),
                class_uid=const(4001),
                connection_info=obj("network_connection_info"),
                dst_endpoint=obj("network_endpoint"),
                ja4_fingerprint_list=arr(obj()),
                proxy_traffic=obj("network_traffic"),
                src_endpoint=obj("network_endpoint"),
                status_id=span(0, 2),
                traffic=obj("network_traffic"),
            ),
        },
        "required": ["activity_id", "category_uid", "class_uid", "dst_endpoint", "metadata",
                     "severity_id", "time", "type_uid"],
    },
}  # fmt: skip

OBJECTS: dict[str, dict[str, Any]] = {
    "metadata": {
        "properties": attrs(
            strings="correlation_uid event_code log_level log_name log_provider log_version "
            "logged_time_dt modified_time_dt original_time processed_time_dt tenant_uid uid "
            "version",
            integers="logged_time modified_time processed_time sequence",
            objects="data_classification extension",
            extensions=arr(obj()),
            labels=arr(STRING),
            loggers=arr(obj()),
            product=obj("product"),
            profiles=arr(STRING),
        ),
        "required": ["product", "version"],
    },
    "product": {
        "properties": attrs(
            strings="cpe_name lang name path uid url_string vendor_name version",
            objects="data_classification feature",
        ),
        "required": ["vendor_name"],
    },
    "finding_info": {
        "properties": attrs(
            strings="created_time_dt desc first_seen_time_dt last_seen_time_dt "
            "modified_time_dt product_uid src_url title uid",
            integers="created_time first_seen_time last_seen_time modified_time",
            analytic=obj("analytic"),
            attacks=arr(obj()),
            data_sources=arr(STRING),
            kill_chain=arr(obj()),
            related_analytics=arr(obj("analytic")),
            related_events=arr(obj("related_event")),
            types=arr(STRING),
        ),
        "required": ["title", "uid"],
    },
    "analytic": {
        "properties": attrs(
            strings="category desc name type uid version",
            related_analytics=arr(obj("analytic")),
            type_id=span(0, 11),
        ),
        "required": ["type_id"],
    },
    "related_event": {
        "properties": attrs(
            strings="product_uid type type_name uid",
            integers="type_uid",
            attacks=arr(obj()),
            kill_chain=arr(obj()),
            observables=arr(obj("observable")),
        ),
        "required": ["uid"],
    },
    "observable": {
        "properties": attrs(strings="name type value", objects="reputation", type_id=span(0, 30)),
        "required": ["name", "type_id"],
    },
    "device": {
        "properties": attrs(
            strings="autoscale_uid boot_time_dt created_time_dt desc domain "
            "first_seen_time_dt hostname hypervisor imei instance_uid interface_name "
            "interface_uid ip last_seen_time_dt mac modified_time_dt name region risk_level "
            "subnet subnet_uid type uid uid_alt vlan_uid vpc_uid zone",
            integers="boot_time created_time first_seen_time last_seen_time modified_time "
            "namespace_pid risk_score",
            booleans="is_compliant is_managed is_personal is_trusted",
            objects="container hw_info image location org os",
            agent_list=arr(obj()),
            groups=arr(obj()),
            network_interfaces=arr(obj()),
            owner=obj("user"),
            risk_level_id=span(0, 4),
            type_id=span(0, 15),
        ),
        "required": ["type_id"],
    },
    "user": {
        "properties": attrs(
            strings="credential_uid domain email_addr full_name name risk_level type uid uid_alt",
            integers="risk_score",
            objects="account ldap_person org",
            groups=arr(obj()),
            risk_level_id=span(0, 4),
            type_id=span(0, 3),
        ),
        "required": [],
    },
    "network_endpoint": {
        "properties": attrs(
            strings="domain hostname instance_uid interface_name interface_uid ip mac name "
            "subnet_uid svc_name type uid vlan_uid vpc_uid zone",
            integers="namespace_pid port",
            objects="autonomous_system container hw_info location os proxy_endpoint",
            agent_list=arr(obj()),
            intermediate_ips=arr(STRING),
            owner=obj("user"),
            type_id=span(0, 15),
        ),
        "required": [],
    },
    "network_connection_info": {
        "properties": attrs(
            strings="boundary direction protocol_name protocol_ver uid",
            integers="protocol_num tcp_flags",
            objects="session",
            boundary_id=span(0, 11),
            direction_id=span(0, 3),
            protocol_ver_id=enum(0, 4, 6, 99),
        ),
        "required": ["direction_id"],
    },
    "network_traffic": {
        "properties": attrs(
            integers="bytes bytes_in bytes_out chunks chunks_in chunks_out packets packets_in "
            "packets_out"
        ),
        "required": [],
    },
}
