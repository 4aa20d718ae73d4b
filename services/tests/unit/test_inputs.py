"""One strict input base and one email-address rule for every service."""

from __future__ import annotations

import pytest
from pydantic import ConfigDict, TypeAdapter, ValidationError

from omnicase.kit.inputs import EmailAddress, StrictInput, is_email_address


@pytest.mark.parametrize(
    "address",
    ["jane@example.com", "jane.doe+support@mail.example.co.uk", "o'brien@example.ie", "anna@bücher.de"],
)
def test_addresses_mail_can_reach_pass(address: str) -> None:
    assert is_email_address(address)
    assert TypeAdapter(EmailAddress).validate_python(f"  {address} ") == address


@pytest.mark.parametrize(
    "address",
    [
        "jane@localhost",  # no dotted domain
        "jane@example..com",  # empty label
        "jane@.example.com",
        "jane doe@example.com",
        "<jane@example.com>",
        "jane@exa,mple.com",
        '"jane"@example.com',
        "jane@@example.com",
        "@example.com",
        "a" * 250 + "@example.com",  # over 254
    ],
)
def test_what_cannot_receive_mail_is_refused(address: str) -> None:
    assert not is_email_address(address)
    with pytest.raises(ValidationError):
        TypeAdapter(EmailAddress).validate_python(address)


def test_a_strict_input_names_each_unknown_field_and_keeps_its_own_settings() -> None:
    class Body(StrictInput):
        model_config = ConfigDict(str_strip_whitespace=True)
        name: str

    assert Body.model_validate({"name": " Ada "}).name == "Ada", "the model's own config still applies"
    with pytest.raises(ValidationError) as refused:
        Body.model_validate({"name": "Ada", "colour": "red", "admin": True})
    assert sorted(error["loc"][0] for error in refused.value.errors()) == ["admin", "colour"]
