"""schemathesis against the suite, for the contract tests and ``make contract``.

:func:`exercise` calls one OpenAPI operation with generated input, deterministically (the same
inputs every run) and without hypothesis' example database, so a failure reproduces from the test
alone. :data:`CONFIG` is the schemathesis configuration both the tests and ``schemathesis run``
read; this module is also their hooks module (``SCHEMATHESIS_HOOKS=omnicase.devtools.testing.contract``
for the command line): it teaches the generator the rules the document names but no JSON Schema
keyword can hold, so that "schema-valid input refused" keeps its meaning everywhere else.

- ``format: phone`` (case-core's contacts and a case's requester): a number a numbering plan
  accepts, drawn from libphonenumber's own example numbers, written as clients write them.
- A holiday's ``end_date`` not before its ``start_date`` and less than 366 days after it
  (sla-engine business hours), and a reporting period's ``since`` before its ``until``, at most
  366 days apart (``GET /api/v1/sla/attainment``, reporting's ``/api/v1/reports/...``), both
  between the years 1900 and 9000: JSON Schema compares no two values of one instance and bounds
  no date-time, so a generated pair is put in order and within its span, and a period at the
  calendar's very edge (its default 30 days before year 1, its last interval in year 10000 in
  some time zone), which the services refuse with a 422 naming the field, is not generated as valid.
- A form's fields have unique keys, none the form's honeypot field, each labelled in the form's
  default locale (English, Korean and Chinese are said with ``if``/``then``; any other locale is
  a key named by another field's value): a generated form keeps the first field of each key,
  labels each in its default locale and names its honeypot unlike its fields.
- An agent lists each skill once (routing): the first level given for a skill is kept.
- A synonym set's terms differ from each other in any letter case and each holds a word a
  search can match (knowledge): a term that repeats one before it, or holds no letter or digit,
  gets a word of its own appended.
- A chat widget has its own business hours or names sla-engine's, not both (intake-web): a config
  generated with both keeps its own.
- An internal note carries no articles (case-core: only a reply, which customers read, links
  them): a message generated with ``public: false`` is sent without its ``articles``.

Only input generated as valid is changed (a case generated to break the schema is left as it is).

The service still refuses each of these with a 422 naming the field, as its own tests show; only
the generated input for "schema-valid" is brought inside them. What the generator cannot avoid is
said in :data:`CONFIG` with why (a stale ``If-Match``, a form's own definition of a submission),
and :func:`filter_failure` drops "created resource not found" where the 404 names a body field,
and "schema-violating request accepted" where the only violation is an undeclared query parameter.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import phonenumbers
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import CheckFunction
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import AcceptedNegativeData
from schemathesis.openapi.checks import EnsureResourceAvailability

CONFIG = Path(__file__).with_name("schemathesis.toml")
"""What the checks expect that their defaults do not say, each with why (read by both tests and ``make contract``)."""

HOOKS = __name__
"""The module ``schemathesis run`` imports for these hooks (its ``SCHEMATHESIS_HOOKS``)."""


def schemathesis_config() -> SchemathesisConfig:
    return SchemathesisConfig.from_path(CONFIG)


def exercise(
    operation: Any, base_url: str, headers: dict[str, str], *, examples: int, checks: list[CheckFunction] | None = None
) -> None:
    """Call ``operation`` with ``examples`` generated inputs; ``checks`` None runs every check schemathesis has."""

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def run(case: schemathesis.Case[Any]) -> None:
        case.call_and_validate(base_url=base_url, headers=headers, checks=checks)

    run()


Hook = TypeVar("Hook", bound=Callable[..., Any])


def _hook(name: str, **where: str) -> Callable[[Hook], Hook]:
    """``schemathesis.hook(name).apply_to(**where)``, typed."""
    register: Any = schemathesis.hook(name)
    decorator: Callable[[Hook], Hook] = register.apply_to(**where)
    return decorator


@schemathesis.serializer("message/rfc822")
def _raw_mail(ctx: schemathesis.SerializationContext, value: Any) -> bytes:
    """A generated value as the bytes of a message, as the inbound-parse webhook takes it."""
    return value if isinstance(value, bytes) else str(value).encode()


def _positive(case: schemathesis.Case[Any]) -> bool:
    """Whether ``case`` was generated as valid input: only then is it brought inside a rule (a
    negative case changed here could become a valid one the check then says was accepted)."""
    return case.meta is None or case.meta.generation.mode.is_positive


# -- phone numbers ----------------------------------------------------------------------


def _example_phone_numbers() -> list[str]:
    numbers = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        number = phonenumbers.example_number(region)
        if number is not None:
            numbers.append(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
            numbers.append(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL))
    return numbers


schemathesis.openapi.format("phone", st.sampled_from(_example_phone_numbers()))


# -- two values in order ----------------------------------------------------------------

MAX_HOLIDAY_DAYS = 366  # sla-engine's business_hours.service.MAX_HOLIDAY_DAYS
MAX_PERIOD = timedelta(days=366)  # sla-engine's tracking.reporting.MAX_PERIOD


def _holidays_in_order(node: Any) -> None:
    if isinstance(node, list):
        for item in node:
            _holidays_in_order(item)
        return
    if not isinstance(node, dict):
        return
    start, end = node.get("start_date"), node.get("end_date")
    if isinstance(start, str) and isinstance(end, str):
        try:
            first, last = sorted((date.fromisoformat(start), date.fromisoformat(end)))
        except ValueError:
            return  # not a date: the generator was asked for something else
        node["start_date"] = first.isoformat()
        node["end_date"] = (first + timedelta(days=(last - first).days % MAX_HOLIDAY_DAYS)).isoformat()
    for value in node.values():
        _holidays_in_order(value)


@_hook("map_case", path_regex=r"^/api/v1/business-hours")
def holidays_in_order(ctx: schemathesis.HookContext, case: schemathesis.Case[Any]) -> schemathesis.Case[Any]:
    if _positive(case):
        _holidays_in_order(case.body)
    return case


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


@_hook("map_case", path_regex=r"^/api/v1/(sla/attainment|reports/)")
def period_in_order(ctx: schemathesis.HookContext, case: schemathesis.Case[Any]) -> schemathesis.Case[Any]:
    if _positive(case) and isinstance(case.query, dict):
        _period_in_order(case.query)
    return case


# A period's intervals and its default 30 days must fit in the calendar in every time zone.
CALENDAR_KEPT = (datetime(1900, 1, 1, tzinfo=UTC), datetime(9000, 1, 1, tzinfo=UTC))


def _in_calendar(instant: datetime) -> datetime:
    return min(max(instant, CALENDAR_KEPT[0]), CALENDAR_KEPT[1])


def _period_in_order(query: dict[str, Any]) -> None:
    since, until = _instant(query.get("since")), _instant(query.get("until"))
    if until is not None:
        until = _in_calendar(until)
        query["until"] = until.isoformat()
    if since is None or (until is None and "until" in query):
        return
    since = _in_calendar(since)
    # Left out, until is the server's now: a since it compares with is said from an until of its own.
    try:
        until = until or since + timedelta(days=30)
    except OverflowError:
        until = since - timedelta(days=30)
    first, last = sorted((since, until))
    if last - first > MAX_PERIOD or last == first:
        try:
            last = first + timedelta(days=1)
        except OverflowError:
            first = last - timedelta(days=1)
    query["since"], query["until"] = first.isoformat(), last.isoformat()


# -- a form's fields --------------------------------------------------------------------

DEFAULT_LOCALE = "en"  # intake-web's FormIn.default_locale
DEFAULT_HONEYPOT = "website"  # intake-web's SpamSettings.honeypot_field


@_hook("map_case", path_regex=r"^/api/v1/forms(/\{form_id\})?$")
def fields_a_form_takes(ctx: schemathesis.HookContext, case: schemathesis.Case[Any]) -> schemathesis.Case[Any]:
    if _positive(case) and isinstance(case.body, dict) and isinstance(case.body.get("fields"), list):
        _fields_a_form_takes(case.body, patch=case.method.upper() == "PATCH")
    return case


def _fields_a_form_takes(body: dict[str, Any], *, patch: bool) -> None:
    # A change that leaves the default locale out keeps the stored one, which the generator cannot know.
    locale = body.get("default_locale") if patch else body.get("default_locale", DEFAULT_LOCALE)
    keys: set[Any] = set()
    kept = []
    for field in body["fields"]:
        if isinstance(field, dict):
            if field.get("key") in keys:
                continue
            keys.add(field.get("key"))
            labels = field.get("labels")
            if isinstance(labels, dict) and isinstance(locale, str) and locale not in labels:
                labels[locale] = next((label for label in labels.values() if isinstance(label, str)), "Label")
        kept.append(field)
    body["fields"] = kept
    spam = body.get("spam", {} if not patch else None)
    if isinstance(spam, dict) and spam.get("honeypot_field", DEFAULT_HONEYPOT) in keys:
        spam["honeypot_field"] = next(name for n in range(len(keys) + 1) if (name := f"honeypot{n}") not in keys)
        body["spam"] = spam


# -- an agent's skills ------------------------------------------------------------------


@_hook("map_case", path_regex=r"^/api/v1/agents(/\{user_id\})?$")
def skills_listed_once(ctx: schemathesis.HookContext, case: schemathesis.Case[Any]) -> schemathesis.Case[Any]:
    """An agent lists each skill once (routing refuses a skill_id twice; uniqueness by one property
    of the items is no JSON Schema keyword): the first level given for a skill is kept."""
    skills = case.body.get("skills") if isinstance(case.body, dict) else None
    if _positive(case) and isinstance(case.body, dict) and isinstance(skills, list):
        seen: set[Any] = set()
        kept = []
        for skill in skills:
            key = skill.get("skill_id") if isinstance(skill, dict) else None
            if key is None or key not in seen:
                kept.append(skill)
            seen.add(key)
        case.body["skills"] = kept
    return case


# -- a synonym set's terms -------------------------------------------------------------


@_hook("map_case", path_regex=r"^/api/v1/kb/synonyms(/\{synonym_set_id\})?$")
def terms_differ(ctx: schemathesis.HookContext, case: schemathesis.Case[Any]) -> schemathesis.Case[Any]:
    """A synonym set's terms are different words (knowledge refuses a set whose terms are one term
    in any letter case, or a term of punctuation alone; uniqueness after case folding is no JSON
    Schema keyword): a repeated or wordless term gets a word of its own appended."""
    terms = case.body.get("terms") if isinstance(case.body, dict) else None
    if _positive(case) and isinstance(case.body, dict) and isinstance(terms, list):
        seen: set[str] = set()
        kept = []
        for index, term in enumerate(terms):
            if isinstance(term, str) and (term.strip().casefold() in seen or not any(c.isalnum() for c in term)):
                term = f"{term[:90]} term{index}"
            if isinstance(term, str):
                seen.add(term.strip().casefold())
            kept.append(term)
        case.body["terms"] = kept
    return case


# -- a chat widget's one schedule -------------------------------------------------------


@_hook("map_case", path_regex=r"^/api/v1/channels(/\{channel_id\})?$")
def one_schedule_per_widget(ctx: schemathesis.HookContext, case: schemathesis.Case[Any]) -> schemathesis.Case[Any]:
    """A chat widget has its own ``business_hours`` or names sla-engine's ``business_hours_id``, not both
    (intake-web refuses both; "not both present and non-null" is no JSON Schema keyword the document
    uses): a config generated with both keeps its own hours."""
    config = case.body.get("config") if isinstance(case.body, dict) else None
    if _positive(case) and isinstance(config, dict) and config.get("business_hours") is not None:
        config.pop("business_hours_id", None)
    return case


# -- articles on replies only -----------------------------------------------------------


@_hook("map_case", path_regex=r"^/api/v1/cases/\{case_id\}/messages$")
def articles_on_replies_only(ctx: schemathesis.HookContext, case: schemathesis.Case[Any]) -> schemathesis.Case[Any]:
    """Only a public reply links articles (case-core refuses them on an internal note, which
    depends on another property's value: no JSON Schema keyword the document uses)."""
    if _positive(case) and isinstance(case.body, dict) and case.body.get("public") is False:
        case.body.pop("articles", None)
    return case


# -- a 404 about the body ---------------------------------------------------------------


def _problem_type(response: Any) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("type", "")) if isinstance(body, dict) else ""


@schemathesis.hook
def filter_failure(ctx: schemathesis.HookContext, failure: Any, case: Any, response: Any) -> bool:
    """Drop "created resource not found" when the 404 is an ``unknown-reference``: the created
    resource was found, and the body named something else nobody has (a generated
    ``overflow_group_id``, a ``source_case_id`` to merge), which the kit answers with a 404 naming
    that field (JSON:API's rule for a reference to nothing; kit ``UnknownReference``). The check
    sees only the status; the problem's type says which resource was missing. Drop "schema-violating
    request accepted" when all that was invalid is an undeclared query parameter, which the suite
    ignores (:func:`_only_undeclared_query_parameters`)."""
    if isinstance(failure, AcceptedNegativeData) and _only_undeclared_query_parameters(failure.message):
        return False
    return not (
        isinstance(failure, EnsureResourceAvailability) and _problem_type(response).endswith("/unknown-reference")
    )


def _only_undeclared_query_parameters(message: str) -> bool:
    """Whether what made a request "invalid" was only query parameters no operation declares.

    Like most HTTP APIs, the suite ignores a query parameter it does not know (a cache-busting
    ``?_=…``, a client's tracking tag), and OpenAPI cannot say a query takes others; schemathesis
    counts them as a violated ``additionalProperties`` in its stateful phase all the same (its own
    issue 3730)."""
    components = [line for line in message.splitlines() if line.strip().startswith("Invalid component:")]
    return bool(components) and all("in query - violates `additionalProperties`" in line for line in components)
