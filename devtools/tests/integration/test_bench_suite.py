"""`omnicase bench` loading the whole suite: every message sent is accounted for in the table and the JSON.

The command runs as `make bench` runs it (its own durable PostgreSQL and Tansu, `omnicase
up` in a child process on them), with sizes small enough for a test: three mails, three
form posts, two seconds of console load. The kit rows run at their smallest, the
services' own benches not at all.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

SIZES = {
    "BENCH_EVENTS": "100",
    "BENCH_WARMUP": "20",
    # No installed service is called this: their own benches are measured elsewhere.
    "BENCH_SERVICES": "none",
    "BENCH_SUITE_EMAILS": "3",
    "BENCH_SUITE_SMTP_SESSIONS": "2",
    "BENCH_SUITE_FORMS": "3",
    # Exactly the counts above: no minimum time of sending.
    "BENCH_SUITE_SECONDS": "0",
    "BENCH_SUITE_HTTP_CLIENTS": "2",
    "BENCH_SUITE_API_RATE": "10",
    "BENCH_SUITE_API_SECONDS": "2",
    "BENCH_SUITE_API_CASES": "20",
    "BENCH_SUITE_AGENTS": "2",
    "BENCH_SUITE_WARMUP": "1",
    "BENCH_STALL_TIMEOUT": "60",
    # Six messages' work behind the full-speed round is done in seconds, busy machine or not.
    "BENCH_SUITE_SETTLE_TIMEOUT": "20",
}


def _bench(output: Path, **overrides: str) -> subprocess.CompletedProcess[str]:
    env = {
        **{name: value for name, value in os.environ.items() if not name.startswith("BENCH_")},
        **SIZES,
        **overrides,
    }
    command = [sys.executable, "-m", "omnicase.cli", "bench", "--output", str(output)]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


def _rows(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["key"]: row for row in report["results"]}


def test_bench_loads_the_suite_and_accounts_for_every_message(tmp_path: Path) -> None:
    done = _bench(tmp_path / "results")
    assert done.returncode == 0, f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"

    [written] = (tmp_path / "results").glob("kit-*.json")
    report = json.loads(written.read_text())
    rows = _rows(report)
    for channel in ("email", "web"):
        accepted = rows[f"suite_{channel}_accepted"]
        assert accepted["count"] == 3, accepted
        assert accepted["rate_per_s"] > 0
        assert accepted["pct_of_postgres_insert"] is not None
        for stage in ("created", "assigned", "sla"):
            row = rows[f"suite_{channel}_{stage}"]
            assert row["count"] == 3, f"{channel} {stage}: {row}"
            assert row["p50_ms"] is not None
            assert row["p50_ms"] <= row["p99_ms"]
            assert row["bench_process_cpu_pct_of_one_core"] is not None
        # A case is assigned and timed after it exists.
        assert rows[f"suite_{channel}_created"]["p50_ms"] <= rows[f"suite_{channel}_assigned"]["p99_ms"]

    suite = report["diagnostics"]["suite"]
    for channel in ("email", "web"):
        counted = suite[channel]
        assert (counted["sent"], counted["accepted"], counted["failed"]) == (3, 3, 0)
        assert (counted["cases_created"], counted["cases_assigned"], counted["cases_with_sla_milestones"]) == (3, 3, 3)
        # Then a round paced at half what the pipeline kept up with: its smallest, three messages.
        paced = suite[f"{channel}_paced"]
        assert (paced["sent"], paced["accepted"], paced["cases_with_sla_milestones"]) == (3, 3, 3), paced
        assert 0 < paced["rate_per_s"] < rows[f"suite_{channel}_sla"]["rate_per_s"]
        for stage in ("created", "assigned", "sla"):
            assert rows[f"suite_{channel}_paced_{stage}"]["count"] == 3
        # Where the paced messages' time went: each intake hop once per message of its channel.
        for hop in ("intake_relayed", "intake_consumed"):
            assert rows[f"suite_paced_hop_{channel}_{hop}"]["count"] == 3, rows[f"suite_paced_hop_{channel}_{hop}"]
    # … and each hop of the case path once per paced case, no time going backwards.
    for hop in ("created_relayed", "routing_consumed", "assign_relayed", "assign_consumed", "sla_consumed"):
        row = rows[f"suite_paced_hop_{hop}"]
        assert row["count"] == 6, row
        assert 0 <= row["p50_ms"] <= row["p99_ms"], row
    assert suite["duplicates"] == {}
    # The gateway announced the raised limits on its answers (the default is 1,200 per IP and 600 per token).
    assert suite["gateway_rate_limit_policy"] == '"ip";q=10000000;w=60, "token";q=10000000;w=60'

    # Open loop at 10/s for at least 2 s (longer while the intake was in flight): the schedule is kept
    # whatever the answers take, in the 2:2:1 mix, and every request is answered.
    api = {name: rows[f"suite_api_{name}"] for name in ("list", "get", "update")}
    seconds = api["list"]["seconds"]
    assert seconds >= 2
    assert sum(row["count"] for row in api.values()) == round(10 * seconds)
    assert abs(api["list"]["count"] - 2 * api["update"]["count"]) <= 1, api
    for row in api.values():
        assert row["errors"] == {}, row
        assert row["p50_ms"] is not None
    assert api["list"]["pct_of_postgres_insert"] is None, "a read is not compared with the INSERT ceiling"
    assert api["update"]["pct_of_postgres_insert"] is not None

    table = done.stdout
    assert re.search(r"^suite: email accepted \(2 SMTP sessions\)\s+3\s", table, re.MULTILINE), table
    assert re.search(r"^suite: web form 2xx -> SLA milestones set\s+3\s", table, re.MULTILINE), table
    assert re.search(r"^suite paced hop: routing's relay -> case-core's command transaction\s+6\s", table, re.MULTILINE)
    assert (
        "suite email: 3 sent, 3 accepted (0 temporary refusals retried), 3 cases, 3 assigned, "
        "3 with SLA milestones, 0 duplicated" in table
    )
    assert "gateway rate limits raised" in table
    assert re.search(r"^suite CPU ms per message in the paced round .*case-core [0-9.]+, ", table, re.MULTILINE), table
    # The paced round waited for the work behind the first one, not for a quiet host.
    assert "once every outbox was published and every consumer caught up for 2s" in table, table


def test_a_bad_suite_size_is_refused_before_anything_starts(tmp_path: Path) -> None:
    done = _bench(tmp_path / "results", BENCH_SUITE_EMAILS="lots")
    assert done.returncode == 2
    assert "BENCH_SUITE_EMAILS must be a whole number greater than 0, got 'lots'" in done.stderr
    assert "starting PostgreSQL" not in done.stdout
    assert not (tmp_path / "results").exists()
