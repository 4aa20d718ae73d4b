"""What a service's spec says by its name alone, and what every installed service is."""

from omnicase.kit.service import ServiceSpec, discover_services


def test_package_schema_and_env_prefix_follow_from_the_name() -> None:
    spec = ServiceSpec(name="sla-engine", description="", dev_port=1)

    assert (spec.package, spec.schema, spec.env_prefix) == ("omnicase.sla_engine", "sla_engine", "SLA_ENGINE_")


def test_a_service_named_otherwise_gives_them() -> None:
    spec = ServiceSpec(name="demo", description="", dev_port=1, package="omnicase.kit", schema="d", env_prefix="X_")

    assert (spec.package, spec.schema, spec.env_prefix) == ("omnicase.kit", "d", "X_")


def test_every_installed_service_is_found_where_its_name_says() -> None:
    specs = {spec.name: spec for spec in discover_services()}

    assert specs["case-core"].app_factory == "omnicase.case_core.app:create_app"
    assert specs["intake-email"].env_prefix == "INTAKE_EMAIL_"
    assert all(spec.has_migrations() for spec in specs.values()), "every service keeps its schema's migrations"
