"""How a service describes itself to the kit, and how the kit finds every service.

Each service distribution declares one entry point in the group
``omnicase.services`` pointing at its :class:`ServiceSpec`. The CLI (``omnicase
migrate``, ``omnicase up``) discovers services through those entry points, so the
kit never imports a service by name and services never import each other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module, resources
from importlib.metadata import entry_points
from pathlib import Path

from fastapi import FastAPI

ENTRY_POINT_GROUP = "omnicase.services"


@dataclass(frozen=True)
class ServiceSpec:
    name: str  # "case-core": process name, log prefix, gateway route owner
    description: str  # one paragraph for the OpenAPI document and the README
    package: str  # "omnicase.case_core"
    schema: str  # "case_core": the PostgreSQL schema it alone owns
    env_prefix: str  # "CASE_CORE_"
    dev_port: int  # HTTP port in the embedded dev stack
    start_order: int = 50  # lower starts first; the gateway starts last
    extra_ports: dict[str, int] = field(default_factory=dict)  # e.g. {"smtp": 2525}

    @property
    def app_factory(self) -> str:
        return f"{self.package}.app:create_app"

    @property
    def migrations_dir(self) -> Path:
        return Path(str(resources.files(self.package).joinpath("migrations")))

    def has_migrations(self) -> bool:
        return (self.migrations_dir / "env.py").is_file()


def discover_services() -> list[ServiceSpec]:
    """Every installed service, in start order."""
    specs: list[ServiceSpec] = []
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        spec = entry.load()
        if not isinstance(spec, ServiceSpec):
            raise TypeError(f"entry point {entry.name} does not point at a ServiceSpec")
        specs.append(spec)
    return sorted(specs, key=lambda spec: (spec.start_order, spec.name))


def get_service(name: str) -> ServiceSpec:
    for spec in discover_services():
        if spec.name == name:
            return spec
    known = ", ".join(spec.name for spec in discover_services())
    raise LookupError(f"unknown service {name!r}; installed: {known}")


def load_app_factory(spec: ServiceSpec) -> Callable[[], FastAPI]:
    """The service's ``create_app``; called without arguments it reads settings from the environment."""
    module_name, _, attribute = spec.app_factory.partition(":")
    factory: Callable[[], FastAPI] = getattr(import_module(module_name), attribute)
    return factory
