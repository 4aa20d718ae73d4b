"""Pure rules: status transitions, reference markers, identity normalisation, HTML sanitising, custom field types."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from omnicase.case_core.cases.lifecycle import can_transition
from omnicase.case_core.custom_fields.repository import CustomFieldRow
from omnicase.case_core.custom_fields.validation import merge_custom_fields, missing_on_solve
from omnicase.case_core.messages import reference
from omnicase.case_core.normalize import normalize_domain, normalize_email, normalize_phone
from omnicase.kit.events import CaseStatus as S
from omnicase.kit.sanitize import sanitize_html


@pytest.mark.parametrize(
    ("current", "target", "allowed"),
    [
        (S.NEW, S.OPEN, True),
        (S.OPEN, S.NEW, False),
        (S.OPEN, S.CLOSED, False),
        (S.SOLVED, S.CLOSED, True),
        (S.SOLVED, S.OPEN, True),
        (S.CLOSED, S.OPEN, False),
        (S.ON_HOLD, S.PENDING, True),
    ],
)
def test_status_transitions(current: S, target: S, allowed: bool) -> None:
    assert can_transition(current, target) is allowed


def test_reference_marker_survives_quoting_and_html_and_is_found_in_headers() -> None:
    token = reference.new_token()
    text = reference.add_to_text("Hello", token)
    quoted = "\n".join("> " + line for line in text.splitlines())
    assert reference.tokens_in([f"FW: see below\n{quoted}"], {}) == [token]
    assert reference.tokens_in([reference.add_to_html("<p>Hi</p>", token)], {}) == [token]
    assert reference.tokens_in([], {"headers": {"x-omnicase-ref": token}}) == [token]
    assert reference.tokens_in(["[ref:oc-nothex]"], {}) == []


def test_reply_subject_keeps_one_re_and_one_number() -> None:
    assert reference.reply_subject("Printer", 7) == "Re: Printer [#7]"
    assert reference.reply_subject("RE: Printer [#7]", 7) == "RE: Printer [#7]"
    assert reference.subject_numbers("Re: [#12] and [#34]") == [12, 34]


def test_identities_normalise_to_one_spelling() -> None:
    assert normalize_email("  Ada@Example.COM ") == "ada@example.com"
    assert normalize_email("ada at example") is None
    assert normalize_phone("+44 (20) 7946-0958") == "+442079460958"
    assert normalize_phone("030 12345678", "DE") == "+493012345678"
    assert normalize_phone("030 12345678") is None
    assert normalize_domain("@Acme.Example.") == "acme.example"
    assert normalize_domain("not a domain") is None


def test_html_loses_scripts_handlers_javascript_links_and_remote_images() -> None:
    dirty = (
        '<p onclick="steal()">Hi<script>alert(1)</script></p>'
        '<a href="javascript:alert(1)">x</a><img src="https://tracker.example/p.gif">'
        '<img src="cid:logo@x"><a href="https://ok.example">ok</a>'
    )
    clean = sanitize_html(dirty)
    assert clean is not None
    for bad in ("onclick", "<script", "javascript:", "tracker.example"):
        assert bad not in clean
    assert 'src="cid:logo@x"' in clean
    assert 'href="https://ok.example"' in clean


def _field(
    key: str, kind: str, *, active: bool = True, required_on_solve: bool = False, options: tuple[str, ...] = ()
) -> CustomFieldRow:
    now = datetime(2026, 1, 5, tzinfo=UTC)
    return CustomFieldRow(
        id=uuid.uuid4(),
        key=key,
        label=key,
        type=kind,
        options=options,
        pattern=None,
        required_on_solve=required_on_solve,
        active=active,
        created_at=now,
        updated_at=now,
    )


DEFINITIONS = {
    "amount": _field("amount", "decimal"),
    "count": _field("count", "number"),
    "due": _field("due", "date", required_on_solve=True),
    "product": _field("product", "dropdown", options=("a",)),
    "vip": _field("vip", "checkbox"),
    "old": _field("old", "text", active=False, required_on_solve=True),
}


def test_custom_field_values_are_checked_by_type() -> None:
    values, errors = merge_custom_fields(
        DEFINITIONS, {"count": 1}, {"amount": "0.10", "count": None, "due": "2026-02-01", "product": "a", "vip": True}
    )
    assert errors == []
    assert values == {"amount": "0.10", "due": "2026-02-01", "product": "a", "vip": True}
    _, errors = merge_custom_fields(
        DEFINITIONS,
        {},
        {"amount": "NaN", "count": 1.5, "due": "02/01/2026", "product": "b", "vip": "yes", "old": "x", "nope": 1},
    )
    assert sorted(error.field.rsplit(".", 1)[1] for error in errors) == sorted(
        ["amount", "count", "due", "product", "vip", "old", "nope"]
    )


def test_required_on_solve_counts_active_fields_only() -> None:
    assert [error.field for error in missing_on_solve(DEFINITIONS, {})] == ["body.custom_fields.due"]
    assert missing_on_solve(DEFINITIONS, {"due": "2026-01-01"}) == []
