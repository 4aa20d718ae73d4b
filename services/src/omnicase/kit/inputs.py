"""What every request body shares: the strict input base and the one email-address rule.

- :class:`StrictInput`: unknown fields are refused (a 422 naming each), never ignored, so a
  typo or a field the caller may not set is visible (mass assignment), and so is text
  PostgreSQL cannot store (a NUL character, or half of a UTF-16 surrogate pair, which JSON
  can carry as ``\\u0000`` or ``\\ud800``): a 422 naming where, not a 500 at the insert.
  Every request-body model derives from it; a model adds its own ``model_config`` keys,
  which pydantic merges.
- :func:`is_email_address` / :data:`EmailAddress`: a local part and a dotted domain with no
  empty label, no spaces, brackets, quotes or separators, at most 254 characters (RFC 5321's
  path limit). Deliberately loose beyond that (RFC 5322 allows far more, and domains may be
  internationalised), it rejects what surely cannot receive mail, such as ``jane@localhost``.
  :data:`EMAIL_ADDRESS_PATTERN` is also valid JavaScript, for browsers checking a form.
  :func:`email_key` is the one spelling of an address the suite compares and keys by.
- :data:`Integer`: an ``int`` field that refuses ``true``/``false`` (pydantic would take them as
  1 and 0; JSON Schema's integer does not); give it bounds the column holds.
  Booleans are pydantic's ``StrictBool``, which refuses ``1`` and ``"yes"`` likewise.
- :data:`TimeZoneName`: an IANA time zone the server knows; the schema lists them (an enum).
- :data:`IsoDate`, :data:`IsoDateTime`: a date or time in ISO 8601 only, as the schema's
  ``format`` says (pydantic would also read ``0`` or ``0.5`` as seconds since 1970).
- :func:`body_schema`: a model's JSON schema for a route's hand-written ``openapi_extra``
  request body (several media types), its nested models inlined: pydantic's ``$defs``
  would be references no OpenAPI reader can resolve there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from types import UnionType
from typing import Annotated, Any, ClassVar, Self, Union, get_args, get_origin
from urllib.parse import parse_qsl
from zoneinfo import available_timezones

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, InitErrorDetails, PydanticCustomError, core_schema
from starlette.types import ASGIApp, Receive, Scope, Send
from typing_extensions import TypeAliasType

from omnicase.kit.clock import utcnow
from omnicase.kit.errors import FieldError, ValidationFailed, error_response

# No NUL (PostgreSQL's text cannot hold one). \s differs between regex engines: JavaScript's
# (the published schema, browsers) takes U+FEFF and not U+0085, Rust's (pydantic) and Python's
# the other way round, and Python's alone takes U+001C to U+001F; all are named so that every
# engine refuses the same addresses.
_NOT_IN_ADDRESS = r"@\s\u0000\u001c-\u001f\u0085\ufeff<>()\[\],;:\""
SPACE_OR_NUL = r"\s\u0000\u001c-\u001f\u0085\ufeff"
"""NUL and whitespace in any engine's sense (the union above), inside a character class of a
published pattern: ``rf"[^/{SPACE_OR_NUL}]"``."""
NOT_SPACE = rf"[^{SPACE_OR_NUL}]"
"""One character that is neither NUL nor whitespace in any engine's sense (the union above
named), for a published pattern of a token without spaces: ``rf"^{NOT_SPACE}+$"``."""
# What Python's str.strip removes, named one by one so every engine reads a pattern alike, and NUL.
_STRIPPED = r"\u0000\t\n\u000b\u000c\r\u001c-\u001f \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"


@dataclass(frozen=True)
class Trimmed:
    """``Annotated[str, Trimmed(200)]``: a text trimmed of surrounding whitespace that must keep a
    character (a name, a title, a term), and whose published schema says so (a pattern asking for
    one character str.strip keeps), so a body the schema allows is never refused for a blank."""

    max_length: int

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.str_schema(strip_whitespace=True, min_length=1, max_length=self.max_length)

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        return {
            "type": "string",
            "minLength": 1,
            "maxLength": self.max_length,
            "pattern": rf"^[^\u0000]*[^{_STRIPPED}][^\u0000]*$",
        }


EMAIL_ADDRESS_PATTERN = rf"^[^{_NOT_IN_ADDRESS}]+@[^{_NOT_IN_ADDRESS}.]+(\.[^{_NOT_IN_ADDRESS}.]+)+$"
MAX_EMAIL_ADDRESS_LENGTH = 254
_EMAIL_ADDRESS = re.compile(EMAIL_ADDRESS_PATTERN)

EmailAddress = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=MAX_EMAIL_ADDRESS_LENGTH, pattern=EMAIL_ADDRESS_PATTERN),
]


CASE_TAG_PATTERN = r"^\s*[A-Za-z0-9][A-Za-z0-9_\-:./]{0,99}\s*$"
"""A tag a case carries, as a client may send it (case-core stores it trimmed and lowercased): every
service that asks for a tag to be put on a case holds its input to this one rule, so what it
accepted is never a command case-core must refuse."""


def _not_a_boolean(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("must be a number, not true or false")
    return value


Integer = Annotated[int, BeforeValidator(_not_a_boolean)]


def _iso_8601(value: Any) -> Any:
    if isinstance(value, int | float) or (isinstance(value, str) and _NUMBER.match(value.strip())):
        raise ValueError("must be an ISO 8601 date or time, such as 2026-12-05 or 2026-12-05T09:30:00Z")
    return value


_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
IsoDate = Annotated[date, BeforeValidator(_iso_8601)]
IsoDateTime = Annotated[datetime, BeforeValidator(_iso_8601)]


@cache
def time_zone_names() -> frozenset[str]:
    """The IANA time zones this server knows (its tzdata): what a time-zone field takes."""
    return frozenset(available_timezones())


def _known_time_zone(value: str) -> str:
    if value not in time_zone_names():
        raise ValueError(f"unknown time zone {value!r}; use an IANA name such as 'Europe/Berlin'")
    return value


def _publish_time_zones(schema: dict[str, Any]) -> None:
    schema["enum"] = sorted(time_zone_names())


# A locale as the suite stores it, in lower case (``en``, ``ko``, ``pt-br``), so two keys never
# name one locale; compare a case's language or a contact's locale in lower case too.
LOCALE_PATTERN = r"^[a-z]{2,3}(-[a-z0-9]{2,8})*$"
Locale = Annotated[str, StringConstraints(pattern=LOCALE_PATTERN, max_length=20)]
"""A language tag in lower case: ``en``, ``zh``, ``pt-br``."""

TimeZoneName = Annotated[
    str,
    Field(examples=["Europe/Berlin"], json_schema_extra=_publish_time_zones),
    AfterValidator(_known_time_zone),
]
"""An IANA time zone name; the schema lists every one the server knows, from the same source."""


def is_email_address(value: str) -> bool:
    """Whether ``value`` (already stripped) is an address mail can be sent to."""
    return len(value) <= MAX_EMAIL_ADDRESS_LENGTH and _EMAIL_ADDRESS.match(value) is not None


def email_key(value: str) -> str:
    """``value`` stripped and lower-cased, the whole address (providers treat local parts
    case-insensitively): how a contact's identity, a mail's thread and a form's message key
    spell one sender, so that they meet."""
    return value.strip().lower()


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _unstorable_text(value: Any, path: str) -> str | None:
    """Where in ``value`` a string holds a character PostgreSQL text cannot, if anywhere."""
    if isinstance(value, str):
        return path if _UNSTORABLE.search(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            if _unstorable_text(key, path) is not None:
                return f"{path}.{key!r}" if isinstance(key, str) else path
            found = _unstorable_text(item, f"{path}.{key}")
            if found is not None:
                return found
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = _unstorable_text(item, f"{path}.{index}")
            if found is not None:
                return found
    return None


STORABLE_TEXT_PATTERN = r"^[^\u0000]*$"
"""What every request body's schema publishes for a free text field or key: no NUL, which
PostgreSQL's text cannot hold. The validator also refuses a lone UTF-16 surrogate, which no
pattern can name portably (Rust's engines, jsonschema-rs and so schemathesis among them,
refuse a surrogate in a pattern, and their strings cannot hold one)."""


# How deep a free-form value (a condition's value, a custom field's) may nest arrays and objects:
# StrictInput refuses a deeper one, and the published schema says the same as a chain of named
# levels, the last taking no container. Not a schema that refers to itself: schemathesis
# (hypothesis-jsonschema) barely generates from a recursive one (its stateful scenarios fell from
# 110 to 13); nor a tree inline, which doubles with every level.
FREE_FORM_DEPTH = 7


def _storable_levels(depth: int) -> Any:
    text = Annotated[str, Field(pattern=STORABLE_TEXT_PATTERN)]
    level: Any = TypeAliasType(f"StorableValue{depth + 1}", Union[text, int, float, bool, None])  # noqa: UP007
    for number in range(depth, 0, -1):
        level = TypeAliasType(  # type: ignore[misc]
            f"StorableValue{number}",
            Union[  # noqa: UP007 (built at run time)
                text,
                int,
                float,
                bool,
                list[level],
                Annotated[
                    dict[str, level], Field(json_schema_extra={"propertyNames": {"pattern": STORABLE_TEXT_PATTERN}})
                ],
                None,
            ],
        )
    return level


def _nesting(value: Any) -> int:
    """How many arrays and objects ``value`` nests (0 for a string, number, boolean or null)."""
    if isinstance(value, dict):
        return 1 + max((_nesting(item) for item in value.values()), default=0)
    if isinstance(value, list | tuple):
        return 1 + max((_nesting(item) for item in value), default=0)
    return 0


def _free_form(annotation: Any) -> str | None:
    """``"value"`` for a field typed ``Any``, ``"values"`` for ``dict[str, Any]`` (either optional), else None."""
    if annotation is Any:
        return "value"
    arguments = [argument for argument in get_args(annotation) if argument is not type(None)]
    if get_origin(annotation) is dict and arguments[-1:] == [Any]:
        return "values"
    if get_origin(annotation) in (Union, UnionType) and len(arguments) == 1:
        return _free_form(arguments[0])
    return None


StorableValue = _storable_levels(FREE_FORM_DEPTH)
"""Any JSON value whose texts and keys hold no NUL, nesting at most :data:`FREE_FORM_DEPTH` arrays and
objects: what a request body's free-form value (``Any``, ``dict[str, Any]``) takes and publishes."""
_STORABLE_VALUE = TypeAdapter(StorableValue).core_schema


def storable_value_components() -> dict[str, Any]:
    """The component schemas :data:`StorableValue`'s levels are in an OpenAPI document."""
    schema = TypeAdapter(StorableValue).json_schema(ref_template="#/components/schemas/{model}")
    definitions: dict[str, Any] = schema.pop("$defs", {})
    return definitions


# Keys that describe a schema without constraining it: a node of only these takes any value.
_ANNOTATIONS = {"title", "description", "default", "examples", "deprecated"}


def _storable_anything(node: Any, storable: JsonSchemaValue) -> Any:
    """``storable`` (with ``node``'s annotations) where ``node`` takes any value, else ``node``."""
    if node is True or (isinstance(node, dict) and node.keys() <= _ANNOTATIONS):
        return {**(node if isinstance(node, dict) else {}), **storable}
    return node


def _publish_storable_text(node: Any, storable: JsonSchemaValue) -> None:
    """Give every free text in a model's own schema (not its references) the storable-text pattern,
    every free-form value :func:`storable_value_schema`, and say that a dict with constrained
    keys takes no other key."""
    if not isinstance(node, dict):
        return
    if node.get("type") == "string" and not {"pattern", "format", "enum", "const"} & node.keys():
        node["pattern"] = STORABLE_TEXT_PATTERN
    if node.get("additionalProperties", False) is not False and "propertyNames" not in node:
        node["propertyNames"] = {"pattern": STORABLE_TEXT_PATTERN}
    if "patternProperties" in node and "additionalProperties" not in node:
        # pydantic's schema of a dict with constrained keys names the keys it takes, and it refuses any other.
        node["additionalProperties"] = False
    for key in ("properties", "patternProperties"):
        children = node.get(key, {})
        for name, child in children.items():
            children[name] = _storable_anything(child, storable)
            if children[name] is child:  # what was put there already says all it needs to
                _publish_storable_text(child, storable)
    for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
        for child in node.get(key, []):
            _publish_storable_text(child, storable)
    for key in ("items", "additionalProperties"):
        if key in node:
            child = node[key]
            node[key] = _storable_anything(child, storable)
            if node[key] is child:
                _publish_storable_text(child, storable)


class StrictInput(BaseModel):
    """A request body: unknown fields and unstorable text are validation errors, and its schema
    says so (``additionalProperties: false``; :data:`STORABLE_TEXT_PATTERN` on its free texts)."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _storable_text(cls, data: Any) -> Any:
        found = _unstorable_text(data, "")
        if found is not None:
            where = found.lstrip(".") or "the value"
            raise ValueError(f"{where} holds a NUL character or a lone UTF-16 surrogate, which cannot be stored")
        if isinstance(data, dict):
            for name, field in cls.model_fields.items():
                kind, value = _free_form(field.annotation), data.get(field.alias or name)
                values = value.values() if kind == "values" and isinstance(value, dict) else [value]
                if kind is not None and any(_nesting(item) > FREE_FORM_DEPTH for item in values):
                    raise ValueError(f"{name} nests more than {FREE_FORM_DEPTH} arrays or objects")
        return data

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        schema = handler(core_schema)
        _publish_storable_text(handler.resolve_ref_schema(schema), handler(_STORABLE_VALUE))
        return schema


class PatchInput(StrictInput):
    """A PATCH body: a field left out keeps its value, and ``null`` is refused (naming the field)
    except in the fields listed in ``nullable``, where null means something (``assignee_id``:
    unassign). The schema offers null only where it is taken."""

    nullable: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def _no_nulls(self) -> Self:
        nulls = [name for name in self.model_fields_set if getattr(self, name) is None and name not in self.nullable]
        if nulls:
            null = PydanticCustomError("null", "cannot be null: leave the field out to keep its value")
            raise ValidationError.from_exception_data(
                type(self).__name__,
                [InitErrorDetails(type=null, loc=(name,), input=None) for name in sorted(nulls)],
            )
        return self

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        schema = handler.resolve_ref_schema(super().__get_pydantic_json_schema__(core_schema, handler))
        for name, field in schema.get("properties", {}).items():
            branches = field.get("anyOf")
            if name in cls.nullable or not branches or {"type": "null"} not in branches:
                continue
            kept = [branch for branch in branches if branch != {"type": "null"}]
            del field["anyOf"]
            if len(kept) == 1:
                field.update(kept[0])
            else:
                field["anyOf"] = kept
        return schema


class UnstorableQueryMiddleware:
    """A query parameter or path holding a NUL is a 422 naming it, before any route runs.

    PostgreSQL text cannot hold a NUL: a search or filter carrying one (``?q=%00``) failed
    deep in a query as a 500. Bodies are checked by :class:`StrictInput`.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        fields = _unstorable_parts(scope) if scope["type"] == "http" else []
        if not fields:
            await self.app(scope, receive, send)
            return
        errors = [FieldError(field=field, message="holds a NUL character", code="unstorable") for field in fields]
        detail = f"The request is not valid: {', '.join(fields)}."
        response = error_response(ValidationFailed(detail, errors=errors), scope["path"])
        await response(scope, receive, send)


def _unstorable_parts(scope: Scope) -> list[str]:
    fields = ["path"] if "\x00" in scope["path"] else []
    query: bytes = scope["query_string"]
    if b"%00" in query:  # a NUL reaches a query string only percent-encoded
        pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
        fields += dict.fromkeys(f"query.{name}" for name, value in pairs if "\x00" in name + value)
    return fields


def body_schema(model: type[BaseModel]) -> dict[str, Any]:
    """``model``'s JSON schema with every ``#/$defs/…`` reference replaced by the definition itself,
    except :data:`StorableValue`'s levels: references to the components every service's document
    carries (:func:`storable_value_components`), as inlined they would double with every level."""
    schema = model.model_json_schema()
    definitions: dict[str, Any] = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            reference = node.get("$ref")
            if isinstance(reference, str) and reference.startswith("#/$defs/StorableValue"):
                return {**node, "$ref": reference.replace("#/$defs/", "#/components/schemas/")}
            if isinstance(reference, str) and reference.startswith("#/$defs/"):
                return inline(definitions[reference.removeprefix("#/$defs/")])
            return {key: inline(value) for key, value in node.items()}
        if isinstance(node, list):
            return [inline(item) for item in node]
        return node

    inlined: dict[str, Any] = inline(schema)
    return inlined


REPORT_PERIOD_MAX = timedelta(days=366)
REPORT_PERIOD_DEFAULT = timedelta(days=30)


def report_period(since: datetime | None, until: datetime | None) -> tuple[datetime, datetime]:
    """A report's ``[since, until)`` from its query (``since``, ``until``): a time without offset is
    UTC, as every timestamp of the API; until defaults to now, since to 30 days before until; a
    period reversed or longer than 366 days is a 422 naming ``query.since``. sla-engine's attainment
    and reporting's metrics and export hold their periods to it."""
    until = (until if until.tzinfo else until.replace(tzinfo=UTC)) if until else utcnow()
    try:
        since = (since if since.tzinfo else since.replace(tzinfo=UTC)) if since else until - REPORT_PERIOD_DEFAULT
    except OverflowError:
        raise ValidationFailed(
            "The reporting period is not valid.",
            errors=[FieldError(field="query.until", message="no 30 days before it to report on", code="out_of_range")],
        ) from None
    if since >= until:
        error = FieldError(field="query.since", message="must be before until", code="period_order")
    elif until - since > REPORT_PERIOD_MAX:
        error = FieldError(field="query.since", message="the period is at most 366 days", code="too_long")
    else:
        return since, until
    raise ValidationFailed("The reporting period is not valid.", errors=[error])
