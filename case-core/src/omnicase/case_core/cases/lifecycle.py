"""The status lifecycle: which transitions are legal.

::

    new      -> open, pending, on_hold, solved
    open     -> pending, on_hold, solved
    pending  -> open, on_hold, solved
    on_hold  -> open, pending, solved
    solved   -> open (reopen), closed
    closed   -> (nothing: closed is final; a customer reply opens a follow-up case)

Nothing returns to ``new`` (it means "nobody has touched this yet"). ``closed`` is
reached only from ``solved``, so every closed case went through the required-on-solve
checks. A customer reply reopens ``pending`` and ``solved`` cases (``open``); a case
``on_hold`` waits on a third party and stays on hold.
"""

from __future__ import annotations

from omnicase.kit.events import CaseStatus

S = CaseStatus

TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    S.NEW: frozenset({S.OPEN, S.PENDING, S.ON_HOLD, S.SOLVED}),
    S.OPEN: frozenset({S.PENDING, S.ON_HOLD, S.SOLVED}),
    S.PENDING: frozenset({S.OPEN, S.ON_HOLD, S.SOLVED}),
    S.ON_HOLD: frozenset({S.OPEN, S.PENDING, S.SOLVED}),
    S.SOLVED: frozenset({S.OPEN, S.CLOSED}),
    S.CLOSED: frozenset(),
}

# Statuses a customer's reply turns back into ``open``.
REOPENED_BY_REPLY = frozenset({S.PENDING, S.SOLVED})


def can_transition(current: CaseStatus, target: CaseStatus) -> bool:
    return target == current or target in TRANSITIONS[current]
