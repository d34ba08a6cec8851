"""ECS field names and types gta's ``ecs`` format uses, each checked by hand against the ECS
reference (no PyPI package ships the ECS field definitions): elastic/ecs ``generated/csv/
fields.csv`` for the base, event, ecs, host, user, observer, organization, source, destination,
network and related.ip fields, and the ECS reference pages "Rule fields" (rule.id/name/category/
ruleset: keyword) and "Related fields" (related.hosts, related.user: keyword; related.ip: ip).
``message`` is ``text`` there (ECS 8 suggests ``match_only_text``, which OpenSearch lacks)."""

ECS_FIELDS = {
    "@timestamp": "date", "message": "text", "tags": "keyword", "ecs.version": "keyword",
    "event.kind": "keyword", "event.category": "keyword", "event.type": "keyword",
    "event.action": "keyword", "event.id": "keyword", "event.created": "date",
    "event.dataset": "keyword", "event.module": "keyword", "event.severity": "long",
    "event.risk_score": "float", "observer.vendor": "keyword", "observer.product": "keyword",
    "observer.type": "keyword", "organization.id": "keyword", "host.id": "keyword",
    "user.name": "keyword", "related.hosts": "keyword", "related.user": "keyword",
    "related.ip": "ip", "rule.id": "keyword", "rule.name": "keyword", "rule.category": "keyword",
    "rule.ruleset": "keyword", "source.ip": "ip", "source.port": "long", "source.bytes": "long",
    "destination.ip": "ip", "destination.port": "long", "destination.bytes": "long",
    "network.transport": "keyword", "network.iana_number": "keyword", "network.bytes": "long",
}  # fmt: skip
# ECS categorization values (reference, "ECS Categorization Fields")
KINDS = {"alert", "enrichment", "event", "metric", "state", "pipeline_error", "signal"}
CATEGORIES = {"intrusion_detection", "malware", "network", "threat"}
TYPES = {"info", "indicator", "creation", "change", "deletion", "connection"}
