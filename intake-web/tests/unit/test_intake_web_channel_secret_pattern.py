"""A generic channel's signing secret: the pattern the document publishes takes exactly the keys the check takes."""

from __future__ import annotations

import base64
import re

import jsonschema_rs
import pytest

from omnicase.intake_web.channels.schemas import STANDARD_WEBHOOKS_SECRET_PATTERN, _standard_webhooks_secret


@pytest.mark.parametrize("size", range(20, 70))
@pytest.mark.parametrize("prefix", ["whsec_", ""])
def test_the_published_pattern_and_the_check_agree_on_every_key_size(size: int, prefix: str) -> None:
    secret = prefix + base64.b64encode(bytes(range(size))).decode()
    try:
        _standard_webhooks_secret(secret)
        taken = True
    except ValueError:
        taken = False
    assert taken == (24 <= size <= 64)
    assert (re.fullmatch(STANDARD_WEBHOOKS_SECRET_PATTERN, secret) is not None) == taken
    validator = jsonschema_rs.validator_for({"type": "string", "pattern": STANDARD_WEBHOOKS_SECRET_PATTERN})
    assert validator.is_valid(secret) == taken, "schema tools read the pattern alike"
