"""The whole suite answers as its merged OpenAPI document says: schemathesis through the gateway.

Every operation is called with generated input as the first admin, then schemathesis' stateful
phase follows the document's links (a created id into the calls that use it) for a time budget.
Every check schemathesis has runs in both: no 5xx; every answer's status, content type, headers
and body as documented; schema-valid input accepted and invalid input refused; ``Allow`` on
405; a created resource found where its links lead; auth not ignored. What the checks expect
beyond their defaults, and the rules the generator is taught that no JSON Schema keyword can
hold, are in ``omnicase.devtools.testing.contract`` and its ``schemathesis.toml``, each with why
(tests/README.md lists them). `make contract` runs the same at length (40 examples an operation,
ten minutes of stateful chains).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import schemathesis
from schemathesis.core.result import Ok

from omnicase.devtools.testing.contract import CONFIG, HOOKS, exercise, schemathesis_config
from omnicase.devtools.testing.frontend import Gateway
from omnicase.devtools.testing.stack import SuiteStack

# `make contract` asks for more of the same.
EXAMPLES = int(os.environ.get("OMNICASE_CONTRACT_EXAMPLES", "4"))
STATEFUL_SECONDS = int(os.environ.get("OMNICASE_CONTRACT_STATEFUL_SECONDS", "120"))
# Calls that would end the admin's own session are made as a logged-out client would.
WITHOUT_TOKEN = {"/api/v1/auth/revoke"}
# An event stream answers for as long as its client listens; gateway/tests/…/test_gateway_stream.py
# holds it to its contract (status, content type, events) over real HTTP instead; the chat widget's
# stream likewise (intake-web/tests/integration/test_intake_web_widget.py).
NEVER_ENDS = {"/api/v1/stream", "/public/messaging/{channel_id}/events"}


@pytest.fixture(scope="module")
def stack_env() -> dict[str, str]:
    # One client plays every frontend at once: the gateway's per-token budget is not what is tested here.
    return {"GATEWAY_RATE_LIMIT_ENABLED": "false"}


@pytest.fixture(scope="module")
def bearer(stack: SuiteStack, admin_login: tuple[str, str]) -> dict[str, str]:
    with Gateway(stack.url()) as admin:
        admin.login(*admin_login)
        return {"Authorization": str(admin.http.headers["Authorization"])}


def test_every_operation_answers_as_documented(stack: SuiteStack, bearer: dict[str, str]) -> None:
    schema = schemathesis.openapi.from_url(f"{stack.url()}/openapi.json", config=schemathesis_config())
    results = list(schema.get_all_operations())
    assert [result for result in results if not isinstance(result, Ok)] == [], "the merged document is invalid"
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) >= 150, "every service's operations are in the merged document"
    failures = []
    for operation in operations:
        if operation.path in NEVER_ENDS:
            continue
        headers = {} if operation.path in WITHOUT_TOKEN else bearer
        try:
            exercise(operation, stack.url(), headers, examples=EXAMPLES)
        # Every operation is tried and the report names each one that failed (schemathesis' own
        # FailureGroup is a BaseExceptionGroup, which `except Exception` let end the loop at the first).
        except (Exception, BaseExceptionGroup) as error:
            failures.append(f"{operation.method.upper()} {operation.path}: {error}"[:2000])
    assert failures == [], "\n\n".join(failures)


def test_chains_of_calls_along_the_documents_links_answer_as_documented(
    stack: SuiteStack, bearer: dict[str, str]
) -> None:
    # schemathesis' own stateful engine: hypothesis' state machines replay a chain to shrink it,
    # and a suite that kept what the first run did answers the replay otherwise. A time budget,
    # not a number of examples: the engine runs chains again until it is spent (one pass of a few
    # examples covered a handful of links, more the more failures it found and ran again for).
    command = [
        str(Path(sys.executable).parent / "schemathesis"), "--config-file", str(CONFIG),
        "run", f"{stack.url()}/openapi.json",
        "--header", f"Authorization: {bearer['Authorization']}",
        # Every check runs unless the configuration turns one off for an operation (naming them
        # here with --checks would turn those back on).
        "--phases", "stateful", "--max-time", str(STATEFUL_SECONDS),
        "--seed", "1", "--generation-database", "none", "--request-timeout", "30", "--no-color",
        *(argument for path in NEVER_ENDS for argument in ("--exclude-path", path)),
    ]  # fmt: skip
    env = {**os.environ, "SCHEMATHESIS_HOOKS": HOOKS}
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=STATEFUL_SECONDS + 300, cwd=stack.root, env=env
    )
    report = stack.root / "schemathesis-stateful.txt"  # the whole report; a failure shows its end
    report.write_text(done.stdout + done.stderr, encoding="utf-8")
    assert done.returncode == 0, f"{report}\n" + done.stdout[-8000:] + done.stderr[-2000:]
    tested = re.search(r"Tested: (\d+)", done.stdout)
    links = re.search(r"API Links: +(\d+) covered", done.stdout)
    assert tested is not None, done.stdout[-3000:]
    assert links is not None, done.stdout[-3000:]
    # The document's own links (every create's id into the calls that use it) and those
    # schemathesis infers from the schemas. How many a time budget covers is a measure of the
    # host's speed, not of the suite (26 to 59 in two minutes on the 2-core machine, the fewest in a
    # CI run on a busy host): these floors only tell a run that followed chains through most
    # operations from one that barely started (a single pass of 26 scenarios: 50 operations,
    # 5 links).
    assert int(tested.group(1)) >= 60, done.stdout[-3000:]
    assert int(links.group(1)) >= 15, done.stdout[-3000:]
