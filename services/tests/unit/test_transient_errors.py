"""Which failures the consumer retries forever, and which count toward the dead-letter topic."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError

from omnicase.kit.bus.consumer import is_transient


class _DriverError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"sqlstate {sqlstate}")
        self.sqlstate = sqlstate


@pytest.mark.parametrize("sqlstate", ["40P01", "40001"])
def test_deadlocks_and_serialization_failures_are_retried_not_dead_lettered(sqlstate: str) -> None:
    assert is_transient(DBAPIError("UPDATE …", {}, _DriverError(sqlstate)))


def test_a_constraint_violation_is_the_message_s_fault() -> None:
    assert not is_transient(IntegrityError("INSERT …", {}, _DriverError("23505")))


def test_a_lost_connection_is_retried() -> None:
    assert is_transient(ConnectionResetError())


@pytest.mark.parametrize("sqlstate", ["57P03", "57P01", "08006"])
def test_a_database_starting_up_or_shutting_down_is_retried_not_dead_lettered(sqlstate: str) -> None:
    # 57P03 "the database system is starting up" (crash recovery), 57P01 admin shutdown, 08006 connection failure.
    assert is_transient(DBAPIError("INSERT …", {}, _DriverError(sqlstate)))
