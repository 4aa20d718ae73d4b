"""The TypeScript client (``clients/typescript``) against the whole suite, as a frontend team uses it.

The package is copied aside and its types generated afresh, with the package's own
``npm run generate``, from the running gateway's ``/openapi.json``. Those types must be
the ones committed (a frontend team takes the package as it is in the repository), and
the example flow is compiled against them with ``tsc --strict`` and run with node: log in,
create a mailbox and a form, submit the form as a customer's browser would, wait for the
case, read it, reply, solve it. So a change to the document that breaks the client
breaks the compile or the run here, and any change at all fails the first test until
``make ts-client`` has regenerated the committed types.

What the flow did is then checked from outside, through the API and the mail relay: the
case it solved came from that submission and holds the reply, and the customer got the
reply by mail from the flow's mailbox.
"""

from __future__ import annotations

import difflib
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from omnicase.devtools.testing.frontend import Gateway, MailSink, ReceivedMail, wait_for
from omnicase.devtools.testing.stack import SuiteStack

pytestmark = pytest.mark.slow

PACKAGE = Path(__file__).resolve().parents[1] / "clients" / "typescript"
COMMITTED_TYPES = PACKAGE / "src" / "schema.d.ts"


@pytest.fixture(scope="module")
def stack_env(mail_sink: MailSink) -> dict[str, str]:
    return {"INTAKE_EMAIL_RELAY_HOST": "127.0.0.1", "INTAKE_EMAIL_RELAY_PORT": str(mail_sink.port)}


def _run(command: list[str], cwd: Path, *, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def npm() -> str:
    executable = shutil.which("npm")
    if executable is None:
        pytest.fail("npm is missing: `make ts-client-install` (part of `make test`) installs Node.js and npm")
    if not (PACKAGE / "node_modules" / ".installed").is_file():
        pytest.fail(f"{PACKAGE}/node_modules is not installed: run `make ts-client-install` (part of `make test`)")
    return executable


@pytest.fixture(scope="module")
def live_package(stack: SuiteStack, npm: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the client package whose types are generated from the running suite's document."""
    work = tmp_path_factory.mktemp("typescript-client")
    for folder in ("src", "examples"):
        shutil.copytree(PACKAGE / folder, work / folder)
    for name in ("package.json", "package-lock.json", "tsconfig.json"):
        shutil.copy2(PACKAGE / name, work / name)
    (work / "node_modules").symlink_to(PACKAGE / "node_modules", target_is_directory=True)
    answer = httpx.get(f"{stack.url()}/openapi.json", timeout=30)
    assert answer.status_code == 200, answer.text
    assert "x-omnicase-missing-services" not in answer.json(), "a service did not answer the gateway"
    (work / "build").mkdir()
    (work / "build" / "openapi.json").write_text(answer.text, encoding="utf-8")
    generated = _run([npm, "run", "--silent", "generate"], work)
    assert generated.returncode == 0, generated.stdout + generated.stderr
    return work


def test_the_committed_types_are_those_of_the_running_suite(live_package: Path) -> None:
    fresh = (live_package / "src" / "schema.d.ts").read_text(encoding="utf-8")
    committed = COMMITTED_TYPES.read_text(encoding="utf-8")
    if fresh != committed:
        diff = difflib.unified_diff(
            committed.splitlines(), fresh.splitlines(), "committed schema.d.ts", "live suite", lineterm="", n=2
        )
        shown = "\n".join(list(diff)[:80])
        pytest.fail(
            "The merged OpenAPI document changed: run `make ts-client` and commit "
            f"clients/typescript/src/schema.d.ts (and fix the client if it no longer compiles).\n{shown}"
        )


def _mail_with(sink: MailSink, to: str, text: str) -> ReceivedMail | None:
    return next((mail for mail in sink.received(to) if text in mail.text()), None)


def test_the_typescript_client_takes_a_web_form_case_from_submission_to_solved(
    live_package: Path, npm: str, stack: SuiteStack, admin_login: tuple[str, str], mail_sink: MailSink
) -> None:
    built = _run([npm, "run", "--silent", "build"], live_package)
    assert built.returncode == 0, f"tsc --strict refused the client:\n{built.stdout}{built.stderr}"

    email, password = admin_login
    env = {**os.environ, "OMNICASE_URL": stack.url(), "OMNICASE_EMAIL": email, "OMNICASE_PASSWORD": password}
    flow = _run(["node", "dist/examples/flow.js"], live_package, env=env)
    assert flow.returncode == 0, f"the flow failed:\n{flow.stderr}{flow.stdout}"
    result: dict[str, Any] = json.loads(flow.stdout.strip().splitlines()[-1])
    case_id, run = result["case"]["id"], result["run"]

    with Gateway(stack.url()) as admin:
        admin.login(email, password)
        case = admin.get(f"/api/v1/cases/{case_id}")
        assert case["status"] == "solved"
        assert case["solved_at"] is not None
        assert case["channel"] == "web"
        assert case["brand"] == f"flow-{run}"
        assert f"flow-{run}" in case["tags"], "the form's defaults"
        assert admin.get(f"/api/v1/contacts/{case['requester_id']}")["emails"] == [result["customer_email"]]

        submissions = admin.get(f"/api/v1/forms/{result['form']['id']}/submissions")["items"]
        assert [(item["id"], item["case_id"]) for item in submissions] == [(result["submission_id"], case_id)]

        messages = admin.get(f"/api/v1/cases/{case_id}/messages")["items"]
        replies = [item for item in messages if item["direction"] == "outbound"]
        assert [(item["id"], item["text"], item["public"]) for item in replies] == [
            (result["reply"]["id"], result["reply"]["text"], True)
        ]

    mail = wait_for(
        lambda: _mail_with(mail_sink, result["customer_email"], result["reply"]["text"]),
        within=60,
        message=lambda: f"the reply never reached the customer; the relay got {len(mail_sink.received())} mails",
    )
    assert result["mailbox"]["address"] in mail.header("From")
    assert f"[#{case['number']}]" in mail.header("Subject")
