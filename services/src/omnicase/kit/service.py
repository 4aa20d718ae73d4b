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
    """A service as the kit runs it. Its package, schema and environment prefix follow from its
    name (``case-core``: ``omnicase.case_core``, ``case_core``, ``CASE_CORE_``); only a service
    named otherwise gives them."""

    name: str  # "case-core": process name, log prefix, gateway route owner
    description: str  # one paragraph for the OpenAPI document and the README
    dev_port: int  # HTTP port in the embedded dev stack
    start_order: int = 50  # lower starts first; the gateway starts last
    extra_ports: dict[str, int] = field(default_factory=dict)  # e.g. {"smtp": 2525}
    package: str = ""  # "omnicase.case_core"
    schema: str = ""  # "case_core": the PostgreSQL schema it alone owns
    env_prefix: str = ""  # "CASE_CORE_"

    def __post_init__(self) -> None:
        snake = self.name.replace("-", "_")
        # Frozen: the derived defaults are set the way dataclasses set fields themselves.
        object.__setattr__(self, "package", self.package or f"omnicase.{snake}")
        object.__setattr__(self, "schema", self.schema or snake)
        object.__setattr__(self, "env_prefix", self.env_prefix or f"{snake.upper()}_")

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
