"""Configures a fresh suite for the bench through the gateway, as an admin would from a console.

One mailbox and one form (no auto-responses: the bench measures intake, not a mail relay;
no fill-time or per-IP limits: one client posts for many visitors), one skill, one
auto-accepting ``best_available`` queue and a rule sending email and web cases to it,
enough online agents with that skill that capacity never runs out, one SLA policy for
email and web, and a pool of API-channel cases assigned to the first agent for the API
load to read and change (no rule or policy matches them, so only the load changes them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import httpx

from omnicase.devtools.bench.suite.api import new_case_body

AGENT_PASSWORD = "bench agent password 1"
AGENT_CAPACITY = 1000  # routing's largest; a bench case costs 1
TARGETS = {"first_reply": {"minutes": 240}, "resolution": {"minutes": 1440}}


class SetupError(RuntimeError):
    """The suite refused part of the bench's configuration; the message names the call."""


@dataclass(frozen=True)
class SuiteSetup:
    mailbox: str
    form_id: str
    group_id: str
    agent_ids: list[str]
    agent_token: str
    api_cases: dict[str, str]  # case id -> ETag
    rate_limit_policy: str  # the gateway's RateLimit-Policy header: the limits the load runs under


async def login(http: httpx.AsyncClient, email: str, password: str) -> str:
    answer = await http.post(
        "/api/v1/auth/token", data={"grant_type": "password", "username": email, "password": password}
    )
    if answer.status_code != 200:
        raise SetupError(f"login of {email}: {answer.status_code} {answer.text[:300]}")
    token: str = answer.json()["access_token"]
    return token


async def _call(http: httpx.AsyncClient, method: str, path: str, body: dict[str, Any]) -> httpx.Response:
    answer = await http.request(method, path, json=body)
    if not answer.is_success:
        raise SetupError(f"{method} {path}: {answer.status_code} {answer.text[:500]}")
    return answer


def agents_needed(requested: int, cases: int) -> int:
    """At least ``requested``, and enough that every case fits with a fifth to spare."""
    return max(requested, math.ceil(cases * 1.2 / AGENT_CAPACITY))


async def configure_suite(
    base_url: str, admin_email: str, admin_password: str, *, run: str, agents: int, forms: int, api_cases: int
) -> SuiteSetup:
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        http.headers["Authorization"] = f"Bearer {await login(http, admin_email, admin_password)}"

        async def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
            created: dict[str, Any] = (await _call(http, "POST", path, body)).json()
            return created

        mailbox = f"support-{run}@bench.example"
        mailbox_body = {"address": mailbox, "display_name": "Bench support", "auto_response": False}
        answer = await _call(http, "POST", "/api/v1/mailboxes", mailbox_body)
        policy = answer.headers.get("RateLimit-Policy", "none (rate limits off)")
        form = await post(
            "/api/v1/forms",
            {
                "name": f"Bench {run}",
                "fields": [
                    {"key": "name", "required": True, "labels": {"en": "Your name"}},
                    {"key": "email", "required": True, "labels": {"en": "Email"}},
                    {"key": "subject", "required": True, "labels": {"en": "Subject"}},
                    {"key": "description", "required": True, "labels": {"en": "How can we help?"}},
                ],
                "spam": {"min_fill_seconds": 0},
                "rate_limits": {"per_ip_per_minute": 100_000, "per_form_per_minute": 1_000_000},
                "daily_cap": max(5000, 2 * forms),
                "auto_response": False,
                "thank_you_url": "https://customer.example/thanks",
            },
        )
        skill = await post("/api/v1/skills", {"name": f"bench-{run}"})
        group = await post("/api/v1/groups", {"name": f"Bench {run}", "routing_model": "best_available"})
        await post(
            "/api/v1/routing/rules",
            {
                "name": f"Bench {run}: email and web",
                "target_group_id": group["id"],
                "conditions": {"channels": ["email", "web"]},
                "required_skills": [{"skill_id": skill["id"], "min_level": 1}],
            },
        )
        await post(
            "/api/v1/sla/policies",
            {
                "name": f"Bench {run}: email and web",
                "conditions": {"channel": ["email", "web"]},
                "targets": dict.fromkeys(("low", "normal", "high", "urgent"), TARGETS),
            },
        )
        agent_ids: list[str] = []
        for number in range(agents):
            user = await post(
                "/api/v1/users",
                {
                    "email": f"agent{number}-{run}@bench.example",
                    "name": f"Bench agent {number}",
                    "role": "agent",
                    "password": AGENT_PASSWORD,
                },
            )
            await post(
                "/api/v1/agents",
                {
                    "user_id": user["id"],
                    "name": f"Bench agent {number}",
                    "capacity": AGENT_CAPACITY,
                    "skills": [{"skill_id": skill["id"], "level": 5}],
                    "group_ids": [group["id"]],
                },
            )
            await _call(http, "PUT", f"/api/v1/agents/{user['id']}/presence", {"status": "online"})
            agent_ids.append(user["id"])

        cases: dict[str, str] = {}
        for number in range(api_cases):
            answer = await _call(http, "POST", "/api/v1/cases", new_case_body(run, number, agent_ids[0]))
            cases[answer.json()["id"]] = answer.headers.get("ETag") or f'"{answer.json()["version"]}"'
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        agent_token = await login(http, f"agent0-{run}@bench.example", AGENT_PASSWORD)
    return SuiteSetup(mailbox, form["id"], group["id"], agent_ids, agent_token, cases, policy)
