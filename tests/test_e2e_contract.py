"""The whole suite answers as its merged OpenAPI document says: schemathesis through the gateway.

Every operation is called with generated input as the first admin, then schemathesis'
stateful phase follows the document's links (a created id into the calls that use it). No
answer may be a 5xx, and every answer must have a documented status, content type, headers
and schema. The longer run of `make contract` (all checks, 40 examples an operation) still
reports refusals of rules no JSON Schema can state (tests/README.md names them).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.result import Ok

from omnicase.devtools.testing.contract import exercise
from omnicase.devtools.testing.frontend import Gateway
from omnicase.devtools.testing.stack import SuiteStack

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# `make contract`: every check schemathesis has (schema-valid input refused included) and more examples.
ALL_CHECKS = os.environ.get("OMNICASE_CONTRACT_CHECKS") == "all"
EXAMPLES = int(os.environ.get("OMNICASE_CONTRACT_EXAMPLES", "4"))
# Calls that would end the admin's own session are made as a logged-out client would.
WITHOUT_TOKEN = {"/api/v1/auth/revoke"}
# An event stream answers for as long as its client listens; gateway/tests/…/test_gateway_stream.py
# holds it to its contract (status, content type, events) over real HTTP instead.
NEVER_ENDS = {"/api/v1/stream"}


@schemathesis.serializer("message/rfc822")
def _raw_mail(ctx: schemathesis.SerializationContext, value: Any) -> bytes:
    """A generated value as the bytes of a message, as the inbound-parse webhook takes it."""
    return value if isinstance(value, bytes) else str(value).encode()


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
    schema = schemathesis.openapi.from_url(f"{stack.url()}/openapi.json")
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
            exercise(operation, stack.url(), headers, checks=None if ALL_CHECKS else CHECKS, examples=EXAMPLES)
        # Every operation is tried and the report names each one that failed (schemathesis' own
        # FailureGroup is a BaseExceptionGroup, which `except Exception` let end the loop at the first).
        except (Exception, BaseExceptionGroup) as error:
            failures.append(f"{operation.method.upper()} {operation.path}: {error}"[:2000])
    assert failures == [], "\n\n".join(failures)


def test_chains_of_calls_along_the_documents_links_answer_as_documented(
    stack: SuiteStack, bearer: dict[str, str]
) -> None:
    # schemathesis' own stateful engine: hypothesis' state machines replay a chain to shrink it,
    # and a suite that kept what the first run did answers the replay otherwise.
    command = [
        str(Path(sys.executable).parent / "schemathesis"), "run", f"{stack.url()}/openapi.json",
        "--header", f"Authorization: {bearer['Authorization']}",
        "--phases", "stateful", "--checks", "all" if ALL_CHECKS else ",".join(check.__name__ for check in CHECKS),
        "--max-examples", str(5 * EXAMPLES), "--seed", "1", "--request-timeout", "30", "--no-color",
        *(argument for path in NEVER_ENDS for argument in ("--exclude-path", path)),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=stack.root)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    tested = re.search(r"Tested: (\d+)", done.stdout)
    assert tested is not None, done.stdout[-3000:]
    assert int(tested.group(1)) >= 30, "the links chain most creates into the calls that use their ids"
