"""How the suite bench ties cases to the messages it sent, and what it makes of them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from omnicase.devtools.bench.config import BenchError
from omnicase.devtools.bench.suite.intake import Accepted, IntakeResult, subject_for
from omnicase.devtools.bench.suite.observe import PipelineObserver
from omnicase.devtools.bench.suite.run import SuiteBenchConfig, _check_refused, _intake_rows, _missing, _paced
from omnicase.kit.events import (
    CaseCreated,
    CaseSnapshot,
    CaseStatus,
    CaseUpdated,
    Channel,
    FieldChange,
    Priority,
    SlaClocksStarted,
)

RUN = "0a1b2c3d"
T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _observer() -> PipelineObserver:
    return PipelineObserver(RUN, bootstrap="unused:9092")


def _created(subject: str, at: datetime, case_id: uuid.UUID | None = None) -> tuple[uuid.UUID, bytes]:
    case_id = case_id or uuid.uuid4()
    case = CaseSnapshot(
        case_id=case_id,
        number=1,
        subject=subject,
        status=CaseStatus.NEW,
        priority=Priority.NORMAL,
        channel=Channel.EMAIL,
        created_at=at,
        updated_at=at,
        version=1,
    )
    envelope = CaseCreated(case=case).envelope(source="case-core", subject=str(case_id))
    return case_id, envelope.model_copy(update={"time": at}).to_bytes()


def _assigned(case_id: uuid.UUID, at: datetime, field: str = "assignee_id") -> bytes:
    update = CaseUpdated(
        case_id=case_id, version=2, changes={field: FieldChange(old=None, new=str(uuid.uuid4()))}, actor="routing"
    )
    return update.envelope(source="case-core", subject=str(case_id)).model_copy(update={"time": at}).to_bytes()


def test_cases_are_tied_to_this_runs_messages_by_the_subject_token() -> None:
    observer = _observer()
    case_id, created = _created(f"Re: {subject_for(RUN, 'e7')}", T0)
    observer._observe(created)
    observer._observe(_created(subject_for("ffffffff", "e7"), T0)[1])  # another run's mail
    observer._observe(_created("Printer on fire", T0)[1])

    assert list(observer.by_key) == ["e7"]
    assert observer.by_key["e7"].case_id == case_id
    assert observer.by_key["e7"].created_at == T0.timestamp()
    assert observer.by_key["e7"].assigned_at is None


def test_the_first_assignment_counts_and_other_changes_do_not() -> None:
    observer = _observer()
    case_id, created = _created(subject_for(RUN, "w3"), T0)
    observer._observe(created)
    observer._observe(_assigned(case_id, T0 + timedelta(seconds=1), field="group_id"))
    assert observer.by_key["w3"].assigned_at is None
    observer._observe(_assigned(case_id, T0 + timedelta(seconds=2)))
    observer._observe(_assigned(case_id, T0 + timedelta(seconds=9)))  # reassigned later
    assert observer.by_key["w3"].assigned_at == (T0 + timedelta(seconds=2)).timestamp()


def test_a_message_that_became_two_cases_is_a_duplicate_and_a_replayed_event_is_not() -> None:
    observer = _observer()
    case_id, created = _created(subject_for(RUN, "e1"), T0)
    observer._observe(created)
    observer._observe(created)  # the same event delivered again
    assert observer.duplicates == {}
    second, again = _created(subject_for(RUN, "e1"), T0)
    observer._observe(again)
    assert observer.duplicates == {"e1": [str(case_id), str(second)]}


def test_stage_rows_measure_from_each_messages_acceptance_and_leave_out_what_never_got_there() -> None:
    observer = _observer()
    start = T0.timestamp()
    result = IntakeResult("email", sent=2)
    result.accepted += [
        Accepted("e0", sent_at=start, accepted_at=start + 0.1, latency_ms=100, attempts=1),
        Accepted("e1", sent_at=start + 0.2, accepted_at=start + 0.5, latency_ms=300, attempts=2),
    ]
    for key, created_after in (("e0", 0.4), ("e1", 1.0)):
        _, raw = _created(subject_for(RUN, key), T0 + timedelta(seconds=created_after))
        observer._observe(raw)
    observer.by_key["e0"].assigned_at = start + 2.1

    rows = {row.key: row for row in _intake_rows(result, observer, "2 SMTP sessions", "250", cpu=None)}

    accepted = rows["suite_email_accepted"]
    assert accepted.count == 2
    assert accepted.seconds == pytest.approx(0.5)
    assert accepted.latencies_ms == [100, 300]
    created = rows["suite_email_created"]
    assert created.latencies_ms == pytest.approx([300, 500])
    assert created.seconds == pytest.approx(1.0), "first send to the last case created"
    assigned = rows["suite_email_assigned"]
    assert assigned.count == 1
    assert assigned.latencies_ms == pytest.approx([2000])
    assert rows["suite_email_sla"].count == 0
    assert rows["suite_email_sla"].rate is None


def test_the_paced_round_runs_at_half_what_the_pipeline_kept_up_with() -> None:
    observer = _observer()
    start = T0.timestamp()
    result = IntakeResult("web", sent=40)
    for index in range(40):
        key = f"w{index}"
        result.accepted.append(Accepted(key, start + index * 0.1, start + index * 0.1 + 0.05, 50, 1))
        _, raw = _created(subject_for(RUN, key), T0 + timedelta(seconds=index * 0.1 + 1))
        observer._observe(raw)
        observer.by_key[key].sla_at = start + 2 + index * 0.2  # the last clock set 9.8 s after the first send
    paced, rate = _paced(result, observer)
    assert rate == pytest.approx(0.5 * 40 / 9.8)
    assert paced.channel == "web"
    assert paced.sent == round(rate * 10), "about ten seconds of it"
    assert paced.accepted == []


def test_what_is_missing_is_named_per_stage() -> None:
    observer = _observer()
    _, created = _created(subject_for(RUN, "w0"), T0)
    observer._observe(created)
    text = _missing(observer, {"w0", "w1"})
    assert "1 never became cases ['w1']" in text
    assert "1 not assigned ['w0']" in text
    assert "1 without SLA milestones ['w0']" in text


def test_messages_the_suite_never_accepted_fail_the_run() -> None:
    refused = IntakeResult("web", sent=2)
    refused.failed["w1"] = "422 validation-error"
    with pytest.raises(BenchError, match=r"1 messages were never accepted by the suite \(web w1: 422"):
        _check_refused(IntakeResult("email", sent=0), refused)


def test_sizes_come_from_the_environment_and_bench_suite_0_skips_the_part(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BENCH_SUITE_EMAILS", "7")
    monkeypatch.setenv("BENCH_SUITE_API_RATE", "2.5")
    config = SuiteBenchConfig.from_env()
    assert config is not None
    assert (config.emails, config.api_rate, config.forms) == (7, 2.5, SuiteBenchConfig.forms)
    monkeypatch.setenv("BENCH_SUITE", "0")
    assert SuiteBenchConfig.from_env() is None


@pytest.mark.parametrize(("name", "value"), [("BENCH_SUITE_FORMS", "0"), ("BENCH_SUITE_SMTP_SESSIONS", "two")])
def test_a_bad_size_is_refused_by_name(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(BenchError, match=name):
        SuiteBenchConfig.from_env()


def _clocks_started(case_id: uuid.UUID, at: datetime) -> bytes:
    started = SlaClocksStarted(case_id=case_id, policy_id=uuid.uuid4(), clocks=[])
    return started.envelope(source="sla-engine", subject=str(case_id)).model_copy(update={"time": at}).to_bytes()


def test_sla_clocks_count_from_sla_engines_event_even_when_it_is_read_before_the_case() -> None:
    observer = _observer()
    early_id, early = _created(subject_for(RUN, "e1"), T0)
    observer._observe(_clocks_started(early_id, T0 + timedelta(seconds=1)))  # sla.events read first
    observer._observe(early)
    late_id, late = _created(subject_for(RUN, "e2"), T0)
    observer._observe(late)
    observer._observe(_clocks_started(late_id, T0 + timedelta(seconds=2)))
    observer._observe(_clocks_started(late_id, T0 + timedelta(seconds=5)))  # a redelivery changes nothing
    observer._observe(_clocks_started(uuid.uuid4(), T0))  # another run's case

    assert observer.by_key["e1"].sla_at == (T0 + timedelta(seconds=1)).timestamp()
    assert observer.by_key["e2"].sla_at == (T0 + timedelta(seconds=2)).timestamp()
