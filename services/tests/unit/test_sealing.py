"""Secrets at rest: sealed per value, bound to where they are stored, rotated without downtime."""

from __future__ import annotations

import base64
import re
import subprocess
import sys
from typing import ClassVar

import pytest
from pydantic_settings import SettingsConfigDict

from omnicase.kit.sealing import PREFIX, TOKEN_PATTERN, Sealer, SealingError, decode_master_keys, new_master_key
from omnicase.kit.settings import ServiceSettings, SettingsError, load_settings

CONTEXT = "case_core.webhook_subscriptions.secret:0190c4a2-7b3e-7f00-8000-000000000001"
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


class DemoSettings(ServiceSettings):
    model_config = SettingsConfigDict(extra="ignore", env_prefix="DEMO_")
    service_name: ClassVar[str] = "demo"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OMNICASE_ENV", "OMNICASE_INTERNAL_SECRET", "OMNICASE_MASTER_KEYS", "OMNICASE_MASTER_KEY_ID"):
        monkeypatch.delenv(name, raising=False)


def sealer(current: str = "k1", **keys: str) -> Sealer:
    return Sealer(decode_master_keys(keys or {"k1": new_master_key()}), current)


def test_a_sealed_secret_opens_to_itself_and_shows_nothing_of_it() -> None:
    seals = sealer()
    token = seals.seal(SECRET, CONTEXT)
    assert token.startswith(f"{PREFIX}k1:")
    assert SECRET not in token
    assert seals.open(token, CONTEXT) == SECRET
    assert seals.seal(SECRET, CONTEXT) != token, "a fresh data key and nonce per value"


def test_tokens_match_the_pattern_documents_give_for_them() -> None:
    """Survey links carry a token in their path; the API document's pattern must admit every one."""
    seals = sealer("dev-2026_b", **{"dev-2026_b": new_master_key()})
    for value in ("0190c4a2-7b3e-7f00-8000-000000000001:good", "", "é" * 300):
        assert re.fullmatch(TOKEN_PATTERN, seals.seal(value, CONTEXT))
    assert not re.fullmatch(TOKEN_PATTERN, ".\n"), "a dot is no token: a path would normalise it away"


def test_a_stored_value_opens_whether_sealed_or_still_plain_from_before_sealing() -> None:
    seals = sealer()
    assert seals.open_stored(seals.seal(SECRET, CONTEXT), CONTEXT) == SECRET
    assert seals.open_stored(SECRET, CONTEXT) == SECRET, "used as it is until the reseal pass seals it"
    with pytest.raises(SealingError):
        seals.open_stored(seals.seal(SECRET, CONTEXT), CONTEXT + "-elsewhere")


def test_a_token_copied_to_another_row_or_tampered_with_does_not_open() -> None:
    seals = sealer()
    token = seals.seal(SECRET, CONTEXT)
    with pytest.raises(SealingError, match="wrong context"):
        seals.open(token, CONTEXT.replace("0001", "0002"))
    head, _, body = token.rpartition(":")
    flipped = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1]
    with pytest.raises(SealingError):
        seals.open(f"{head}:{flipped}", CONTEXT)
    with pytest.raises(SealingError, match="not a sealed value"):
        seals.open(SECRET, CONTEXT)


def test_another_installation_s_master_key_opens_nothing() -> None:
    token = sealer().seal(SECRET, CONTEXT)
    with pytest.raises(SealingError):
        sealer().open(token, CONTEXT)
    with pytest.raises(SealingError, match="'k1', which is not configured"):
        sealer("k2", k2=new_master_key()).open(token, CONTEXT)


def test_rotation_reseals_old_tokens_and_plain_text_under_the_new_key() -> None:
    old_key, new_key = new_master_key(), new_master_key()
    before = sealer("k1", k1=old_key)
    old_token = before.seal(SECRET, CONTEXT)
    after = sealer("k2", k1=old_key, k2=new_key)
    # During the rotation both keys are configured: old tokens still open.
    assert after.open(old_token, CONTEXT) == SECRET
    resealed = after.reseal(old_token, CONTEXT)
    assert resealed.startswith(f"{PREFIX}k2:")
    assert after.reseal(resealed, CONTEXT) == resealed
    # Once every token is resealed, the old key can go.
    assert sealer("k2", k2=new_key).open(resealed, CONTEXT) == SECRET
    # A value stored before sealing existed is sealed by the same pass.
    assert after.open(after.reseal(SECRET, CONTEXT), CONTEXT) == SECRET


def test_settings_seal_with_the_development_key_by_default_and_refuse_it_in_prod(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    token = load_settings(DemoSettings).sealer().seal(SECRET, CONTEXT)
    assert token.startswith(f"{PREFIX}dev:")
    monkeypatch.setenv("OMNICASE_ENV", "prod")
    monkeypatch.setenv("OMNICASE_INTERNAL_SECRET", "a production internal secret")
    with pytest.raises(SettingsError, match=r"MASTER_KEY_ID: the built-in development master key is refused"):
        load_settings(DemoSettings)
    monkeypatch.setenv("OMNICASE_MASTER_KEYS", f'{{"k1": "{new_master_key()}"}}')
    monkeypatch.setenv("OMNICASE_MASTER_KEY_ID", "k1")
    assert load_settings(DemoSettings).sealer().current == "k1"


# A well-formed key (32 bytes) chosen once: parameters are the same in every collection (pytest-xdist).
WELL_FORMED_KEY = base64.b64encode(bytes(range(32))).decode()


@pytest.mark.parametrize(
    ("keys", "key_id", "complaint"),
    [
        ('{"k1": "not base64!"}', "k1", "master key 'k1': not base64"),
        (f'{{"k1": "{base64.b64encode(b"short").decode()}"}}', "k1", "must be 32 bytes, got 5"),
        (f'{{"k1": "{WELL_FORMED_KEY}"}}', "k9", "'k9' is not a key of OMNICASE_MASTER_KEYS"),
    ],
)
def test_a_bad_master_key_setting_names_what_is_wrong(
    monkeypatch: pytest.MonkeyPatch, keys: str, key_id: str, complaint: str
) -> None:
    monkeypatch.setenv("OMNICASE_MASTER_KEYS", keys)
    monkeypatch.setenv("OMNICASE_MASTER_KEY_ID", key_id)
    with pytest.raises(SettingsError) as error:
        load_settings(DemoSettings)
    assert complaint in str(error.value)
    assert "DEMO_MASTER_KEY" in str(error.value)


def test_keygen_prints_settings_a_service_accepts(monkeypatch: pytest.MonkeyPatch) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "omnicase.cli", "keygen", "--key-id", "k7"],
        capture_output=True,
        text=True,
        check=True,
    )
    keys_line, id_line = result.stdout.splitlines()
    monkeypatch.setenv("OMNICASE_MASTER_KEYS", keys_line.split("=", 1)[1].strip("'"))
    monkeypatch.setenv(*id_line.split("=", 1))
    assert load_settings(DemoSettings).sealer().current == "k7"
