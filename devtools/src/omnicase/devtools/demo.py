"""``omnicase demo``: a working desk on a running suite, through its public API only.

A brand's mailbox and contact form, a support group with a skill per language and an
agent for each (who can log in), office hours, an SLA policy, routing rules (by language,
then one for cases that say none, as mail does), and three
sample cases (English, Korean, Chinese) that route to the agent who speaks their language
and start their SLA clocks. Everything is found by its name (or address) before it is
made, so a second run changes nothing and says so.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from omnicase.devtools.devstack.admin import EMAIL_VARIABLE, PASSWORD_VARIABLE
from omnicase.kit.pagination import next_page_query

BRAND = "acme-demo"
MAILBOX = "support@acme-demo.example"
GROUP = "Acme Demo support"
FORM = "Acme Demo contact form"
SCHEDULE = "Acme Demo office hours"
POLICY = "Acme Demo: every channel"
AGENT_PASSWORD = "demo agent password"
CASE_TAG = "acme-demo"


@dataclass(frozen=True)
class Speaker:
    name: str
    email: str
    language: str
    skill: str


SPEAKERS = (
    Speaker("Ada Park", "ada@acme-demo.example", "en", "English"),
    Speaker("Min-jun Kim", "minjun@acme-demo.example", "ko", "Korean"),
    Speaker("Li Wei", "liwei@acme-demo.example", "zh", "Chinese"),
)

SAMPLE_CASES = (
    ("en", "My order arrived damaged", "The box was crushed and the lamp inside is broken. Can you send a new one?"),
    ("ko", "주문한 상품이 아직 도착하지 않았어요", "지난주에 주문했는데 배송 조회가 되지 않습니다. 확인 부탁드립니다."),
    ("zh", "无法登录我的账户", "我重置了密码\uff0c但仍然无法登录\u3002请帮帮我\u3002"),
)


class DemoError(RuntimeError):
    pass


@dataclass
class Desk:
    """What the demo made this run (``created``) and what it found already there (``found``)."""

    http: httpx.Client
    created: list[str] = field(default_factory=list)
    found: list[str] = field(default_factory=list)

    def call(
        self, method: str, path: str, body: dict[str, Any] | None = None, params: dict[str, Any] | None = None
    ) -> Any:
        answer = self.http.request(method, path, json=body, params=params)
        if answer.status_code >= 400:
            raise DemoError(f"{method} {path}: {answer.status_code} {answer.text}")
        return answer.json() if answer.content else None

    def items(self, path: str, **params: Any) -> Iterator[dict[str, Any]]:
        after: dict[str, str] | None = {}
        while after is not None:
            page = self.call("GET", path, params={"limit": 100, **params, **after})
            yield from page["items"]
            after = next_page_query(page)

    def ensure(self, what: str, path: str, body: dict[str, Any], *, key: str = "name") -> dict[str, Any]:
        """The item of ``path`` whose ``key`` is the body's, made from ``body`` if there is none."""
        for item in self.items(path):
            if item.get(key) == body[key]:
                self.found.append(what)
                return item
        made: dict[str, Any] = self.call("POST", path, body)
        self.created.append(what)
        return made


def log_in(base_url: str, email: str, password: str) -> httpx.Client:
    http = httpx.Client(base_url=base_url, timeout=30)
    answer = http.post("/api/v1/auth/token", data={"grant_type": "password", "username": email, "password": password})
    if answer.status_code != 200:
        http.close()
        raise DemoError(f"cannot log in as {email}: {answer.status_code} {answer.text}")
    http.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
    return http


def build(desk: Desk) -> dict[str, Any]:
    """Make (or find) the whole desk; returns what to show."""
    skills = {s.language: desk.ensure(f"skill {s.skill}", "/api/v1/skills", {"name": s.skill}) for s in SPEAKERS}
    group = desk.ensure("group", "/api/v1/groups", {"name": GROUP, "routing_model": "best_available"})
    schedule = desk.ensure(
        "office hours",
        "/api/v1/business-hours",
        {
            "name": SCHEDULE,
            "time_zone": "Asia/Seoul",
            "intervals": [
                {"day": day, "start": "09:00", "end": "18:00"}
                for day in ("monday", "tuesday", "wednesday", "thursday", "friday")
            ],
        },
    )
    desk.ensure(
        "SLA policy",
        "/api/v1/sla/policies",
        {
            "name": POLICY,
            "description": "First reply within 4 hours, resolution within a day (urgent: 30 minutes and 4 hours).",
            "targets": {
                **{
                    priority: {"first_reply": {"minutes": 240}, "resolution": {"minutes": 1440}}
                    for priority in ("low", "normal", "high")
                },
                "urgent": {"first_reply": {"minutes": 30}, "resolution": {"minutes": 240}},
            },
            "schedule_id": schedule["id"],
        },
    )
    for speaker in SPEAKERS:
        desk.ensure(
            f"routing rule for {speaker.skill}",
            "/api/v1/routing/rules",
            {
                "name": f"Acme Demo: {speaker.skill}",
                "conditions": {"languages": [speaker.language]},
                "target_group_id": group["id"],
                "required_skills": [{"skill_id": skills[speaker.language]["id"], "min_level": 1}],
                "require_language": True,
            },
        )
    # Mail and forms say no language: they go to the group, whoever is free.
    desk.ensure(
        "routing rule for every other case",
        "/api/v1/routing/rules",
        {"name": "Acme Demo: any language", "conditions": {}, "target_group_id": group["id"]},
    )
    # The mailbox and the form name the brand by its slug: case-core must have it.
    desk.ensure("brand", "/api/v1/brands", {"name": "Acme Demo", "slug": BRAND, "time_zone": "Asia/Seoul"}, key="slug")
    mailbox = desk.ensure(
        "mailbox", "/api/v1/mailboxes", {"address": MAILBOX, "display_name": "Acme Demo support", "brand": BRAND},
        key="address",
    )  # fmt: skip
    form = desk.ensure(
        "contact form",
        "/api/v1/forms",
        {
            "name": FORM,
            "fields": [
                {"key": "name", "required": True, "labels": {"en": "Your name", "ko": "이름", "zh": "姓名"}},
                {"key": "email", "required": True, "labels": {"en": "Email", "ko": "이메일", "zh": "电子邮件"}},
                {"key": "subject", "required": True, "labels": {"en": "Subject", "ko": "제목", "zh": "主题"}},
                {"key": "description", "required": True,
                 "labels": {"en": "How can we help?", "ko": "문의 내용", "zh": "问题描述"}},
            ],
            "defaults": {"brand": BRAND},
            # Where a browser goes once the post is taken: the demo has no site of its own, the API docs stand in.
            "thank_you_url": f"{str(desk.http.base_url).rstrip('/')}/docs",
        },
    )  # fmt: skip
    for speaker in SPEAKERS:
        user = desk.ensure(
            f"agent {speaker.name}",
            "/api/v1/users",
            {"email": speaker.email, "name": speaker.name, "role": "agent", "password": AGENT_PASSWORD},
            key="email",
        )
        if not any(agent["user_id"] == user["id"] for agent in desk.items("/api/v1/agents")):
            desk.call(
                "POST",
                "/api/v1/agents",
                {
                    "user_id": user["id"],
                    "name": speaker.name,
                    "languages": [speaker.language],
                    "skills": [{"skill_id": skills[speaker.language]["id"], "level": 5}],
                    "group_ids": [group["id"]],
                },
            )
        desk.call("PUT", f"/api/v1/agents/{user['id']}/presence", {"status": "online"})
    if next(desk.items("/api/v1/cases", tag=CASE_TAG), None) is None:
        for language, subject, text in SAMPLE_CASES:
            desk.call(
                "POST",
                "/api/v1/cases",
                {
                    "subject": subject,
                    "description": text,
                    "requester": {"email": f"customer-{language}@example.com", "name": f"Customer ({language})"},
                    "channel": "email",
                    "language": language,
                    "brand": BRAND,
                    "tags": [CASE_TAG],
                },
            )
        desk.created.append("3 sample cases")
    else:
        desk.found.append("sample cases")
    return {"mailbox": mailbox["address"], "form_id": form["id"], "group_id": group["id"]}


def admin_login(data_dir: Path, environ: Mapping[str, str]) -> tuple[str, str]:
    """The first admin's login: the operator's choice, or the one `omnicase up` generated and kept."""
    email, password = environ.get(EMAIL_VARIABLE), environ.get(PASSWORD_VARIABLE)
    if email and password:
        return email, password
    kept = data_dir / "bootstrap-admin.json"
    if not kept.is_file():
        raise DemoError(f"no admin login: set {EMAIL_VARIABLE} and {PASSWORD_VARIABLE}, or run `omnicase up` first")
    saved = json.loads(kept.read_text())
    return saved["email"], saved["password"]


def run(base_url: str, admin_email: str, admin_password: str) -> str:
    """Build the desk as the given admin and say what to open and try."""
    http = log_in(base_url, admin_email, admin_password)
    try:
        desk = Desk(http)
        shown = build(desk)
    finally:
        http.close()
    made = ", ".join(desk.created) if desk.created else "nothing: the demo desk was already there"
    agents = "\n".join(f"    {s.email} / {AGENT_PASSWORD}  ({s.skill})" for s in SPEAKERS)
    return "\n".join(
        [
            f"Demo desk ready at {base_url} (made {made}).",
            f"  Sample cases     {base_url}/api/v1/cases?tag={CASE_TAG}  (routed by language, SLA clocks running)",
            f"  Mail a case to   {shown['mailbox']}  (the SMTP intake `omnicase up` printed)",
            f"  Contact form     {base_url}/public/forms/{shown['form_id']}",
            f"  API docs         {base_url}/docs  (log in as an agent:)",
            agents,
        ]
    )
