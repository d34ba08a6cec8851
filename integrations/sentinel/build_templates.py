"""Write the ARM template for Sentinel (data collection endpoint, the four custom tables, the data
collection rule) from one column list per gta stream (annotation format). Run from the repository
root:

    python integrations/sentinel/build_templates.py          # (re)write the JSON files
    python integrations/sentinel/build_templates.py --check  # exit 1 if a file is out of date

Column names are the record keys with characters other than letters, digits and ``_`` replaced
by ``_`` (what the sink sends: ``status.value`` -> ``status_value``). Types: ``datetime`` for the
RFC 3339 timestamps, ``long`` for integers, ``dynamic`` for objects and lists, else ``string``.
``TimeGenerated`` (required in every Log Analytics table) is computed by the DCR's transformKql
from the object's own time, the time the HEC sink uses too.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

# fmt: off
COMMON = [
    ("recordId", "string"), ("stream", "string"), ("indexTime", "datetime"),
    ("customerId", "string"),
]
STREAMS: dict[str, dict[str, object]] = {
    "events": {
        "dcr_stream": "Custom-GtaEvents", "table": "GtaEvents_CL", "time": "eventDetectedAt",
        "columns": [
            *COMMON,
            ("eventId", "string"), ("eventDetectedAt", "datetime"),
            ("eventModifiedAt", "datetime"), ("securityEventTypeId", "string"),
            ("eventTitle", "string"), ("eventSubtitle", "string"), ("assumedOwner", "string"),
            ("alertId", "string"), ("alertStatus", "string"), ("risk", "string"),
            ("threatTitle", "string"), ("threatCategory", "string"),
            ("threatSubCategory", "string"), ("severity", "string"),
            ("affectedAssetId", "string"), ("threatDetectionId", "string"),
            ("confidence", "string"), ("securityAnnotationId", "string"),
            ("securityAnnotationAttributes", "dynamic"),
        ],
    },
    "alerts": {
        "dcr_stream": "Custom-GtaAlerts", "table": "GtaAlerts_CL", "time": "modifiedAt",
        "columns": [
            *COMMON,
            ("alertId", "string"), ("risk", "string"), ("status_value", "string"),
            ("status_closingReasons", "dynamic"), ("state", "string"), ("etaFlag", "string"),
            ("note", "string"), ("triggeredAt", "datetime"), ("modifiedAt", "datetime"),
            ("alertStatus", "string"),
        ],
    },
    "threat-detections": {
        "dcr_stream": "Custom-GtaThreatDetections", "table": "GtaThreatDetections_CL",
        "time": "modifiedAt",
        "columns": [
            *COMMON,
            ("threatDetectionId", "string"), ("affectedAssetId", "string"),
            ("confidence", "string"), ("threatIntelRecordId", "string"),
            ("detectedAt", "datetime"), ("modifiedAt", "datetime"), ("alertIds", "dynamic"),
            ("assumedOwner", "string"), ("threatTitle", "string"), ("threatCategory", "string"),
            ("threatSubCategory", "string"), ("severity", "string"),
        ],
    },
    "flows": {
        "dcr_stream": "Custom-GtaFlows", "table": "GtaFlows_CL", "time": "timeStamp",
        "columns": [
            *COMMON,
            ("flowId", "string"), ("timeStamp", "datetime"),
            ("networkSecurityEventId", "string"), ("srcIp", "string"), ("srcPort", "long"),
            ("dstIp", "string"), ("dstPort", "long"), ("protocol", "string"),
            ("bytesSent", "long"), ("bytesReceived", "long"),
        ],
    },
}
# fmt: on


def _columns(spec: dict[str, object]) -> list[dict[str, str]]:
    return [{"name": n, "type": t} for n, t in spec["columns"]]  # type: ignore[attr-defined]


def _table(spec: dict[str, object]) -> dict[str, object]:
    columns = [{"name": "TimeGenerated", "type": "datetime"}, *_columns(spec)]
    return {
        "type": "Microsoft.OperationalInsights/workspaces/tables",
        "apiVersion": "2022-10-01",
        "name": f"[concat(parameters('workspaceName'), '/{spec['table']}')]",
        "properties": {"schema": {"name": spec["table"], "columns": columns}},
    }


def _dcr() -> dict[str, object]:
    declarations = {s["dcr_stream"]: {"columns": _columns(s)} for s in STREAMS.values()}
    flows = [
        {
            "streams": [s["dcr_stream"]],
            "destinations": ["sentinelWorkspace"],
            "transformKql": (
                f"source | extend TimeGenerated = coalesce(todatetime({s['time']}), "
                "todatetime(indexTime), now())"
            ),
            "outputStream": f"Custom-{s['table']}",
        }
        for s in STREAMS.values()
    ]
    tables = [
        f"[resourceId('Microsoft.OperationalInsights/workspaces/tables', "
        f"parameters('workspaceName'), '{s['table']}')]"
        for s in STREAMS.values()
    ]
    return {
        "type": "Microsoft.Insights/dataCollectionRules",
        "apiVersion": "2022-06-01",
        "name": "[parameters('dataCollectionRuleName')]",
        "location": "[parameters('location')]",
        "dependsOn": [_DCE_ID, *tables],
        "properties": {
            "dataCollectionEndpointId": _DCE_ID,
            "streamDeclarations": declarations,
            "destinations": {
                "logAnalytics": [
                    {
                        "name": "sentinelWorkspace",
                        "workspaceResourceId": "[resourceId('Microsoft.OperationalInsights/"
                        "workspaces', parameters('workspaceName'))]",
                    }
                ]
            },
            "dataFlows": flows,
        },
    }


_DCE_ID = (
    "[resourceId('Microsoft.Insights/dataCollectionEndpoints', "
    "parameters('dataCollectionEndpointName'))]"
)
_DCR_ID = (
    "[resourceId('Microsoft.Insights/dataCollectionRules', parameters('dataCollectionRuleName'))]"
)


def template() -> dict[str, object]:
    """An ARM template: the data collection endpoint, the four tables in the Sentinel workspace
    and the data collection rule; its outputs are what the sink URL needs."""
    string = {"type": "string"}
    return {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/"
        "deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {
            "workspaceName": {**string, "metadata": {"description": "The Sentinel workspace"}},
            "location": {**string, "defaultValue": "[resourceGroup().location]"},
            "dataCollectionEndpointName": {**string, "defaultValue": "gta-dce"},
            "dataCollectionRuleName": {**string, "defaultValue": "gta-dcr"},
        },
        "resources": [
            {
                "type": "Microsoft.Insights/dataCollectionEndpoints",
                "apiVersion": "2022-06-01",
                "name": "[parameters('dataCollectionEndpointName')]",
                "location": "[parameters('location')]",
                "properties": {"networkAcls": {"publicNetworkAccess": "Enabled"}},
            },
            *(_table(s) for s in STREAMS.values()),
            _dcr(),
        ],
        "outputs": {
            "logsIngestionEndpoint": {
                **string,
                "value": f"[reference({_DCE_ID[1:-1]}).logsIngestion.endpoint]",
            },
            "dcrImmutableId": {**string, "value": f"[reference({_DCR_ID[1:-1]}).immutableId]"},
        },
    }


def stream_declarations(path: Path | None = None) -> dict[str, dict[str, str]]:
    """DCR stream -> {column: type}, read back from the template file (tests, the stand-in)."""
    body = json.loads((path or TEMPLATE).read_text(encoding="utf-8"))
    for resource in body["resources"]:
        if resource["type"] == "Microsoft.Insights/dataCollectionRules":
            declared = resource["properties"]["streamDeclarations"]
            return {
                name: {c["name"]: c["type"] for c in decl["columns"]}
                for name, decl in declared.items()
            }
    raise ValueError(f"{path}: no data collection rule")


TEMPLATE = HERE / "gta-annotation.azuredeploy.json"


def files() -> dict[Path, str]:
    return {TEMPLATE: json.dumps(template(), indent=2) + "\n"}


def main(argv: list[str]) -> int:
    stale = []
    for path, text in files().items():
        if "--check" in argv:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(path.name)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    if stale:
        print(f"out of date: {', '.join(stale)}; run python {Path(__file__).name}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
