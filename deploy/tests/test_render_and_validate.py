"""Every overlay renders, and every object it renders is valid for its schema.

Built-in kinds are checked with kubernetes-validate (strict: unknown fields are
errors, as `kubectl apply` treats them) against the oldest Kubernetes version the
manifests support and the newest the validator knows; Strimzi and CloudNativePG
kinds against the schemas vendored in tests/schemas. A kind with no schema fails.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

DEPLOY = Path(__file__).resolve().parents[1]
OVERLAYS = sorted(p.name for p in (DEPLOY / "overlays").iterdir() if (p / "kustomization.yaml").is_file())

# Oldest supported (README, Prerequisites) and newest known to kubernetes-validate.
K8S_VERSIONS = ["1.30", "1.37"]

Validate = Callable[[dict[str, Any], str], list[str]]


def test_every_overlay_is_found():
    assert set(OVERLAYS) >= {"dev", "prod"}


def test_overlay_renders_namespaced_objects(overlay):
    assert overlay.objects, f"{overlay.overlay} renders nothing"
    namespaces = {o["metadata"]["name"] for o in overlay.of_kind("Namespace")}
    assert len(namespaces) == 1, f"{overlay.overlay}: expected one Namespace, got {namespaces}"
    for obj in overlay.objects:
        if obj["kind"] == "Namespace":
            continue
        assert obj["metadata"].get("namespace") in namespaces, f"{obj['kind']}/{obj['metadata']['name']}"


@pytest.mark.parametrize("k8s_version", K8S_VERSIONS)
def test_every_object_matches_its_schema(overlay, validate: Validate, k8s_version: str):
    problems = []
    for obj in overlay.objects:
        for error in validate(obj, k8s_version):
            problems.append(f"{obj['kind']}/{obj['metadata']['name']}: {error}")
    assert not problems, f"{overlay.overlay} against Kubernetes {k8s_version}:\n" + "\n".join(problems)


def test_every_component_renders_into_an_overlay():
    components = {p.name for p in (DEPLOY / "components").iterdir() if p.is_dir()}
    used = set()
    for overlay in OVERLAYS:
        text = (DEPLOY / "overlays" / overlay / "kustomization.yaml").read_text()
        used |= {c for c in components if f"components/{c}" in text}
    assert used == components, f"components not used by any overlay: {components - used}"


# --- the validation itself can fail -------------------------------------------------


def _first(overlay, kind: str) -> dict[str, Any]:
    return copy.deepcopy(overlay.of_kind(kind)[0])


def test_validation_rejects_an_unknown_container_field(rendered, validate: Validate):
    deployment = _first(rendered["prod"], "Deployment")
    deployment["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {}
    assert validate(deployment, K8S_VERSIONS[0])


def test_validation_rejects_a_wrongly_typed_field(rendered, validate: Validate):
    hpa = _first(rendered["prod"], "HorizontalPodAutoscaler")
    hpa["spec"]["maxReplicas"] = "twelve"
    assert validate(hpa, K8S_VERSIONS[-1])


@pytest.mark.parametrize(
    ("kind", "breaks"),
    [
        ("KafkaTopic", lambda o: o["spec"].update(replicas=0)),
        ("KafkaTopic", lambda o: o["spec"].update(retention="7d")),
        ("KafkaNodePool", lambda o: o["spec"].update(roles=["zookeeper"])),
        ("KafkaNodePool", lambda o: o["spec"].pop("storage")),
        ("Kafka", lambda o: o["spec"]["kafka"]["listeners"][0].update(port=9000)),
        ("Kafka", lambda o: o["spec"]["kafka"].update(replicas=3)),
        ("Cluster", lambda o: o["spec"].pop("instances")),
        ("Cluster", lambda o: o["spec"]["storage"].update(sizee="1Gi")),
        ("ScheduledBackup", lambda o: o["spec"].update(method="tape")),
    ],
)
def test_validation_rejects_broken_operator_resources(
    rendered, validate: Validate, kind: str, breaks: Callable[[dict[str, Any]], Any]
):
    obj = _first(rendered["prod"], kind)
    assert not validate(obj, K8S_VERSIONS[0]), "the unbroken object must pass"
    breaks(obj)
    assert validate(obj, K8S_VERSIONS[0])


def test_validation_rejects_a_kind_without_a_schema(validate: Validate):
    obj = {"apiVersion": "barmancloud.cnpg.io/v1", "kind": "ObjectStore", "metadata": {"name": "x"}, "spec": {}}
    assert validate(obj, K8S_VERSIONS[0])
