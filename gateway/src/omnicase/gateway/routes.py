"""Which service owns which public path (ARCHITECTURE.md § Public conventions).

Longest prefix wins. Services add their resources here as they grow. A ``*`` segment stands
for any one segment (an id), so a service can own a resource nested under another's
(``/api/v1/cases/*/swarms`` is collaboration's, the rest of ``/api/v1/cases`` case-core's);
it matches the OpenAPI templates (``{case_id}``) and the requests' own ids alike.
"""

from __future__ import annotations

ROUTES: dict[str, str] = {
    "/api/v1/cases": "case-core",
    "/api/v1/contacts": "case-core",
    "/api/v1/organizations": "case-core",
    "/api/v1/custom-fields": "case-core",
    "/api/v1/brands": "case-core",
    "/api/v1/dynamic-content": "case-core",
    "/api/v1/views": "case-core",
    "/api/v1/macros": "case-core",
    "/api/v1/triggers": "case-core",
    "/api/v1/webhooks": "case-core",
    "/api/v1/suspended-messages": "case-core",
    "/api/v1/csat": "case-core",
    "/public/csat": "case-core",
    "/api/v1/mailboxes": "intake-email",
    "/public/email": "intake-email",
    "/api/v1/forms": "intake-web",
    "/api/v1/channels": "intake-web",
    "/public/forms": "intake-web",
    "/public/channels": "intake-web",
    "/public/webhooks": "intake-web",
    "/public/messaging": "intake-web",
    "/api/v1/voice": "intake-web",
    "/public/voice": "intake-web",
    "/api/v1/agents": "routing",
    "/api/v1/groups": "routing",
    "/api/v1/skills": "routing",
    "/api/v1/queues": "routing",
    "/api/v1/routing": "routing",
    "/api/v1/sla": "sla-engine",
    "/api/v1/business-hours": "sla-engine",
    "/api/v1/automations": "sla-engine",
    "/api/v1/kb": "knowledge",
    "/public/help": "knowledge",
    "/api/v1/reports": "reporting",
    # The reports dashboard: a page and its script and style, holding no data (the script signs in
    # and reads /api/v1/reports with the bearer token, as any client does), so it is not signed in.
    "/reports": "reporting",
    "/api/v1/cases/*/swarms": "collaboration",
    "/api/v1/cases/*/experts": "collaboration",
    "/api/v1/cases/*/calls": "intake-web",
    "/api/v1/cases/*/article-suggestions": "knowledge",
    "/api/v1/swarms": "collaboration",
    "/api/v1/collaboration": "collaboration",
    "/public/slack": "collaboration",
    # The desk's side of a case's chat widget conversation (typing, read receipts; issue 23).
    "/api/v1/cases/*/chat": "intake-web",
}


_BY_LENGTH = sorted(ROUTES.items(), key=lambda item: len(item[0]), reverse=True)


def is_public(path: str) -> bool:
    """Whether ``path`` is answered without authentication (``/public/...``, the dashboard's page)."""
    return path.startswith("/public/") or path == "/reports" or path.startswith("/reports/")


def under(path: str, prefix: str) -> bool:
    """Whether ``path`` is ``prefix`` or below it, a ``*`` segment of ``prefix`` matching any one segment."""
    if "*" not in prefix:
        return path == prefix or path.startswith(prefix + "/")
    wanted = prefix.split("/")
    segments = path.split("/")
    if len(segments) < len(wanted):
        return False
    return all(want in ("*", got) and (want != "*" or got != "") for want, got in zip(wanted, segments, strict=False))


def owner_of(path: str) -> str | None:
    """The service that owns ``path``, or None."""
    for prefix, service in _BY_LENGTH:
        if under(path, prefix):
            return service
    return None
