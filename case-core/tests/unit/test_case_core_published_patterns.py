"""What the document publishes for a network or a domain is what the server takes: every
string the pattern generates passes the check, and what the check refuses the pattern refuses."""

from __future__ import annotations

import re

import jsonschema_rs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from omnicase.case_core.normalize import DOMAIN_PATTERN, normalize_domain
from omnicase.case_core.organizations.schemas import OrganizationCreate
from omnicase.case_core.webhooks.schemas import NETWORK_PATTERN, AllowedNetworkCreate


@settings(max_examples=500, suppress_health_check=list(HealthCheck), database=None)
@given(st.from_regex(NETWORK_PATTERN, fullmatch=True).filter(lambda value: len(value) <= 64))
def test_every_network_the_pattern_allows_is_taken(network: str) -> None:
    AllowedNetworkCreate(network=network)


@settings(max_examples=500, suppress_health_check=list(HealthCheck), database=None)
@given(st.from_regex(DOMAIN_PATTERN, fullmatch=True).filter(lambda value: len(value) <= 253))
def test_every_domain_the_pattern_allows_is_taken(domain: str) -> None:
    assert normalize_domain(domain) is not None


@pytest.mark.parametrize("network", ["10.0.0.300/8", "10.0.0.0/255.0.0.0", "1::2::3", "01.2.3.4", "10.0.0.0/33"])
def test_a_network_the_check_refuses_the_pattern_refuses(network: str) -> None:
    with pytest.raises(ValidationError):
        AllowedNetworkCreate(network=network)
    assert re.fullmatch(NETWORK_PATTERN, network) is None
    assert not jsonschema_rs.validator_for({"type": "string", "pattern": NETWORK_PATTERN}).is_valid(network)


@pytest.mark.parametrize("domain", ["not a domain", " acme.example", "acme", "-acme.example", "acme..example"])
def test_a_domain_the_check_refuses_the_pattern_refuses(domain: str) -> None:
    assert normalize_domain(domain) is None
    assert re.fullmatch(DOMAIN_PATTERN, domain) is None
    assert not jsonschema_rs.validator_for({"type": "string", "pattern": DOMAIN_PATTERN}).is_valid(domain)


def test_the_schemas_publish_the_patterns() -> None:
    assert OrganizationCreate.model_json_schema()["properties"]["domains"]["items"]["pattern"] == DOMAIN_PATTERN
    assert AllowedNetworkCreate.model_json_schema()["properties"]["network"]["pattern"] == NETWORK_PATTERN
    assert normalize_domain("@Acme.Example.") == "acme.example"
