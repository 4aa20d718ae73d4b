"""Password hashing with argon2id (OWASP's first choice), off the event loop.

Hashing costs tens of milliseconds of CPU on purpose, so it runs in a worker
thread: one login must not stall every other request of the process. The cost
is a setting (``GATEWAY_PASSWORD_TIME_COST`` / ``_MEMORY_KIB``); hashes record
their own parameters, so raising it later keeps old passwords working and
:meth:`Passwords.needs_rehash` tells when to upgrade one.
"""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


class Passwords:
    def __init__(self, *, time_cost: int, memory_kib: int) -> None:
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)
        # Verified against when the account does not exist, so an unknown address costs the
        # same time as a wrong password and response times do not reveal which accounts exist.
        self._dummy = self._hasher.hash("omnicase-no-such-user")

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    def _verify(self, stored: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(stored or self._dummy, password) and stored is not None
        except (VerificationError, InvalidHashError):
            return False

    async def verify(self, stored: str | None, password: str) -> bool:
        """True when ``password`` matches ``stored``; always False (in comparable time) when there is no hash."""
        return await asyncio.to_thread(self._verify, stored, password)

    def needs_rehash(self, stored: str) -> bool:
        return self._hasher.check_needs_rehash(stored)
