"""The embedded stack's first admin: chosen by the operator, or generated once and kept.

The gateway creates an admin from ``OMNICASE_BOOTSTRAP_ADMIN_EMAIL`` /
``OMNICASE_BOOTSTRAP_ADMIN_PASSWORD`` when none exists. When they are unset,
``omnicase up`` generates a password on the first start, keeps it in the data
directory (owner-only) and prints it, so every later start prints the login that
actually works on that data.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

EMAIL_VARIABLE = "OMNICASE_BOOTSTRAP_ADMIN_EMAIL"
PASSWORD_VARIABLE = "OMNICASE_BOOTSTRAP_ADMIN_PASSWORD"
GENERATED_EMAIL = "admin@omnicase.dev"


@dataclass(frozen=True)
class BootstrapAdmin:
    email: str
    password: str | None  # None when the operator chose it: never echo their secret
    generated: bool

    def env(self) -> dict[str, str]:
        return {EMAIL_VARIABLE: self.email, PASSWORD_VARIABLE: self.password} if self.password else {}


def bootstrap_admin(data_dir: Path) -> BootstrapAdmin:
    email = os.environ.get(EMAIL_VARIABLE)
    if email and os.environ.get(PASSWORD_VARIABLE):
        return BootstrapAdmin(email=email, password=None, generated=False)
    kept = data_dir / "bootstrap-admin.json"
    if kept.is_file():
        saved = json.loads(kept.read_text())
        return BootstrapAdmin(email=saved["email"], password=saved["password"], generated=True)
    admin = BootstrapAdmin(email=email or GENERATED_EMAIL, password=secrets.token_urlsafe(18), generated=True)
    data_dir.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(kept, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as out:
        json.dump({"email": admin.email, "password": admin.password}, out)
    return admin
