"""Fixtures of intake-email's tests: the running service with its SMTP listener, mailboxes."""

from __future__ import annotations

import asyncio
import email.policy
import imaplib
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aiosmtplib
import httpx
import pytest
import pytest_asyncio
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from fastapi import FastAPI
from sqlalchemy import make_url

from omnicase.devtools.devstack.postgres import EmbeddedPostgres
from omnicase.devtools.devstack.processes import free_port
from omnicase.devtools.testing.apps import running
from omnicase.devtools.testing.plugin import BrandDesk, SettingsFactory, park_what_earlier_modules_left
from omnicase.intake_email.app import create_app
from omnicase.intake_email.settings import IntakeEmailSettings
from omnicase.intake_email.state import IntakeEmailRuntime
from omnicase.kit.clock import utcnow
from omnicase.kit.identity import IDENTITY_HEADER, Role, sign_identity

CORPUS = Path(__file__).parent / "corpus"


@dataclass
class Service:
    app: FastAPI
    client: httpx.AsyncClient
    settings: IntakeEmailSettings
    stop: Callable[[], Awaitable[None]]
    mailbox_ids: list[uuid.UUID] = field(default_factory=list)

    @property
    def smtp_port(self) -> int:
        runtime: IntakeEmailRuntime = self.app.state.runtime
        return runtime.state.smtp.port

    async def send(self, raw: bytes, sender: str, recipients: list[str], **options: Any) -> str:
        """Hand ``raw`` to the SMTP listener as a mail server forwarding it would (plain, unless
        ``options`` say ``start_tls``); the listener's reply."""
        options.setdefault("start_tls", False)
        _, reply = await aiosmtplib.send(
            raw, hostname="127.0.0.1", port=self.smtp_port, sender=sender, recipients=recipients, **options
        )
        return reply

    async def mailbox(self, **fields: Any) -> dict[str, Any]:
        body = {"address": f"support-{uuid.uuid4().hex[:10]}@acme.test", **fields}
        response = await self.client.post("/api/v1/mailboxes", json=body)
        assert response.status_code == 201, response.text
        mailbox: dict[str, Any] = response.json()
        self.mailbox_ids.append(uuid.UUID(mailbox["id"]))
        return mailbox


StartService = Callable[..., Any]


# The gateway's grants for the areas intake-email checks.
ROLE_SCOPES: dict[str, frozenset[str]] = {
    "admin": frozenset({"channels:read", "channels:write", "cases:read"}),
    "agent": frozenset({"channels:read", "cases:read"}),
    "light_agent": frozenset({"channels:read", "cases:read"}),
    "end_user": frozenset({"cases:read"}),
}


def identity_for(settings: IntakeEmailSettings, role: Role, scopes: tuple[str, ...] = ()) -> str:
    """The identity header the gateway would send for a caller with ``role``."""
    return sign_identity(
        subject=str(uuid.uuid4()),
        role=role,
        kind="api_token" if role == "integration" else "user",
        # People hold their role's scopes, as the gateway grants them.
        scopes=set(scopes) if scopes or role == "integration" else set(ROLE_SCOPES.get(role, ())),
        secret=settings.internal_secret,
        now=utcnow(),
        ttl_seconds=3600,
    )


@pytest.fixture
def identity() -> Callable[..., str]:
    """``identity(settings, role, scopes)``: a gateway identity header value."""
    return identity_for


@pytest.fixture
def corpus() -> Callable[[str], bytes]:
    def read(name: str) -> bytes:
        return (CORPUS / name).read_bytes()

    return read


@pytest.fixture
def unique_sender() -> Callable[[], str]:
    return lambda: f"customer-{uuid.uuid4().hex[:10]}@example.org"


# The brand the tests' mailboxes name (case-core must have it: intake-email checks).
BRAND = "acme"


@pytest.fixture(scope="module")
def desk(brand_desk: BrandDesk, embedded_postgres: EmbeddedPostgres, database_url: str) -> BrandDesk:
    """The module's real case-core (the brand desk), with the brand the tests' mailboxes name; what
    earlier modules left pending is parked first (``database_url``: once the migrations made its tables)."""
    park_what_earlier_modules_left(embedded_postgres, "intake_email", "raw_messages")
    brand_desk.make(BRAND)
    return brand_desk


@pytest_asyncio.fixture
async def start_service(
    service_settings: SettingsFactory, desk: BrandDesk
) -> AsyncIterator[Callable[..., Awaitable[Service]]]:
    """``await start_service(**settings overrides)``: the whole service live (SMTP on a free port)."""
    stack: list[Any] = []

    async def start(**overrides: Any) -> Service:
        # Consumers cost a group join and leave per start; tests that need them ask.
        values: dict[str, Any] = {
            "smtp_port": 0,
            "consume_events": False,
            "send_mail": False,
            "case_core_url": desk.url,
            **overrides,
        }
        settings = service_settings(IntakeEmailSettings, **values)
        app = create_app(settings)
        context = running(app)
        client = await context.__aenter__()
        stack.append(context)
        # The gateway's word for it: an admin, as every route here but the public ones needs one.
        client.headers[IDENTITY_HEADER] = identity_for(settings, "admin")

        async def stop() -> None:
            """Shut this instance down now (a restart), instead of at the end of the test."""
            stack.remove(context)
            await context.__aexit__(None, None, None)

        return Service(app, client, settings, stop)

    yield start
    for context in reversed(stack):
        await context.__aexit__(None, None, None)


@pytest_asyncio.fixture
async def service(start_service: Callable[..., Awaitable[Service]]) -> Service:
    return await start_service()


@pytest.fixture
def tls_certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for localhost: (certificate, key)."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@dataclass
class SinkMessage:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.data, _class=EmailMessage, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


class SmtpSink:
    """A real SMTP server on a free port that records what it is sent.

    ``refuse`` holds replies to give to the next DATA commands instead of accepting
    (``"451 4.3.0 try later"``, ``"550 5.1.1 no such user"``), consumed one per message.
    """

    def __init__(self) -> None:
        self.messages: list[SinkMessage] = []
        self.refuse: list[str] = []
        self.refuse_for: dict[str, list[str]] = {}  # the same, per first recipient
        self.port = 0
        self.arrived = asyncio.Event()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        planned = self.refuse_for.get(envelope.rcpt_tos[0], []) if envelope.rcpt_tos else []
        if planned:
            return planned.pop(0)
        if self.refuse:
            return self.refuse.pop(0)
        self.messages.append(
            SinkMessage(str(envelope.mail_from), list(envelope.rcpt_tos), bytes(envelope.original_content or b""))
        )
        self.arrived.set()
        return "250 2.0.0 OK"


@pytest_asyncio.fixture
async def smtp_sink() -> AsyncIterator[SmtpSink]:
    sink = SmtpSink()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(sink, hostname="sink.test", loop=loop), host="127.0.0.1", port=0)
    sink.port = server.sockets[0].getsockname()[1]
    try:
        yield sink
    finally:
        server.close()
        await server.wait_closed()


async def sending_service(
    start_service: Callable[..., Awaitable[Service]], sink: SmtpSink, **overrides: Any
) -> Service:
    """The service with its consumers and sender, relaying to ``sink``, with fast retries."""
    values: dict[str, Any] = {
        "consume_events": True,
        "send_mail": True,
        "relay_host": "127.0.0.1",
        "relay_port": sink.port,
        "send_poll_interval_seconds": 0.1,
        "send_backoff_initial_seconds": 0.2,
        "send_backoff_max_seconds": 0.5,
        **overrides,
    }
    return await start_service(**values)


@pytest.fixture
def start_sending_service(
    start_service: Callable[..., Awaitable[Service]], smtp_sink: SmtpSink
) -> Callable[..., Awaitable[Service]]:
    async def start(**overrides: Any) -> Service:
        return await sending_service(start_service, smtp_sink, **overrides)

    return start


class TcpProxy:
    """A TCP proxy in front of a server, to take it away mid-conversation (a database outage)."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self.up = True
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while chunk := await reader.read(65536):
                writer.write(chunk)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.up:
            writer.close()
            return
        upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        self.writers |= {writer, upstream_writer}
        await asyncio.gather(self._pipe(reader, upstream_writer), self._pipe(upstream_reader, writer))

    def cut(self) -> None:
        """Drop every open connection and refuse new ones."""
        self.up = False
        for writer in self.writers:
            writer.close()
        self.writers.clear()

    def restore(self) -> None:
        self.up = True

    async def stop(self) -> None:
        self.cut()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


@pytest_asyncio.fixture
async def database_proxy(database_url: str) -> AsyncIterator[tuple[TcpProxy, str]]:
    """A proxy in front of the test database and the database URL that goes through it."""
    url = make_url(database_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    try:
        yield proxy, url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    finally:
        await proxy.stop()


DOVECOT_CONFIG = """
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 0
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid=dovecot gid=dovecot home={root}/home/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  inet_listener imap {{
    port = {imap_port}
  }}
  inet_listener imaps {{
    port = {imaps_port}
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""


@dataclass
class ImapServer:
    imap_port: int
    imaps_port: int
    username: str
    password: str
    ca_file: Path

    def client(self) -> imaplib.IMAP4:
        """A plain-text client for the test itself (blocking: call it in a thread)."""
        client = imaplib.IMAP4("127.0.0.1", self.imap_port, timeout=10)
        client.login(self.username, self.password)
        return client


@pytest.fixture
def imap_server(tls_certificate: tuple[Path, Path]) -> Iterator[ImapServer]:
    """A real Dovecot IMAP server (Debian's dovecot-imapd) with one user, STARTTLS and IMAPS."""
    binary = shutil.which("dovecot") or ("/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None)
    if binary is None:
        pytest.skip("needs Dovecot (apt-get install dovecot-imapd)")
    # Dovecot drops to its own users, which cannot enter pytest's private tmp_path.
    root = Path(tempfile.mkdtemp(prefix="omnicase-dovecot-"))
    cert, key = tls_certificate
    try:
        for folder in ("run", "state", "home"):
            (root / folder).mkdir()
        shutil.copy(cert, root / "cert.pem")
        shutil.copy(key, root / "key.pem")
        (root / "passwd").write_text("agent@acme.test:{PLAIN}imap-secret-1::::::\n")
        for path in [root, *root.rglob("*")]:
            path.chmod(0o777 if path.is_dir() else 0o644)
        imap_port, imaps_port = free_port(), free_port()
        config = root / "dovecot.conf"
        config.write_text(
            DOVECOT_CONFIG.format(
                root=root, cert=root / "cert.pem", key=root / "key.pem", imap_port=imap_port, imaps_port=imaps_port
            )
        )
        process = subprocess.Popen([binary, "-F", "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 15
            while True:
                try:
                    socket.create_connection(("127.0.0.1", imap_port), timeout=1).close()
                    break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
                        raise RuntimeError(f"dovecot did not start: {log[-2000:]}") from None
                    time.sleep(0.05)
            yield ImapServer(imap_port, imaps_port, "agent@acme.test", "imap-secret-1", cert)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stderr is not None:
                process.stderr.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)


RELAY_USER, RELAY_PASSWORD = "relay-user", "relay-password-1"


@pytest_asyncio.fixture
async def tls_smtp_sink(tls_certificate: tuple[Path, Path]) -> AsyncIterator[SmtpSink]:
    """Like ``smtp_sink`` but the way real relays are: STARTTLS required, then AUTH required."""
    cert, key = tls_certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    def authenticate(server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any) -> AuthResult:
        valid = isinstance(data, LoginPassword) and (data.login, data.password) == (
            RELAY_USER.encode(),
            RELAY_PASSWORD.encode(),
        )
        # handled=False: aiosmtpd answers 535 itself.
        return AuthResult(success=valid, handled=False)

    sink = SmtpSink()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(
            sink,
            hostname="sink.test",
            tls_context=context,
            require_starttls=True,
            authenticator=authenticate,
            auth_required=True,
            auth_require_tls=True,
            loop=loop,
        ),
        host="127.0.0.1",
        port=0,
    )
    sink.port = server.sockets[0].getsockname()[1]
    try:
        yield sink
    finally:
        server.close()
        await server.wait_closed()
