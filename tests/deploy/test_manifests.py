"""``deploy/kubernetes/gta-sync.yaml`` and the configs of docs/deploy.md agree with the image and
with gta: probes on the metrics port gta is told to listen on, the image's user, its state volume,
the config where ``--config`` looks, secrets under the mounted Secret, one replica; every gta.toml
shown loads with gta's own config loader."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from gta.sync import load_config

ROOT = Path(__file__).parents[2]
MANIFEST = ROOT / "deploy/kubernetes/gta-sync.yaml"
DOC = ROOT / "docs/deploy.md"


def containerfile(instruction: str) -> str:
    text = (ROOT / "Containerfile").read_text()
    found = re.findall(rf"^{instruction} (.+)$", text, re.MULTILINE)
    assert found, instruction
    return str(found[-1])


@pytest.fixture(scope="module")
def objects() -> dict[str, dict[str, Any]]:
    return {doc["kind"]: doc for doc in yaml.safe_load_all(MANIFEST.read_text())}


def _arg(args: list[str], flag: str) -> str:
    return args[args.index(flag) + 1]


def test_probes_watch_the_port_gta_serves(objects: dict[str, dict[str, Any]]) -> None:
    (container,) = objects["Deployment"]["spec"]["template"]["spec"]["containers"]
    host, _, port = _arg(container["args"], "--metrics-address").rpartition(":")
    assert host == "0.0.0.0"  # the kubelet probes the pod's address, not its loopback
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports["metrics"] == int(port)
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "metrics"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "metrics"}
    assert _arg(container["args"], "--log-format") == "json"


def test_pod_runs_as_the_image_user_with_a_read_only_root(
    objects: dict[str, dict[str, Any]],
) -> None:
    uid, gid = (int(n) for n in containerfile("USER").split(":"))
    pod = objects["Deployment"]["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert (pod["securityContext"]["runAsUser"], pod["securityContext"]["runAsGroup"]) == (uid, gid)
    assert pod["securityContext"]["fsGroup"] == gid
    (container,) = pod["containers"]
    assert container["securityContext"] == {
        "readOnlyRootFilesystem": True,
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
    }


def test_one_replica_owns_the_state_volume(objects: dict[str, dict[str, Any]]) -> None:
    spec = objects["Deployment"]["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"]["type"] == "Recreate"
    assert objects["PersistentVolumeClaim"]["spec"]["accessModes"] == ["ReadWriteOnce"]
    pod = spec["template"]["spec"]
    (container,) = pod["containers"]
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert containerfile("VOLUME") == f'["{mounts["state"]}"]'
    assert volumes["state"]["persistentVolumeClaim"]["claimName"] == "gta-state"
    assert volumes["credentials"]["secret"]["defaultMode"] == 0o440


def test_config_map_is_a_valid_config_with_secrets_from_the_mounted_secret(
    objects: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    pod = objects["Deployment"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    config_path = Path(_arg(container["args"], "--config"))
    assert str(config_path.parent) == mounts["config"]
    text = objects["ConfigMap"]["data"][config_path.name]
    (tmp_path / "gta.toml").write_text(text)
    config = load_config(tmp_path / "gta.toml", env={})
    assert config.jobs["siem"].sink.startswith("jsonl:/var/lib/gta/")
    secrets = [v for v in tomllib.loads(text)["tenants"]["main"].values() if "file:" in v]
    assert len(secrets) == 2
    assert all(s.startswith(f"file:{mounts['credentials']}/") for s in secrets)


def test_every_config_in_the_deploy_docs_loads(tmp_path: Path) -> None:
    blocks = re.findall(r"^```toml\n(.*?)^```", DOC.read_text(), re.MULTILINE | re.DOTALL)
    assert blocks
    for i, block in enumerate(blocks):
        path = tmp_path / f"gta-{i}.toml"
        path.write_text(block)
        load_config(path, env={"SPLUNK_HEC_TOKEN": "x"})
