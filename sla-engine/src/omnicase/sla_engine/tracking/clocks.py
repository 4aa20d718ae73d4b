"""What integrators are told of a case's SLA clocks: ``sla.clocks_started`` and ``sla.milestones_updated``.

A case's clocks are its milestones that have a target under its policy, each as a
:class:`~omnicase.kit.events.SlaClock` (its state, whether it is breached, when it is due).
An event goes out only when that view changes: ``sla.clocks_started`` when a case that had
no targeted milestone gets one (its first sight with a policy, or a policy matching it
again), ``sla.milestones_updated`` for any later change, carrying the whole new set (empty
when no policy applies any more). Bookkeeping the view does not show (running segments,
timers re-planned with the same due time) sends nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from omnicase.kit.events import EventData, SlaClock, SlaClocksStarted, SlaMilestonesUpdated


def clocks_of(rows: Iterable[Mapping[str, Any]]) -> list[SlaClock]:
    """The targeted milestones of a case's rows, in a stable order."""
    clocks = []
    for row in sorted(rows, key=lambda row: (str(row["kind"]), row["cycle"])):
        if row["target_seconds"] is None:
            continue
        achieved, due = row["achieved_at"], row["due_at"]
        late = achieved is not None and due is not None and achieved > due
        if achieved is not None:
            state = "achieved"
        elif row["cancelled_at"] is not None:
            state = "cancelled"
        else:
            state = "running" if row["running_since"] is not None else "paused"
        clocks.append(
            SlaClock(
                milestone=str(row["kind"]),
                cycle=row["cycle"],
                state=state,
                breached=row["breached_at"] is not None or late,
                due_at=due,
                warn_at=row["warn_at"],
                achieved_at=achieved,
            )
        )
    return clocks


def clocks_event(
    case_id: uuid.UUID,
    policy_id: uuid.UUID | None,
    before: list[SlaClock],
    after: list[SlaClock],
    schedule_id: uuid.UUID | None = None,
) -> EventData | None:
    """The event telling the change from ``before`` to ``after``; None when nothing an integrator sees changed."""
    if after == before:
        return None
    if not before:
        return SlaClocksStarted(case_id=case_id, policy_id=policy_id, schedule_id=schedule_id, clocks=after)
    return SlaMilestonesUpdated(case_id=case_id, policy_id=policy_id, schedule_id=schedule_id, clocks=after)
