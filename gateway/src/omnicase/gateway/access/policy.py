"""Who may call which proxied route: per area, by role for people and by scope for API tokens.

Every ``/api/v1`` prefix of :mod:`omnicase.gateway.routes` belongs to an area
(``cases``, ``routing`` …). Reads (GET, HEAD) need ``<area>:read``, anything
else ``<area>:write``; people are checked by role, integrations by the scopes of
their API token. A few narrower rights are expressed as :class:`Guard` values
the proxy enforces on the request itself:

- light agents write only internal notes (``POST /cases/{id}/messages`` with
  ``public: false``);
- end users reach only ``/cases`` (list, create, read one, its messages), only
  for cases they requested (or their organization's, where it allows it);
- agents change their own routing agent record (presence, accepting offers)
  and nobody else's.

Services check the forwarded identity again; this is the first of two locks.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from omnicase.gateway.identity.principal import Principal
from omnicase.gateway.routes import under
from omnicase.kit.errors import Forbidden

STAFF = frozenset({"admin", "agent", "light_agent"})
ADMIN = frozenset({"admin"})
WORKERS = frozenset({"admin", "agent"})


@dataclass(frozen=True)
class Area:
    scope: str
    read_roles: frozenset[str]
    write_roles: frozenset[str]


AREAS: dict[str, Area] = {
    "/api/v1/cases": Area("cases", STAFF, WORKERS),
    "/api/v1/views": Area("cases", STAFF, WORKERS),
    "/api/v1/macros": Area("cases", STAFF, ADMIN),
    "/api/v1/custom-fields": Area("cases", STAFF, ADMIN),
    "/api/v1/brands": Area("cases", STAFF, ADMIN),
    "/api/v1/dynamic-content": Area("cases", STAFF, ADMIN),
    "/api/v1/triggers": Area("cases", STAFF, ADMIN),
    "/api/v1/csat": Area("cases", STAFF, ADMIN),
    "/api/v1/contacts": Area("contacts", STAFF, WORKERS),
    "/api/v1/organizations": Area("contacts", STAFF, WORKERS),
    "/api/v1/webhooks": Area("webhooks", ADMIN, ADMIN),
    # Held mail may be anyone's: agents and admins see and recover it, light agents do not.
    "/api/v1/suspended-messages": Area("cases", WORKERS, WORKERS),
    "/api/v1/mailboxes": Area("channels", STAFF, ADMIN),
    "/api/v1/forms": Area("channels", STAFF, ADMIN),
    "/api/v1/channels": Area("channels", STAFF, ADMIN),
    "/api/v1/voice": Area("channels", STAFF, ADMIN),
    "/api/v1/agents": Area("routing", STAFF, ADMIN),
    "/api/v1/groups": Area("routing", STAFF, ADMIN),
    "/api/v1/skills": Area("routing", STAFF, ADMIN),
    "/api/v1/queues": Area("routing", STAFF, ADMIN),
    "/api/v1/routing": Area("routing", STAFF, ADMIN),
    "/api/v1/sla": Area("sla", STAFF, ADMIN),
    "/api/v1/business-hours": Area("sla", STAFF, ADMIN),
    "/api/v1/automations": Area("sla", STAFF, ADMIN),
    # Agents read the knowledge base (drafts included); admins and tokens with knowledge:write edit it.
    "/api/v1/kb": Area("knowledge", STAFF, ADMIN),
    # The articles that may answer a case, for its agent (knowledge reads the case itself).
    "/api/v1/cases/*/article-suggestions": Area("knowledge", STAFF, ADMIN),
    # Admins and agents read the desk's metrics (light agents do not); nothing there is written,
    # so no role and no scope writes it.
    "/api/v1/reports": Area("reports", WORKERS, frozenset()),
    # Staff start, join and talk in swarms around a case (issue 21).
    "/api/v1/cases/*/swarms": Area("collaboration", STAFF, STAFF),
    "/api/v1/cases/*/experts": Area("collaboration", STAFF, STAFF),
    # Agents place calls from a case (issue 25's click-to-call), as they work cases.
    "/api/v1/cases/*/calls": Area("cases", STAFF, WORKERS),
    # A case's chat (intake-web): staff see where it stands, agents say they type or have read, as they reply.
    "/api/v1/cases/*/chat": Area("cases", STAFF, WORKERS),
    "/api/v1/swarms": Area("collaboration", STAFF, STAFF),
    # The Slack connection (its secrets) is an admin's.
    "/api/v1/collaboration": Area("collaboration", ADMIN, ADMIN),
}

_BY_LENGTH = sorted(AREAS.items(), key=lambda item: len(item[0]), reverse=True)

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_CASE = re.compile(r"^/api/v1/cases/(?P<case_id>[^/]+)(?P<rest>/.*)?$")
_OWN_AGENT = re.compile(r"^/api/v1/agents/(?P<agent_id>[^/]+)(/.*)?$")


class Guard(enum.Enum):
    """A check on the request itself, beyond the route."""

    NONE = "none"
    LIGHT_AGENT_NOTE = "light_agent_note"
    END_USER_CASE_LIST = "end_user_case_list"
    END_USER_CASE_CREATE = "end_user_case_create"
    END_USER_CASE = "end_user_case"
    END_USER_MESSAGES = "end_user_messages"
    END_USER_REPLY = "end_user_reply"


@dataclass(frozen=True)
class Decision:
    guard: Guard = Guard.NONE
    case_id: str | None = None


def area_of(path: str) -> Area | None:
    for prefix, area in _BY_LENGTH:
        if under(path, prefix):
            return area
    return None


def authorize(principal: Principal, method: str, path: str) -> Decision:
    """What the caller may do on ``method path``; :class:`Forbidden` when nothing."""
    area = area_of(path)
    if area is None:
        raise Forbidden("No role may call this route through the gateway.")
    write = method not in READ_METHODS
    needed = f"{area.scope}:{'write' if write else 'read'}"
    if principal.kind == "api_token":
        if needed not in principal.scopes:
            raise Forbidden(f"The API token lacks the scope {needed}.", extra={"required_scope": needed})
        return Decision()
    decision, scope = _for_role(principal, method, path, area, write)
    # A login may have asked for fewer scopes than its role has: the narrower set rules.
    if scope not in principal.scopes:
        raise Forbidden(f"This login was not granted the scope {scope}.", extra={"required_scope": scope})
    return decision


def _for_role(principal: Principal, method: str, path: str, area: Area, write: bool) -> tuple[Decision, str]:
    needed = f"{area.scope}:{'write' if write else 'read'}"
    if principal.role == "end_user":
        return _end_user(method, path), needed
    if not write and principal.role in area.read_roles:
        return Decision(), needed
    if write and principal.role in area.write_roles:
        return Decision(), needed
    if write and principal.role == "light_agent" and method == "POST":
        match = _CASE.match(path)
        if match and match["rest"] == "/messages":
            return Decision(Guard.LIGHT_AGENT_NOTE, match["case_id"]), "cases:notes"
    if write and principal.role in ("agent", "light_agent") and principal.agent_id is not None:
        own = _OWN_AGENT.match(path)
        # routing keys agent records by the user id; either id names the caller's own record.
        mine = {str(principal.agent_id), str(principal.subject)}
        if own and own["agent_id"] in mine and method in ("PUT", "PATCH", "POST"):
            return Decision(), "routing:presence"
    role = principal.role.replace("_", " ")
    article = "An" if role[0] in "aeiou" else "A"
    raise Forbidden(f"{article} {role} may not {'change' if write else 'read'} this resource.")


def _end_user(method: str, path: str) -> Decision:
    if path == "/api/v1/cases":
        if method == "GET":
            return Decision(Guard.END_USER_CASE_LIST)
        if method == "POST":
            return Decision(Guard.END_USER_CASE_CREATE)
    match = _CASE.match(path)
    if match:
        case_id, rest = match["case_id"], match["rest"] or ""
        if rest == "" and method == "GET":
            return Decision(Guard.END_USER_CASE, case_id)
        if rest == "/messages" and method == "GET":
            return Decision(Guard.END_USER_MESSAGES, case_id)
        if rest == "/messages" and method == "POST":
            return Decision(Guard.END_USER_REPLY, case_id)
    raise Forbidden("Customers may list, open and reply to their own cases only.")
