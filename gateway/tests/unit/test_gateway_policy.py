"""Route policy: which role or API token may call which proxied route, and which guard applies."""

from __future__ import annotations

import uuid

import pytest

from omnicase.gateway.access.policy import AREAS, Guard, authorize
from omnicase.gateway.identity.principal import ROLE_SCOPES, SCOPES, Principal, UserRole
from omnicase.gateway.routes import ROUTES, owner_of
from omnicase.kit.errors import Forbidden

# Fixed: it appears in test ids, which must be the same in every collection (pytest-xdist).
AGENT_ID = uuid.UUID("0190c4a8-f2e4-7d3c-9b1a-5e6f7d8c9b0a")
OTHER_AGENT_ID = uuid.UUID("0190c4a8-f2e4-7d3c-9b1a-5e6f7d8c9b0b")


def person(role: UserRole, *, scopes: frozenset[str] | None = None, **links: object) -> Principal:
    return Principal(
        subject=uuid.uuid4(),
        kind="user",
        role=role,
        scopes=ROLE_SCOPES[role] if scopes is None else scopes,
        name=role,
        **links,  # type: ignore[arg-type]
    )


def integration(*scopes: str) -> Principal:
    return Principal(subject=uuid.uuid4(), kind="api_token", role="integration", scopes=frozenset(scopes), name="crm")


def test_every_proxied_api_prefix_has_a_policy() -> None:
    api_prefixes = {prefix for prefix in ROUTES if prefix.startswith("/api/")}
    assert api_prefixes == set(AREAS)


def test_role_scopes_cover_what_each_role_may_do() -> None:
    # The identity token carries the role's scopes; a service checking them must agree with the gateway.
    for area in AREAS.values():
        assert f"{area.scope}:read" in SCOPES
        # An area nobody writes (reports) has no write scope.
        assert (f"{area.scope}:write" in SCOPES) == bool(area.write_roles)
        for role in area.read_roles:
            assert f"{area.scope}:read" in ROLE_SCOPES[role]  # type: ignore[index]
        for role in area.write_roles:
            assert f"{area.scope}:write" in ROLE_SCOPES[role]  # type: ignore[index]


@pytest.mark.parametrize(
    ("role", "method", "path"),
    [
        ("agent", "POST", "/api/v1/webhooks"),
        ("agent", "POST", "/api/v1/sla/policies"),
        ("agent", "PUT", f"/api/v1/agents/{OTHER_AGENT_ID}/presence"),
        ("light_agent", "PATCH", "/api/v1/cases/42"),
        ("light_agent", "POST", "/api/v1/cases"),
        ("light_agent", "POST", "/api/v1/contacts"),
        ("end_user", "GET", "/api/v1/contacts"),
        ("end_user", "PATCH", "/api/v1/cases/42"),
        ("end_user", "GET", "/api/v1/cases/42/history"),
        ("end_user", "GET", "/api/v1/agents"),
        ("agent", "POST", "/api/v1/kb/articles"),
        ("agent", "PUT", "/api/v1/kb/articles/1/translations/ko"),
        ("light_agent", "POST", "/api/v1/kb/sections"),
        ("end_user", "GET", "/api/v1/kb/search"),
    ],
)
def test_roles_are_refused_outside_their_rights(role: UserRole, method: str, path: str) -> None:
    with pytest.raises(Forbidden):
        authorize(person(role, agent_id=AGENT_ID), method, path)


@pytest.mark.parametrize(
    ("role", "method", "path", "guard"),
    [
        ("admin", "POST", "/api/v1/webhooks", Guard.NONE),
        ("agent", "PATCH", "/api/v1/cases/42", Guard.NONE),
        ("agent", "PUT", f"/api/v1/agents/{AGENT_ID}/presence", Guard.NONE),
        ("light_agent", "GET", "/api/v1/cases/42", Guard.NONE),
        ("light_agent", "POST", "/api/v1/cases/42/messages", Guard.LIGHT_AGENT_NOTE),
        ("end_user", "GET", "/api/v1/cases", Guard.END_USER_CASE_LIST),
        ("end_user", "POST", "/api/v1/cases", Guard.END_USER_CASE_CREATE),
        ("end_user", "GET", "/api/v1/cases/42", Guard.END_USER_CASE),
        ("end_user", "GET", "/api/v1/cases/42/messages", Guard.END_USER_MESSAGES),
        ("end_user", "POST", "/api/v1/cases/42/messages", Guard.END_USER_REPLY),
        ("admin", "POST", "/api/v1/kb/articles", Guard.NONE),
        ("agent", "GET", "/api/v1/kb/search", Guard.NONE),
        ("light_agent", "GET", "/api/v1/kb/articles/1", Guard.NONE),
    ],
)
def test_roles_get_their_rights_with_the_right_guard(role: UserRole, method: str, path: str, guard: Guard) -> None:
    assert authorize(person(role, agent_id=AGENT_ID), method, path).guard is guard


def test_a_login_narrowed_to_read_cannot_write() -> None:
    with pytest.raises(Forbidden, match="cases:write"):
        authorize(person("agent", scopes=frozenset({"cases:read"})), "POST", "/api/v1/cases")


def test_api_tokens_are_judged_by_scope_alone() -> None:
    assert authorize(integration("routing:write"), "POST", "/api/v1/agents").guard is Guard.NONE
    with pytest.raises(Forbidden, match="routing:read"):
        authorize(integration("routing:write"), "GET", "/api/v1/agents")
    with pytest.raises(Forbidden, match="webhooks:write"):
        authorize(integration("cases:write"), "DELETE", "/api/v1/webhooks/1")


def test_knowledge_is_written_with_the_knowledge_write_scope() -> None:
    assert authorize(integration("knowledge:write"), "POST", "/api/v1/kb/articles").guard is Guard.NONE
    with pytest.raises(Forbidden, match="knowledge:write"):
        authorize(integration("knowledge:read"), "POST", "/api/v1/kb/articles")
    with pytest.raises(Forbidden, match="knowledge:write"):
        authorize(person("admin", scopes=frozenset({"knowledge:read"})), "PUT", "/api/v1/kb/articles/1/translations/en")


def test_admins_and_agents_read_reports_and_light_agents_and_customers_do_not() -> None:
    readers: tuple[UserRole, ...] = ("admin", "agent")
    for role in readers:
        assert authorize(person(role), "GET", "/api/v1/reports/metrics").guard is Guard.NONE
    assert authorize(integration("reports:read"), "GET", "/api/v1/reports/export.csv").guard is Guard.NONE
    others: tuple[UserRole, ...] = ("light_agent", "end_user")
    for role in others:
        with pytest.raises(Forbidden):
            authorize(person(role), "GET", "/api/v1/reports/metrics")


def test_swarms_nested_under_a_case_belong_to_collaboration_and_staff_take_part_in_them() -> None:
    case = f"/api/v1/cases/{uuid.uuid4()}"
    assert owner_of(f"{case}/swarms") == "collaboration"
    assert owner_of("/api/v1/cases/{case_id}/swarms") == "collaboration"
    assert owner_of(f"{case}/messages") == "case-core"
    assert owner_of(f"{case}/swarmsx") == "case-core"
    assert owner_of(f"{case}/experts") == "collaboration"
    assert owner_of(f"{case}/article-suggestions") == "knowledge"
    assert authorize(person("light_agent"), "GET", f"{case}/article-suggestions").guard is Guard.NONE
    with pytest.raises(Forbidden, match="knowledge:read"):
        authorize(integration("cases:read"), "GET", f"{case}/article-suggestions")
    for role in ("agent", "light_agent", "admin"):
        assert authorize(person(role), "POST", f"{case}/swarms").guard is Guard.NONE
        assert authorize(person(role), "POST", "/api/v1/swarms/1/messages").guard is Guard.NONE
    with pytest.raises(Forbidden):
        authorize(person("end_user"), "GET", f"{case}/swarms")
    with pytest.raises(Forbidden, match="collaboration:write"):
        authorize(integration("collaboration:read", "cases:write"), "POST", f"{case}/swarms")


def test_the_slack_connection_is_an_admins_and_slacks_events_reach_collaboration() -> None:
    assert owner_of("/public/slack/events") == "collaboration"
    assert authorize(person("admin"), "PUT", "/api/v1/collaboration/slack").guard is Guard.NONE
    with pytest.raises(Forbidden):
        authorize(person("agent"), "GET", "/api/v1/collaboration/slack")
