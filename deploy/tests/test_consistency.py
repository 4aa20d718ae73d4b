"""The manifests agree with the code and with the operating rules of deploy/README.md.

Every topic of the contracts has its KafkaTopic, every service in the code its
Deployment (and the other way round), consumers cannot outgrow their partitions,
only the gateway and the SMTP listener are reachable from outside, configuration
comes from the ConfigMap and secrets from Secret references.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

DEPLOY = Path(__file__).resolve().parents[1]
# Scaled by HorizontalPodAutoscalers (ARCHITECTURE.md: stateless HTTP services).
AUTOSCALED = {"gateway", "case-core", "intake-web", "routing", "knowledge", "collaboration"}
PUBLIC_HTTP = "gateway"
SMTP_SERVICE = "intake-email"
SMTP_CONTAINER_PORT = 2525
HTTP_PORT = 8080
PHASES = {"foundation", "data", "migrate", "app"}
ALLOWED_SECRETS = {"omnicase-db-app", "omnicase-secrets"}


def app_container(deployment: dict[str, Any]) -> dict[str, Any]:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1, f"{deployment['metadata']['name']}: one container expected"
    return containers[0]


def served(deployment: dict[str, Any]) -> str | None:
    args = app_container(deployment).get("args", [])
    return args[1] if len(args) == 2 and args[0] == "serve" else None


def partitions_by_topic(overlay) -> dict[str, int]:
    return {t["spec"]["topicName"]: t["spec"]["partitions"] for t in overlay.of_kind("KafkaTopic")}


# --- topics ----------------------------------------------------------------------


def test_every_contract_topic_has_a_kafka_topic(overlay, contract_topics):
    topics = {t["spec"].get("topicName", t["metadata"]["name"]): t for t in overlay.of_kind("KafkaTopic")}
    (kafka,) = overlay.of_kind("Kafka")
    missing = []
    for contract in contract_topics:
        for name in (contract.name, contract.dead_letter):
            topic = topics.get(name)
            if topic is None:
                missing.append(name)
                continue
            spec = topic["spec"]
            assert topic["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"], name
            assert spec["partitions"] >= 1, name
            assert spec["replicas"] == 3, name
            assert int(spec["config"]["min.insync.replicas"]) == 2, name
            assert int(spec["config"]["retention.ms"]) > 0, name
    assert not missing, f"{overlay.overlay}: topics without a KafkaTopic: {missing}"


def test_every_kafka_topic_is_in_the_contracts(overlay, contract_topics):
    known = {name for c in contract_topics for name in (c.name, c.dead_letter)}
    extra = {t["spec"]["topicName"] for t in overlay.of_kind("KafkaTopic")} - known
    assert not extra, f"{overlay.overlay}: KafkaTopics no contract declares: {extra}"


def test_kafka_topics_name_their_topic_explicitly(overlay):
    # An overlay's namePrefix renames metadata.name, never spec.topicName.
    assert all("topicName" in t["spec"] for t in overlay.of_kind("KafkaTopic"))


# --- services --------------------------------------------------------------------


def test_services_are_found_in_the_code(code_services):
    assert code_services, "no service distribution found (pyproject entry points omnicase.services)"


def test_every_service_in_the_code_has_a_deployment(overlay, code_services):
    deployments = {served(d): d for d in overlay.of_kind("Deployment")}
    missing = sorted(set(code_services) - set(deployments))
    assert not missing, f"{overlay.overlay}: services without a Deployment: {missing}"
    for name in code_services:
        assert deployments[name]["metadata"]["name"] == name
        service = overlay.named("Service", name)
        assert service is not None, f"{overlay.overlay}: no Service {name}"
        assert {p["port"] for p in service["spec"]["ports"]} == {HTTP_PORT}, name
        assert service["spec"]["selector"] == deployments[name]["spec"]["selector"]["matchLabels"], name


def test_every_deployment_serves_a_service_of_the_code(overlay, code_services):
    unknown = [d["metadata"]["name"] for d in overlay.of_kind("Deployment") if served(d) not in code_services]
    assert not unknown, f"{overlay.overlay}: Deployments for no service in the code: {unknown}"


def test_deployments_are_probed_sized_and_locked_down(overlay):
    for deployment in overlay.of_kind("Deployment"):
        name = deployment["metadata"]["name"]
        pod = deployment["spec"]["template"]["spec"]
        container = app_container(deployment)
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", name
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", name
        for bound in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(container["resources"][bound]), f"{name} {bound}"
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        security = container["securityContext"]
        assert security["readOnlyRootFilesystem"] is True, name
        assert security["allowPrivilegeEscalation"] is False, name
        assert security["capabilities"]["drop"] == ["ALL"], name
        assert "add" not in security["capabilities"], name
        assert pod["automountServiceAccountToken"] is False, name
        keys = {c["topologyKey"] for c in pod["topologySpreadConstraints"]}
        assert keys == {"kubernetes.io/hostname", "topology.kubernetes.io/zone"}, name


def test_every_deployment_has_a_disruption_budget(overlay):
    budgets = [b["spec"]["selector"]["matchLabels"] for b in overlay.of_kind("PodDisruptionBudget")]
    for deployment in overlay.of_kind("Deployment"):
        assert deployment["spec"]["selector"]["matchLabels"] in budgets, deployment["metadata"]["name"]


def test_stateless_services_are_autoscaled(overlay):
    targets = {h["spec"]["scaleTargetRef"]["name"]: h for h in overlay.of_kind("HorizontalPodAutoscaler")}
    assert set(targets) == AUTOSCALED, f"{overlay.overlay}: autoscaled {sorted(targets)}"
    for name in AUTOSCALED:
        deployment = overlay.named("Deployment", name)
        assert deployment is not None, name
        # A replica count in the manifest would reset the autoscaler on every apply.
        assert "replicas" not in deployment["spec"], name


def test_consumers_never_outgrow_their_partitions(overlay, contract_topics):
    partitions = partitions_by_topic(overlay)
    contracts = {c.name for c in contract_topics}
    hpas = {h["spec"]["scaleTargetRef"]["name"]: h for h in overlay.of_kind("HorizontalPodAutoscaler")}
    for deployment in overlay.of_kind("Deployment"):
        name = deployment["metadata"]["name"]
        consumes = deployment["metadata"].get("annotations", {}).get("omnicase.io/consumes", "")
        topics = [t for t in consumes.split(",") if t]
        assert set(topics) <= contracts, f"{name} consumes unknown topics {set(topics) - contracts}"
        if not topics:
            continue
        ceiling = min(partitions[t] for t in topics)
        replicas = hpas[name]["spec"]["maxReplicas"] if name in hpas else deployment["spec"].get("replicas", 1)
        assert replicas <= ceiling, f"{overlay.overlay}: {name} may run {replicas} replicas for {ceiling} partitions"


# --- exposure --------------------------------------------------------------------


def test_only_the_smtp_listener_has_a_load_balancer(overlay):
    exposed = [s for s in overlay.of_kind("Service") if s["spec"].get("type", "ClusterIP") != "ClusterIP"]
    assert [s["metadata"]["name"] for s in exposed] == ["intake-email-smtp"]
    (smtp,) = exposed
    assert smtp["spec"]["type"] == "LoadBalancer"
    assert smtp["spec"]["selector"] == {"app.kubernetes.io/name": SMTP_SERVICE}
    (port,) = smtp["spec"]["ports"]
    assert port["port"] == 25
    container = app_container(overlay.named("Deployment", SMTP_SERVICE))
    target = {p["name"]: p["containerPort"] for p in container["ports"]}[port["targetPort"]]
    assert target == SMTP_CONTAINER_PORT


def test_only_the_gateway_is_behind_the_ingress(overlay):
    backends = {
        path["backend"]["service"]["name"]
        for ingress in overlay.of_kind("Ingress")
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    }
    assert backends == {PUBLIC_HTTP}
    assert all(i["spec"].get("tls") for i in overlay.of_kind("Ingress"))


def test_network_policies_admit_outside_traffic_only_to_gateway_and_smtp(overlay):
    policies = overlay.of_kind("NetworkPolicy")
    default_deny = [p for p in policies if p["spec"]["podSelector"] == {} and not p["spec"].get("ingress")]
    assert default_deny, f"{overlay.overlay}: no default-deny ingress policy"
    assert "Ingress" in default_deny[0]["spec"]["policyTypes"]
    public: set[tuple[str, int]] = set()
    for policy in policies:
        for rule in policy["spec"].get("ingress", []):
            peers = rule.get("from", [])
            from_anywhere = not peers or any(p.get("namespaceSelector") == {} or "ipBlock" in p for p in peers)
            if from_anywhere:
                selected = policy["spec"]["podSelector"].get("matchLabels", {}).get("app.kubernetes.io/name")
                for port in rule.get("ports") or [{"port": "any"}]:
                    public.add((selected, port["port"]))
    assert public == {(PUBLIC_HTTP, HTTP_PORT), (SMTP_SERVICE, SMTP_CONTAINER_PORT)}, public


# --- configuration and secrets ---------------------------------------------------------


def test_configuration_comes_from_the_config_map(overlay, code_services):
    (config,) = overlay.of_kind("ConfigMap")
    data = config["data"]
    for key in (
        "OMNICASE_ENV",
        "OMNICASE_HOST",
        "OMNICASE_PORT",
        "KAFKA_BOOTSTRAP_SERVERS",
        "KAFKA_ENABLE_IDEMPOTENCE",
        "OMNICASE_SERVICE_URLS",
    ):
        assert key in data, key
    assert data["OMNICASE_PORT"] == str(HTTP_PORT)
    assert data["KAFKA_ENABLE_IDEMPOTENCE"] == "true"
    (kafka,) = overlay.of_kind("Kafka")
    assert data["KAFKA_BOOTSTRAP_SERVERS"].startswith(f"{kafka['metadata']['name']}-kafka-bootstrap:")
    urls = json.loads(data["OMNICASE_SERVICE_URLS"])
    assert set(urls) == set(code_services) - {PUBLIC_HTTP}
    for name, url in urls.items():
        assert url == f"http://{name}:{HTTP_PORT}", url
        assert overlay.named("Service", name) is not None, name
    workloads = overlay.of_kind("Deployment") + overlay.of_kind("Job")
    for workload in workloads:
        env_from = workload["spec"]["template"]["spec"]["containers"][0]["envFrom"]
        assert {"configMapRef": {"name": config["metadata"]["name"]}} in env_from, workload["metadata"]["name"]


def test_secrets_come_from_secret_references_only(overlay):
    assert not overlay.of_kind("Secret"), "a Secret is rendered from the repository"
    (cluster,) = overlay.of_kind("Cluster")
    assert cluster["spec"]["instances"] == 3
    for workload in overlay.of_kind("Deployment") + overlay.of_kind("Job"):
        container = workload["spec"]["template"]["spec"]["containers"][0]
        env = {e["name"]: e for e in container.get("env", [])}
        for var in ("DATABASE_URL", "OMNICASE_INTERNAL_SECRET", "OMNICASE_MASTER_KEYS", "OMNICASE_MASTER_KEY_ID"):
            assert "value" not in env[var], f"{workload['metadata']['name']}: {var} has a literal value"
        assert env["DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {
            "name": f"{cluster['metadata']['name']}-app",
            "key": "uri",
        }
        for item in env.values():
            ref = item.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                assert ref["name"] in ALLOWED_SECRETS, ref
            name = item["name"]
            if re.search(r"SECRET|PASSWORD|DATABASE_URL", name):
                assert ref, f"{workload['metadata']['name']}: {name} must come from a Secret"


def test_no_secret_is_committed_under_deploy():
    offenders = [
        str(path.relative_to(DEPLOY))
        for path in DEPLOY.rglob("*.yaml")
        if re.search(r"^kind:\s*Secret\s*$", path.read_text(), re.MULTILINE)
        or re.search(r"^\s*(stringData|password):", path.read_text(), re.MULTILINE)
    ]
    assert not offenders, offenders


# --- rollout order ---------------------------------------------------------------------


def test_migrations_run_as_a_job_before_the_services(overlay):
    (job,) = overlay.of_kind("Job")
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["args"] == ["migrate"]
    assert container["image"] == app_container(overlay.of_kind("Deployment")[0])["image"]
    assert job["metadata"]["labels"]["omnicase.io/phase"] == "migrate"
    for deployment in overlay.of_kind("Deployment"):
        assert deployment["metadata"]["labels"]["omnicase.io/phase"] == "app"


def test_every_object_belongs_to_a_rollout_phase(overlay):
    unphased = [
        f"{o['kind']}/{o['metadata']['name']}"
        for o in overlay.objects
        if o["metadata"].get("labels", {}).get("omnicase.io/phase") not in PHASES
    ]
    assert not unphased, unphased


@pytest.mark.parametrize("phase", sorted(PHASES))
def test_rollout_script_applies_every_phase(phase):
    script = (DEPLOY / "scripts" / "rollout.sh").read_text()
    assert f"omnicase.io/phase={phase}" in script


# --- database connections -------------------------------------------------------------

# What max_connections must also hold besides the services: PostgreSQL's
# superuser_reserved_connections (3), CloudNativePG's instance manager and
# monitoring, an operator's psql session.
RESERVED_CONNECTIONS = 13
# Each pod's pool may open pool_size connections and overflow by as many again
# (omnicase.kit.db); a setting not given falls back to the kit's default of 10.
DEFAULT_POOL_SIZE = 10


def env_prefix(folder: Path, service: str) -> str:
    for settings in folder.glob("src/omnicase/*/settings.py"):
        found = re.search(r'env_prefix="([A-Z0-9_]+)"', settings.read_text())
        if found:
            return found.group(1)
    return service.upper().replace("-", "_") + "_"


def max_pods(deployment: dict[str, Any], hpa: dict[str, Any] | None) -> int:
    replicas = hpa["spec"]["maxReplicas"] if hpa else deployment["spec"].get("replicas", 1)
    surge = deployment["spec"]["strategy"]["rollingUpdate"]["maxSurge"]
    if isinstance(surge, str):
        surge = -(-replicas * int(surge.rstrip("%")) // 100)
    return replicas + surge


def test_every_pod_fits_in_the_database_connections(overlay, code_services):
    (config,) = overlay.of_kind("ConfigMap")
    (cluster,) = overlay.of_kind("Cluster")
    hpas = {h["spec"]["scaleTargetRef"]["name"]: h for h in overlay.of_kind("HorizontalPodAutoscaler")}
    needed = RESERVED_CONNECTIONS + 2 * DEFAULT_POOL_SIZE  # the migrations Job
    for name, folder in code_services.items():
        deployment = overlay.named("Deployment", name)
        pool = int(config["data"].get(f"{env_prefix(folder, name)}DB_POOL_SIZE", DEFAULT_POOL_SIZE))
        needed += max_pods(deployment, hpas.get(name)) * 2 * pool
    available = int(cluster["spec"]["postgresql"]["parameters"]["max_connections"])
    assert needed <= available, f"{overlay.overlay}: up to {needed} connections, max_connections={available}"
