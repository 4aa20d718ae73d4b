"""Secrets at rest: envelope encryption with a data key per value, sealed by a master key.

A service stores a secret (a webhook signing secret, a channel's API token, a mailbox's
inbound-parse key) as a *sealed token*, never as plain text, so a database dump or a
backup leaks nothing without the master keys, which live only in settings::

    omnicase:v1:<key id>:<wrapped data key>:<nonce + ciphertext>

Each value gets its own random 256-bit data key; the value is encrypted with it
(AES-256-GCM), and the data key is encrypted ("wrapped") with the current master key
(AES-256-GCM too). Both encryptions bind the value's *context* (for example
``case_core.webhook_subscriptions.secret:<row id>``) as associated data, so a token
copied to another row or column does not open there.

Rotation without downtime: configure the new master key beside the old ones and make it
current. New values are sealed with it at once; old tokens still open with the key they
name; :meth:`Sealer.reseal` re-wraps an old token's data key under the current master key
(the value itself is not re-encrypted), which each service's background pass does for its
rows. Once no token names an old key, it can be removed from settings.

Settings (suite-wide, unprefixed): ``OMNICASE_MASTER_KEYS`` (JSON object, key id ->
base64 of 32 random bytes) and ``OMNICASE_MASTER_KEY_ID`` (the current one). Without them
a fixed development key is used, which ``OMNICASE_ENV=prod`` refuses.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "omnicase:v1:"
# What a token this module makes looks like, for documents that name one in a path (key ids
# as operators choose them: letters, digits, '-' and '_').
TOKEN_PATTERN = r"^omnicase:v1:[A-Za-z0-9_-]+:[A-Za-z0-9_-]+:[A-Za-z0-9_-]+$"
DEV_KEY_ID = "dev"
# The well-known development master key: fine on a laptop, refused when env=prod.
DEV_MASTER_KEY = base64.b64encode(b"omnicase development master key!").decode()
_NONCE_BYTES = 12
_KEY_BYTES = 32


class SealingError(ValueError):
    """A token that cannot be opened: unknown master key, wrong context, or tampered with."""


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def decode_master_keys(keys: Mapping[str, str]) -> dict[str, bytes]:
    """Master keys from settings (base64 text); raises ValueError naming a bad one."""
    decoded: dict[str, bytes] = {}
    for key_id, text in keys.items():
        if not key_id or ":" in key_id:
            raise ValueError(f"master key id {key_id!r}: must be non-empty and contain no ':'")
        try:
            raw = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError(f"master key {key_id!r}: not base64") from None
        if len(raw) != _KEY_BYTES:
            raise ValueError(f"master key {key_id!r}: must be {_KEY_BYTES} bytes, got {len(raw)}")
        decoded[key_id] = raw
    return decoded


def new_master_key() -> str:
    """A fresh master key as settings take it (what an operator generates once)."""
    return base64.b64encode(os.urandom(_KEY_BYTES)).decode()


class Sealer:
    """Seals and opens secrets for one service; built once at start from its settings."""

    def __init__(self, master_keys: Mapping[str, bytes], current: str) -> None:
        if current not in master_keys:
            raise ValueError(f"current master key {current!r} is not among the configured keys")
        self._keys = {key_id: AESGCM(key) for key_id, key in master_keys.items()}
        self.current = current

    @staticmethod
    def is_sealed(value: str) -> bool:
        return value.startswith(PREFIX)

    def seal(self, plaintext: str, context: str) -> str:
        """A token for ``plaintext`` that only opens under the same ``context``."""
        data_key = AESGCM.generate_key(bit_length=_KEY_BYTES * 8)
        nonce = os.urandom(_NONCE_BYTES)
        sealed_value = nonce + AESGCM(data_key).encrypt(nonce, plaintext.encode(), context.encode())
        return self._token(self.current, self._wrap(self.current, data_key, context), sealed_value)

    def open(self, token: str, context: str) -> str:
        """The plaintext of ``token``; :class:`SealingError` if it cannot be opened here."""
        key_id, wrapped, sealed_value = self._parse(token)
        data_key = self._unwrap(key_id, wrapped, context)
        try:
            nonce, ciphertext = sealed_value[:_NONCE_BYTES], sealed_value[_NONCE_BYTES:]
            return AESGCM(data_key).decrypt(nonce, ciphertext, context.encode()).decode()
        except (InvalidTag, ValueError):
            raise SealingError("sealed value does not open: wrong context or tampered with") from None

    def open_stored(self, value: str, context: str) -> str:
        """What a column holds, opened: a token is opened, plain text stored before sealing is returned as it is
        (until the service's reseal pass seals it)."""
        return self.open(value, context) if self.is_sealed(value) else value

    def reseal(self, value: str, context: str) -> str:
        """``value`` under the current master key: plain text is sealed, an old token's data key re-wrapped."""
        if not self.is_sealed(value):
            return self.seal(value, context)
        key_id, wrapped, sealed_value = self._parse(value)
        if key_id == self.current:
            return value
        data_key = self._unwrap(key_id, wrapped, context)
        return self._token(self.current, self._wrap(self.current, data_key, context), sealed_value)

    # -- the token ---------------------------------------------------------------------

    @staticmethod
    def _token(key_id: str, wrapped: bytes, sealed_value: bytes) -> str:
        return f"{PREFIX}{key_id}:{_b64(wrapped)}:{_b64(sealed_value)}"

    @staticmethod
    def _parse(token: str) -> tuple[str, bytes, bytes]:
        if not token.startswith(PREFIX):
            raise SealingError("not a sealed value")
        parts = token[len(PREFIX) :].split(":")
        if len(parts) != 3:
            raise SealingError("malformed sealed value")
        try:
            return parts[0], _unb64(parts[1]), _unb64(parts[2])
        except (binascii.Error, ValueError):
            raise SealingError("malformed sealed value") from None

    def _wrap(self, key_id: str, data_key: bytes, context: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._keys[key_id].encrypt(nonce, data_key, f"{key_id}|{context}".encode())

    def _unwrap(self, key_id: str, wrapped: bytes, context: str) -> bytes:
        master = self._keys.get(key_id)
        if master is None:
            raise SealingError(f"sealed under master key {key_id!r}, which is not configured")
        try:
            return master.decrypt(wrapped[:_NONCE_BYTES], wrapped[_NONCE_BYTES:], f"{key_id}|{context}".encode())
        except InvalidTag:
            raise SealingError("sealed value does not open: wrong context or tampered with") from None
