"""Settings that cannot work together stop the service at start with a readable reason."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from omnicase.intake_email.settings import IntakeEmailSettings


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"smtp_require_starttls": True}, "smtp_require_starttls needs smtp_tls_cert_file"),
        ({"relay_starttls": True, "relay_use_tls": True}, "exclude each other"),
        ({"relay_username": "user"}, "go together"),
        ({"imap_accounts": [{"mailbox": "a@b.c", "host": "imap", "username": "u"}]}, "password"),
    ],
)
def test_inconsistent_settings_are_refused(values: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        IntakeEmailSettings(**values)


def test_imap_accounts_are_read_from_json_and_keep_the_password_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "INTAKE_EMAIL_IMAP_ACCOUNTS",
        '[{"mailbox": "support@acme.test", "host": "imap.acme.test", "username": "s", "password": "pw-1"}]',
    )
    [account] = IntakeEmailSettings().imap_accounts
    assert (account.port, account.security, account.folder) == (993, "ssl", "INBOX")
    assert account.password.get_secret_value() == "pw-1"
    assert "pw-1" not in repr(account)
