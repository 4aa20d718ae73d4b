"""One OpenAPI operation exercised by schemathesis with generated input, for the contract tests.

Deterministic (the same inputs every run) and without hypothesis' example database, so a
failure reproduces from the test alone.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import CheckFunction


def exercise(
    operation: Any, base_url: str, headers: dict[str, str], *, checks: list[CheckFunction] | None, examples: int
) -> None:
    """Call ``operation`` with ``examples`` generated inputs; ``checks`` None runs every check schemathesis has."""

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def run(case: schemathesis.Case[Any]) -> None:
        case.call_and_validate(base_url=base_url, headers=headers, checks=checks)

    run()
