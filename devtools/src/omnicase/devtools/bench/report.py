"""The run's table and JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from omnicase.devtools.bench.config import BenchConfig
from omnicase.devtools.bench.measure import Measurement, rounded

SUITE_NOTES = [
    "suite rows: the whole suite under `omnicase up` (OMNICASE_PROCESSES processes per service) on the same "
    "PostgreSQL and broker; mail, forms and the agent console load it at the same time, so each figure is "
    "measured beside the others.",
    "suite stages: case created / assigned = envelope time of case-core's event (stamped in the transaction that "
    "made the change); SLA milestones set = envelope time of sla-engine's sla.clocks_started (the same). "
    "Their rate = messages / (first send to the last message reaching that stage).",
    "suite intake: senders are closed loop (each sends its next message when the last is accepted), so when the "
    "pipeline is slower than acceptance the stage latencies include that backlog, as the kit's full-speed rows do; "
    "the paced rows are a second round at half the rate the pipeline kept up with, below saturation.",
    "suite api: open loop (each request sent at its scheduled time, latency from that time), 2xx only in the "
    "percentiles, other answers counted as errors.",
]


@dataclass
class Report:
    config: BenchConfig
    machine: dict[str, Any]
    started_at: datetime
    measurements: list[Measurement] = field(default_factory=list)
    diagnostics: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def get(self, key: str) -> Measurement | None:
        return next((m for m in self.measurements if m.key == key), None)

    def share_of_insert_ceiling(self, measurement: Measurement) -> float | None:
        ceiling = self.get("postgres_insert")
        if not measurement.compare_to_ceiling or not measurement.rate or ceiling is None or not ceiling.rate:
            return None
        return 100 * measurement.rate / ceiling.rate

    def kit_vs_ceilings(self) -> dict[str, float | None]:
        kit = self.get("kit_end_to_end")
        writes = self.get("kit_outbox_write")
        database = self.get("postgres_insert")
        broker = self.get("broker_produce_consume")

        def share(part: Measurement | None, whole: Measurement | None) -> float | None:
            if part is None or whole is None or not part.rate or not whole.rate:
                return None
            return round(100 * part.rate / whole.rate, 1)

        return {
            "kit_end_to_end_pct_of_postgres_insert": share(kit, database),
            "kit_end_to_end_pct_of_broker_produce_consume": share(kit, broker),
            "kit_outbox_write_pct_of_postgres_insert": share(writes, database),
        }

    def notes(self) -> list[str]:
        settings = self.machine.get("postgresql_settings", {})
        machine = self.machine
        return [
            f"PostgreSQL durable: fsync={settings.get('fsync')}, synchronous_commit="
            f"{settings.get('synchronous_commit')}; each commit waits for its WAL flush to "
            f"{machine.get('data_dir_filesystem')} ({machine.get('postgresql_version')}).",
            f"Broker: {machine.get('broker')}, one broker, acks=all, {self.config.partitions} partitions per topic.",
            f"Warm-up before each measurement: {self.config.warmup} rows/messages/events through the same path, "
            "not counted.",
            "Full-speed rows push as fast as the clients go, so their latencies include queueing; the paced row "
            "is the same kit path below saturation.",
            "A kit event costs a writer transaction plus a share of the relay's and the consumer's transactions, "
            "all durable, so its rate sits below the INSERT ceiling; the percentages say how far.",
            f"All clients run in one Python process on {machine.get('event_loop')}, sharing {machine.get('nproc')} "
            "CPUs with both servers. bench cpu = this process, % of one core (it uses one thread); host cpu = "
            "all processes, % of all cores.",
            f"Load average when the run started: {machine.get('loadavg_at_start')} (other work on the host skews "
            "every figure).",
        ] + (SUITE_NOTES if "suite" in self.diagnostics else [])

    def as_json(self) -> dict[str, Any]:
        return {
            "benchmark": "kit",
            "started_at": self.started_at.isoformat(),
            "seconds": round(self.seconds, 1),
            "config": self.config.as_json(),
            "machine": self.machine,
            "results": [
                {**m.as_json(), "pct_of_postgres_insert": rounded(self.share_of_insert_ceiling(m), 1)}
                for m in self.measurements
            ],
            "kit_vs_ceilings": self.kit_vs_ceilings(),
            "diagnostics": self.diagnostics,
            "notes": self.notes(),
        }

    def table(self) -> str:
        header = (
            "name",
            "count",
            "seconds",
            "rate/s",
            "% of INSERT",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "bench cpu",
            "host cpu",
        )
        rows: list[tuple[str, ...]] = [header]
        for m in self.measurements:
            pct = m.percentiles()
            share = self.share_of_insert_ceiling(m)
            rows.append(
                (
                    m.name,
                    str(m.count),
                    _fmt(m.seconds, 2),
                    _fmt(m.rate, 0),
                    _fmt(share, 1, "%"),
                    _fmt(pct["p50"], 1),
                    _fmt(pct["p95"], 1),
                    _fmt(pct["p99"], 1),
                    _fmt(m.cpu.process_pct if m.cpu else None, 0, "%"),
                    _fmt(m.cpu.host_pct if m.cpu else None, 0, "%"),
                )
            )
        widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
        lines = [
            "  ".join(cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row))
            for row in rows
        ]
        lines.insert(1, "-" * len(lines[0]))
        shares = self.kit_vs_ceilings()
        lines += [
            "",
            f"kit end to end = {_fmt(shares['kit_end_to_end_pct_of_postgres_insert'], 1)}% of the PostgreSQL "
            f"INSERT ceiling, {_fmt(shares['kit_end_to_end_pct_of_broker_produce_consume'], 1)}% of the broker "
            "produce+consume ceiling",
            f"kit outbox writes = {_fmt(shares['kit_outbox_write_pct_of_postgres_insert'], 1)}% of the "
            "PostgreSQL INSERT ceiling",
        ]
        for run in ("full_speed", "paced"):
            d = self.diagnostics.get(run)
            if d:
                lines.append(
                    f"kit {run.replace('_', ' ')}: relay {d['relay_batches']} batches of "
                    f"{d['relay_events_per_batch']} events; consumer {d['consumer_transactions']} transactions "
                    f"of {d['consumer_events_per_transaction']} events"
                )
        if "applied_rows" in self.diagnostics:
            lines.append(
                f"kit handler rows: {self.diagnostics['applied_rows']} = every event written, once "
                "(warm-up, full speed and paced)"
            )
        if "suite" in self.diagnostics:
            lines += self.diagnostics["suite"]["summary"]
        lines += ["", *(f"* {note}" for note in self.notes())]
        return "\n".join(lines)


def _fmt(value: float | None, digits: int, unit: str = "") -> str:
    return "-" if value is None else f"{value:,.{digits}f}{unit}"
