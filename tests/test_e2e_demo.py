"""`omnicase demo` on a running suite: a desk that works, and a second run that changes nothing."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from omnicase.devtools.demo import AGENT_PASSWORD, CASE_TAG, SPEAKERS
from omnicase.devtools.testing.frontend import Gateway, wait_for
from omnicase.devtools.testing.stack import SuiteStack


def _demo(stack: SuiteStack) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "omnicase.cli", "demo", "--url", stack.url()]
    # The admin login is the one `omnicase up` generated and kept in the stack's data directory.
    return subprocess.run(command, env=stack.env, capture_output=True, text=True, timeout=120)


def _counts(admin: Gateway) -> dict[str, int]:
    paths = ("skills", "groups", "routing/rules", "sla/policies", "business-hours", "mailboxes", "forms", "agents")
    counts = {path: len(admin.get(f"/api/v1/{path}?limit=100")["items"]) for path in paths}
    counts["cases"] = len(admin.get(f"/api/v1/cases?tag={CASE_TAG}&limit=100")["items"])
    return counts


def test_the_demo_desk_routes_each_sample_case_to_its_speaker_with_sla_clocks_and_a_second_run_changes_nothing(
    stack: SuiteStack, admin_login: tuple[str, str]
) -> None:
    first = _demo(stack)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "made skill English" in first.stdout
    with Gateway(stack.url()) as admin:
        admin.login(*admin_login)
        users = {user["email"]: user["id"] for user in admin.get("/api/v1/users?limit=100")["items"]}
        cases = admin.get(f"/api/v1/cases?tag={CASE_TAG}&limit=100")["items"]
        assert sorted(case["language"] for case in cases) == ["en", "ko", "zh"]
        for case in cases:
            speaker = next(s for s in SPEAKERS if s.language == case["language"])

            def routed_and_timed(case_id: str = case["id"], agent_id: str = users[speaker.email]) -> Any:
                read = admin.get(f"/api/v1/cases/{case_id}")
                sla = admin.http.get(f"/api/v1/sla/cases/{case_id}")
                timed = sla.status_code == 200 and sla.json()["milestones"]
                return read["assignee_id"] == agent_id and timed

            wait_for(
                routed_and_timed,
                within=60,
                message=f"the {case['language']} sample case never reached {speaker.name} with SLA clocks",
            )
        before = _counts(admin)

        second = _demo(stack)
        assert second.returncode == 0, second.stdout + second.stderr
        assert "made nothing" in second.stdout
        assert _counts(admin) == before

    # The printed agent logins work.
    for speaker in SPEAKERS:
        assert f"{speaker.email} / {AGENT_PASSWORD}" in first.stdout
        with Gateway(stack.url()) as agent:
            agent.login(speaker.email, AGENT_PASSWORD)
