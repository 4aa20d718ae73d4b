"""Settings are validated at start with errors that name the variable to fix."""

from __future__ import annotations

from typing import ClassVar

import pytest
from pydantic import Field
from pydantic_settings import SettingsConfigDict

from omnicase.kit.sealing import new_master_key
from omnicase.kit.settings import DEV_INTERNAL_SECRET, ServiceSettings, SettingsError, load_settings


class DemoSettings(ServiceSettings):
    model_config = SettingsConfigDict(extra="ignore", env_prefix="DEMO_")
    service_name: ClassVar[str] = "demo"

    channel_costs: dict[str, int] = Field(default_factory=lambda: {"email": 1})


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "DATABASE_URL",
        "KAFKA_BOOTSTRAP_SERVERS",
        "OMNICASE_ENV",
        "OMNICASE_INTERNAL_SECRET",
        "OMNICASE_SERVICE_URLS",
        "OMNICASE_INBOX_RETENTION_HOURS",
        "OMNICASE_OUTBOX_RETENTION_HOURS",
        "OMNICASE_MASTER_KEYS",
        "OMNICASE_MASTER_KEY_ID",
    ):
        monkeypatch.delenv(name, raising=False)


def test_bad_port_names_the_variable_and_the_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEMO_PORT", "eighty")
    with pytest.raises(SettingsError) as error:
        load_settings(DemoSettings)
    message = str(error.value)
    assert message.splitlines()[0] == "invalid settings for demo:"
    assert "DEMO_PORT (or OMNICASE_PORT)" in message
    assert "'eighty'" in message


def test_a_json_setting_that_is_not_json_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEMO_CHANNEL_COSTS", "email=1")
    with pytest.raises(SettingsError) as error:
        load_settings(DemoSettings)
    assert str(error.value) == (
        "invalid settings for demo:\n  DEMO_CHANNEL_COSTS: not valid JSON (this setting takes a JSON object or list)"
    )


def test_every_bad_variable_is_listed_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEMO_PORT", "70000")
    monkeypatch.setenv("DATABASE_URL", "mysql://nope")
    with pytest.raises(SettingsError) as error:
        load_settings(DemoSettings)
    message = str(error.value)
    assert "DEMO_PORT" in message
    assert "DEMO_DATABASE_URL (or DATABASE_URL): Value error, must be a PostgreSQL URL" in message


def test_suite_wide_variables_apply_to_every_service_and_prefixed_ones_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@db:5432/omnicase")
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka:9092")
    monkeypatch.setenv("DEMO_KAFKA_BOOTSTRAP_SERVERS", "other:9092")
    settings = load_settings(DemoSettings)
    assert settings.database_url == "postgresql+asyncpg://u:p@db:5432/omnicase"
    assert settings.kafka_bootstrap_servers == "other:9092"


def test_default_secret_is_refused_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNICASE_ENV", "prod")
    with pytest.raises(SettingsError, match="DEMO_INTERNAL_SECRET: the built-in development secret is refused"):
        load_settings(DemoSettings)
    monkeypatch.setenv("OMNICASE_INTERNAL_SECRET", "a-real-production-secret-value")
    monkeypatch.setenv("OMNICASE_MASTER_KEYS", f'{{"k1": "{new_master_key()}"}}')
    monkeypatch.setenv("OMNICASE_MASTER_KEY_ID", "k1")
    assert load_settings(DemoSettings).internal_secret != DEV_INTERNAL_SECRET


def test_services_are_found_through_the_suite_wide_map_or_at_their_dev_port(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings(DemoSettings).service_url("routing") == "http://127.0.0.1:8084"
    monkeypatch.setenv("OMNICASE_SERVICE_URLS", '{"routing": "http://routing:8080/"}')
    settings = load_settings(DemoSettings)
    assert settings.service_url("routing") == "http://routing:8080"
    assert settings.service_url("case-core") == "http://127.0.0.1:8081"


def test_a_suite_wide_json_setting_that_is_not_json_names_both_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNICASE_SERVICE_URLS", "routing=http://routing")
    with pytest.raises(SettingsError) as error:
        load_settings(DemoSettings)
    assert "DEMO_SERVICE_URLS (or OMNICASE_SERVICE_URLS): not valid JSON" in str(error.value)


def test_published_events_cannot_be_kept_for_replay_longer_than_consumers_remember_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert load_settings(DemoSettings).outbox_retention_hours == 1
    monkeypatch.setenv("OMNICASE_INBOX_RETENTION_HOURS", "24")
    monkeypatch.setenv("OMNICASE_OUTBOX_RETENTION_HOURS", "48")
    with pytest.raises(SettingsError) as error:
        load_settings(DemoSettings)
    assert "DEMO_OUTBOX_RETENTION_HOURS: must not be longer than the inbox retention (24 hours)" in str(error.value)
