"""Gateway settings: the bootstrap admin from the suite-wide variables, secrets refused where unsafe."""

from __future__ import annotations

import pytest

from omnicase.gateway.settings import DEV_TOKEN_SECRET, GatewaySettings
from omnicase.kit.sealing import new_master_key
from omnicase.kit.settings import SettingsError, load_settings


def test_bootstrap_admin_is_read_from_the_suite_wide_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNICASE_BOOTSTRAP_ADMIN_EMAIL", "root@example.test")
    monkeypatch.setenv("OMNICASE_BOOTSTRAP_ADMIN_PASSWORD", "a long enough password")
    settings = load_settings(GatewaySettings)
    assert settings.bootstrap_admin_email == "root@example.test"
    assert settings.bootstrap_admin_password == "a long enough password"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {
                "env": "prod",
                "internal_secret": "p" * 40,
                "master_keys": {"k1": new_master_key()},
                "master_key_id": "k1",
            },
            "GATEWAY_TOKEN_SECRET",
        ),
        ({"env": "prod", "internal_secret": "p" * 40, "token_secret": "t" * 40}, "GATEWAY_MASTER_KEY_ID"),
        ({"token_secret": "short"}, "at least 32"),
        ({"token_secret": "s" * 40, "internal_secret": "s" * 40}, "differ"),
        ({"bootstrap_admin_password": "short"}, "12 characters"),
        ({"rate_limit_ip_requests": 0}, "GATEWAY_RATE_LIMIT_IP_REQUESTS"),
    ],
)
def test_unsafe_settings_stop_the_start_with_a_readable_line(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings(GatewaySettings, **overrides)


def test_a_prod_gateway_starts_with_its_own_secrets() -> None:
    settings = load_settings(
        GatewaySettings,
        env="prod",
        internal_secret="i" * 40,
        token_secret="t" * 40,
        master_keys={"k1": new_master_key()},
        master_key_id="k1",
    )
    assert settings.token_secret != DEV_TOKEN_SECRET
