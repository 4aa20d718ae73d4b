"""Channel costs are configurable and checked when the service starts."""

from __future__ import annotations

import pytest

from omnicase.kit.events import Channel
from omnicase.kit.settings import SettingsError, load_settings
from omnicase.routing.settings import RoutingSettings


def test_channel_costs_default_to_email_one_chat_three_voice_five() -> None:
    settings = RoutingSettings()
    assert [settings.cost_of(c) for c in (Channel.EMAIL, Channel.MESSAGING, Channel.VOICE)] == [1, 3, 5]


def test_configured_costs_replace_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROUTING_CHANNEL_COSTS", '{"voice": 8, "email": 2}')
    settings = load_settings(RoutingSettings)
    assert [settings.cost_of(c) for c in (Channel.EMAIL, Channel.VOICE, Channel.SMS)] == [2, 8, 1]


@pytest.mark.parametrize("value", ['{"voice": 0}', '{"pigeon": 1}'])
def test_bad_channel_costs_stop_the_service_naming_the_variable(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("ROUTING_CHANNEL_COSTS", value)
    with pytest.raises(SettingsError, match="ROUTING_CHANNEL_COSTS"):
        load_settings(RoutingSettings)
