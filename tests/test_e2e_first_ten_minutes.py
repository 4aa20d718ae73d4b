"""The README's "Your first ten minutes", run verbatim: every ``sh`` block of the section, in order.

The section's ``console`` block (a mail sink, and ``make run`` relaying to it) is what this
module's stack already is: ``omnicase up`` with its outbound relay at the test's own sink.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from omnicase.devtools.testing.frontend import MailSink, wait_for
from omnicase.devtools.testing.stack import SuiteStack

ROOT = Path(__file__).resolve().parents[1]
SECTION = "## Your first ten minutes"


@pytest.fixture(scope="module")
def stack_env(mail_sink: MailSink) -> dict[str, str]:
    return {"INTAKE_EMAIL_RELAY_HOST": "127.0.0.1", "INTAKE_EMAIL_RELAY_PORT": str(mail_sink.port)}


def walkthrough() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split(SECTION, 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^```sh\n(.*?)^```$", section, flags=re.MULTILINE | re.DOTALL)


def test_the_readme_walkthrough_runs_as_written_and_the_customer_gets_the_agents_reply(
    stack: SuiteStack, mail_sink: MailSink
) -> None:
    blocks = walkthrough()
    assert len(blocks) >= 5, "the section lost its commands"
    script = "set -euo pipefail\n" + "\n".join(blocks)
    # Its environment is the stack's: the ports `make run` would have used are in it.
    done = subprocess.run(["bash", "-c", script], cwd=ROOT, env=stack.env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert '"assignee_id": "' in done.stdout, "the mailed case was shown assigned"
    assert '"kind": "first_reply"' in done.stdout, "the mailed case was shown with its SLA clocks"

    def reply() -> list[str]:
        return [mail.text() for mail in mail_sink.received("grace@customer.example") if "technician" in mail.text()]

    wait_for(reply, within=60, message="the agent's reply never reached the customer's mail sink")
