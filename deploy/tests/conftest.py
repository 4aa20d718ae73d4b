"""Fixtures of the deploy tests: the rendered overlays, the tools, and what the code declares.

The tests read the repository itself (the topic contracts in the kit, the service
distributions and their entry points), so a topic or a service added in code without
its Kubernetes counterpart fails them.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

DEPLOY = Path(__file__).resolve().parents[1]
REPO = DEPLOY.parent
OVERLAYS = sorted(p.name for p in (DEPLOY / "overlays").iterdir() if (p / "kustomization.yaml").is_file())
TOPICS_MODULE = REPO / "services" / "src" / "omnicase" / "kit" / "topics.py"
SERVICE_ENTRY_POINT_GROUP = "omnicase.services"

Manifest = dict[str, Any]


def tool(name: str) -> str:
    """A tool's path: $KUBECTL, $HADOLINT … if set, else this virtualenv's, else PATH."""
    override = os.environ.get(name.upper())
    if override:
        return override
    beside_python = Path(sys.executable).parent / name
    if beside_python.is_file():
        return str(beside_python)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: run `make deploy-tools`")
    return found


def run(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, check=False, **kwargs)


@dataclass(frozen=True)
class Rendered:
    """One overlay as `kubectl kustomize` prints it."""

    overlay: str
    text: str
    objects: list[Manifest]

    def of_kind(self, kind: str) -> list[Manifest]:
        return [o for o in self.objects if o["kind"] == kind]

    def named(self, kind: str, name: str) -> Manifest | None:
        found = [o for o in self.of_kind(kind) if o["metadata"]["name"] == name]
        assert len(found) <= 1, f"{self.overlay}: {len(found)} objects {kind}/{name}"
        return found[0] if found else None


def render(path: Path) -> str:
    result = run([tool("kubectl"), "kustomize", str(path)])
    if result.returncode != 0:
        pytest.fail(f"kubectl kustomize {path} failed:\n{result.stderr}")
    return result.stdout


@pytest.fixture(scope="session")
def rendered() -> dict[str, Rendered]:
    """Every overlay under deploy/overlays, rendered once per session."""
    assert OVERLAYS, "no overlay found under deploy/overlays"
    out = {}
    for overlay in OVERLAYS:
        text = render(DEPLOY / "overlays" / overlay)
        objects = [o for o in yaml.safe_load_all(text) if o]
        out[overlay] = Rendered(overlay, text, objects)
    return out


@pytest.fixture(scope="session")
def rendered_files(rendered: dict[str, Rendered], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("rendered")
    files = {}
    for overlay, r in rendered.items():
        files[overlay] = directory / f"{overlay}.yaml"
        files[overlay].write_text(r.text)
    return files


@pytest.fixture(params=OVERLAYS)
def overlay(request: pytest.FixtureRequest, rendered: dict[str, Rendered]) -> Rendered:
    """Parametrizes a test over every overlay."""
    return rendered[request.param]


# --- what the code declares ---------------------------------------------------


@dataclass(frozen=True)
class TopicContract:
    name: str
    dead_letter: str


@pytest.fixture(scope="session")
def contract_topics() -> list[TopicContract]:
    """The topics of omnicase.kit.topics, loaded from its file (the kit need not be installed here)."""
    assert TOPICS_MODULE.is_file(), f"{TOPICS_MODULE} is missing: the topic contracts moved?"
    spec = importlib.util.spec_from_file_location("omnicase_kit_topics_under_test", TOPICS_MODULE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    topics = [TopicContract(t.value, module.dlq(t.value)) for t in module.Topic]
    assert topics, "omnicase.kit.topics declares no topic"
    return topics


def _services_in(folder: Path) -> list[str]:
    """Service names a distribution declares: its `omnicase.services` entry points or its app module."""
    pyproject = folder / "pyproject.toml"
    project = tomllib.loads(pyproject.read_text()).get("project", {}) if pyproject.is_file() else {}
    if project.get("name") == "omnicase-kit":
        return []  # the shared kit has an app factory but is no service
    declared = list(project.get("entry-points", {}).get(SERVICE_ENTRY_POINT_GROUP, {}))
    if declared:
        return declared
    if list(folder.glob("src/omnicase/*/app.py")):
        return [folder.name]
    return []


@pytest.fixture(scope="session")
def code_services() -> dict[str, Path]:
    """Every service the repository's distributions declare, by the name `omnicase serve` takes."""
    services: dict[str, Path] = {}
    for folder in sorted(p for p in REPO.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for name in _services_in(folder):
            assert name not in services, f"service {name} declared by {services[name]} and {folder}"
            services[name] = folder
    return services


# --- validation -----------------------------------------------------------------


@pytest.fixture(scope="session")
def crd_schemas() -> dict[tuple[str, str], Manifest]:
    """Vendored CRD schemas (tests/schemas, SOURCES.md there) by (apiVersion, kind)."""
    schemas = {}
    for path in sorted((DEPLOY / "tests" / "schemas").glob("*.json")):
        group, version, kind = path.stem.split("_")
        schemas[(f"{group}/{version}", kind)] = json.loads(path.read_text())
    return schemas


@pytest.fixture(scope="session")
def validate(crd_schemas: dict[tuple[str, str], Manifest]) -> Callable[[Manifest, str], list[str]]:
    """A function returning the schema errors of one object against a Kubernetes version."""
    import jsonschema
    import kubernetes_validate

    def errors(obj: Manifest, k8s_version: str) -> list[str]:
        try:
            kubernetes_validate.validate(obj, k8s_version, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            schema = crd_schemas.get((obj.get("apiVersion", ""), obj.get("kind", "")))
            if schema is None:
                return [f"no schema for {obj.get('apiVersion')} {obj.get('kind')}: vendor it under tests/schemas"]
            validator = jsonschema.Draft202012Validator(schema)
            return [
                f"{'.'.join(str(p) for p in e.absolute_path) or '<root>'}: {e.message}"
                for e in validator.iter_errors(obj)
            ]
        except kubernetes_validate.ValidationError as e:
            return [f"{'.'.join(str(p) for p in e.path) or '<root>'}: {e.message}"]
        return []

    return errors


@pytest.fixture(scope="session")
def hadolint() -> str:
    return tool("hadolint")


@pytest.fixture(scope="session")
def checkov() -> str:
    return tool("checkov")


@pytest.fixture(scope="session")
def shellcheck() -> str:
    return tool("shellcheck")


@pytest.fixture
def linter_env() -> dict[str, str]:
    """The environment for the linters, without credentials that would send checkov to its platform."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BC_", "PRISMA_"))}
    env["LOG_LEVEL"] = "ERROR"
    return env
