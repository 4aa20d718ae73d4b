"""One strict input base and one email-address rule for every service."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from typing import Annotated, Any

import jsonschema_rs
import pytest
from pydantic import ConfigDict, Field, TypeAdapter, ValidationError

from omnicase.kit.inputs import (
    EMAIL_ADDRESS_PATTERN,
    FREE_FORM_DEPTH,
    NOT_SPACE,
    STORABLE_TEXT_PATTERN,
    EmailAddress,
    Integer,
    IsoDate,
    IsoDateTime,
    PatchInput,
    StrictInput,
    TimeZoneName,
    body_schema,
    is_email_address,
    time_zone_names,
)


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


def test_the_published_pattern_and_the_validator_agree_on_whitespace_the_regex_engines_disagree_on() -> None:
    # JavaScript reads the schema's pattern (browsers, schema-driven clients): it must refuse
    # exactly what the server refuses, U+0085 and U+FEFF included.
    candidates = [f"ana{character}x@example.com" for character in "\u0085\ufeff\u00a0\u2028\u3000\u001f"]
    candidates.append("ana@example.com")
    in_javascript = _javascript_matches(EMAIL_ADDRESS_PATTERN, candidates)
    on_the_server = [is_email_address(candidate) for candidate in candidates]
    assert in_javascript == on_the_server == [False, False, False, False, False, False, True]


def test_a_token_without_spaces_is_one_in_python_javascript_and_rust_alike() -> None:
    # A pattern built on NOT_SPACE (tags, blocked senders, conversation ids) refuses in every
    # engine what any engine counts as whitespace: schemathesis generates by Python's \\s,
    # pydantic checks by Rust's, browsers by JavaScript's.
    pattern = rf"^{NOT_SPACE}+$"
    candidates = [f"vip{character}x" for character in "\u0085\ufeff\u00a0\u2028\u3000\u001f\u0000\t"]
    candidates.append("vip-x")
    expected = [False] * 8 + [True]
    assert _javascript_matches(pattern, candidates) == expected
    assert [re.fullmatch(pattern, candidate) is not None for candidate in candidates] == expected
    rust = jsonschema_rs.validator_for({"type": "string", "pattern": pattern})
    assert [rust.is_valid(candidate) for candidate in candidates] == expected
    token = TypeAdapter(Annotated[str, Field(pattern=pattern)])
    for candidate, valid in zip(candidates, expected, strict=True):
        try:
            token.validate_python(candidate)
        except ValidationError:
            assert not valid, candidate
        else:
            assert valid, candidate


def test_a_strict_input_names_each_unknown_field_and_keeps_its_own_settings() -> None:
    class Body(StrictInput):
        model_config = ConfigDict(str_strip_whitespace=True)
        name: str

    assert Body.model_validate({"name": " Ada "}).name == "Ada", "the model's own config still applies"
    with pytest.raises(ValidationError) as refused:
        Body.model_validate({"name": "Ada", "colour": "red", "admin": True})
    assert sorted(error["loc"][0] for error in refused.value.errors()) == ["admin", "colour"]


def test_a_body_schema_for_openapi_extra_carries_no_reference_it_cannot_resolve() -> None:
    class Party(StrictInput):
        email: EmailAddress | None = None

    class Message(StrictInput):
        sender: Party
        cc: list[Party] = Field(default_factory=list)

    schema = body_schema(Message)
    assert "$ref" not in json.dumps(schema)
    assert "$defs" not in schema
    assert schema["properties"]["sender"]["properties"]["email"]["anyOf"][0]["pattern"] == EMAIL_ADDRESS_PATTERN
    assert schema["properties"]["cc"]["items"]["title"] == "Party"


def test_an_integer_refuses_true_and_false_but_takes_what_json_calls_an_integer() -> None:
    adapter = TypeAdapter(Integer)
    assert adapter.validate_python(5) == 5
    assert adapter.validate_python(5.0) == 5, "JSON Schema's integer includes 5.0"
    for wrong in (True, False, 5.5, "five"):
        with pytest.raises(ValidationError):
            adapter.validate_python(wrong)


@pytest.mark.parametrize("kind", [IsoDate, IsoDateTime])
def test_dates_and_times_are_iso_8601_not_seconds_since_1970(kind: Any) -> None:
    adapter = TypeAdapter(kind)
    assert str(adapter.validate_python("2026-12-05")).startswith("2026-12-05")
    for number in ("0", "0.5", "1764926400", 0, 0.5, "-1e3"):
        with pytest.raises(ValidationError):
            adapter.validate_python(number)


@pytest.mark.parametrize("text", ["nul \x00 inside", "half a pair \ud83d", "\udfff"])
def test_text_postgresql_cannot_store_is_refused_naming_where(text: str) -> None:
    class Note(StrictInput):
        tags: list[str]
        extra: dict[str, str]

    with pytest.raises(ValidationError) as refused:
        Note.model_validate({"tags": ["fine", text], "extra": {}})
    assert "tags.1" in str(refused.value)
    with pytest.raises(ValidationError):
        Note.model_validate({"tags": [], "extra": {text: "key"}})
    assert Note.model_validate({"tags": ["emoji \U0001f600 fine"], "extra": {}}).tags == ["emoji \U0001f600 fine"]


def test_the_schema_publishes_which_text_can_be_stored_in_every_free_text_and_key() -> None:
    class Note(StrictInput):
        tags: list[str]
        extra: dict[str, str]
        title: str | None = None
        email: EmailAddress | None = None

    schema = Note.model_json_schema()
    storable = {"pattern": STORABLE_TEXT_PATTERN}
    assert schema["properties"]["tags"]["items"] == {"type": "string"} | storable
    assert schema["properties"]["extra"]["propertyNames"] == storable
    assert schema["properties"]["extra"]["additionalProperties"] == {"type": "string"} | storable
    assert schema["properties"]["title"]["anyOf"][0] == {"type": "string"} | storable
    assert schema["properties"]["email"]["anyOf"][0]["pattern"] == EMAIL_ADDRESS_PATTERN, "a pattern of its own stays"
    assert "propertyNames" not in schema, "the body's own keys are its fields"
    # Python, JavaScript and the Rust engines schema tools use read the pattern alike: a NUL
    # is refused (so is a lone surrogate, by the validator alone), an emoji is fine.
    candidates = ["nul \x00 inside", "emoji \U0001f600 fine", ""]
    in_python = [re.fullmatch(STORABLE_TEXT_PATTERN, text) is not None for text in candidates]
    in_rust = [
        jsonschema_rs.validator_for({"type": "string", "pattern": STORABLE_TEXT_PATTERN}).is_valid(text)
        for text in candidates
    ]
    node = shutil.which("node")
    assert node is not None, "node comes with `make test` (the TypeScript client needs it)"
    script = (
        "const r = new RegExp(process.argv[1], 'u');"
        "console.log(JSON.stringify(JSON.parse(process.argv[2]).map((v) => r.test(v))))"
    )
    done = subprocess.run(
        [node, "-e", script, STORABLE_TEXT_PATTERN, json.dumps(candidates)], capture_output=True, text=True, check=True
    )
    assert in_python == in_rust == json.loads(done.stdout) == [False, True, True]


def test_a_patch_refuses_null_naming_each_field_and_its_schema_offers_null_only_where_it_is_taken() -> None:
    class Change(PatchInput):
        nullable = frozenset({"assignee_id"})
        name: str | None = Field(default=None, min_length=1)
        tags: list[str] | None = Field(default=None, max_length=5)
        assignee_id: str | None = None

    assert Change.model_validate({"name": "x"}).model_fields_set == {"name"}
    assert Change.model_validate({"assignee_id": None}).assignee_id is None, "null unassigns"
    with pytest.raises(ValidationError) as refused:
        Change.model_validate({"name": None, "tags": None})
    assert [(error["loc"], error["type"]) for error in refused.value.errors()] == [
        (("name",), "null"),
        (("tags",), "null"),
    ]
    properties = Change.model_json_schema()["properties"]
    assert (properties["name"]["type"], properties["name"]["minLength"]) == ("string", 1)
    assert (properties["tags"]["type"], properties["tags"]["maxItems"]) == ("array", 5)
    assert {"type": "null"} in properties["assignee_id"]["anyOf"]


def test_a_time_zone_is_one_the_schema_lists_and_the_list_is_what_the_server_knows() -> None:
    adapter = TypeAdapter(TimeZoneName)
    assert adapter.validate_python("Europe/Berlin") == "Europe/Berlin"
    with pytest.raises(ValidationError, match="Mars/Olympus"):
        adapter.validate_python("Mars/Olympus")
    published = adapter.json_schema()["enum"]
    assert "Europe/Berlin" in published
    assert "Asia/Seoul" in published
    assert set(published) == time_zone_names(), "the document lists exactly what the validator takes"


def test_a_dict_with_constrained_keys_says_it_takes_no_other_key() -> None:
    class Labels(StrictInput):
        labels: dict[Annotated[str, Field(pattern=r"^[a-z]{2}$")], str]

    schema = Labels.model_json_schema()["properties"]["labels"]
    assert schema["additionalProperties"] is False, "pydantic refuses a key outside the pattern; the schema says so"
    with pytest.raises(ValidationError):
        Labels.model_validate({"labels": {"english": "x"}})


def test_a_free_form_value_publishes_that_its_texts_and_keys_are_storable_at_any_depth() -> None:
    class Body(StrictInput):
        value: Any = None
        custom_fields: dict[str, Any] = Field(default_factory=dict)

    schema = jsonschema_rs.validator_for(Body.model_json_schema())
    for body in [
        {"value": {"a": [1, 2.5, True, None, "x", {"b": "c"}]}},
        {"custom_fields": {"order": {"lines": [["x"]]}}},
        {"value": None},
    ]:
        assert schema.is_valid(body), body
        Body.model_validate(body)
    for body in [
        {"value": {"a": ["x\u0000"]}},
        {"value": [{"k\u0000": 1}]},
        {"custom_fields": {"k\u0000": 1}},
        {"custom_fields": {"k": {"deep": ["\u0000"]}}},
    ]:
        assert not schema.is_valid(body), body
        with pytest.raises(ValidationError):
            Body.model_validate(body)


def test_a_free_form_value_nests_at_most_seven_arrays_or_objects_in_the_check_and_the_schema() -> None:
    class Body(StrictInput):
        value: Any = None
        custom_fields: dict[str, Any] | None = None

    schema = jsonschema_rs.validator_for(Body.model_json_schema())

    def nested(depth: int) -> Any:
        value: Any = "leaf"
        for level in range(depth):
            value = [value] if level % 2 else {"k": value}
        return value

    for body in [{"value": nested(FREE_FORM_DEPTH)}, {"custom_fields": {"a": nested(FREE_FORM_DEPTH)}}]:
        assert schema.is_valid(body)
        Body.model_validate(body)
    for body in [{"value": nested(FREE_FORM_DEPTH + 1)}, {"custom_fields": {"a": nested(FREE_FORM_DEPTH + 1)}}]:
        assert not schema.is_valid(body)
        with pytest.raises(ValidationError, match="nests more than"):
            Body.model_validate(body)


def _javascript_matches(pattern: str, candidates: list[str]) -> list[bool]:
    """Whether JavaScript's RegExp (what browsers and schema-driven clients run) matches each candidate."""
    node = shutil.which("node")
    assert node is not None, "node comes with `make test` (the TypeScript client needs it)"
    script = (
        "const r = new RegExp(process.argv[1]);"
        "console.log(JSON.stringify(JSON.parse(process.argv[2]).map((v) => r.test(v))))"
    )
    done = subprocess.run(
        [node, "-e", script, pattern, json.dumps(candidates)], capture_output=True, text=True, check=True
    )
    matches: list[bool] = json.loads(done.stdout)
    return matches
