"""Replies requested on outbound.messages leave through a real SMTP relay (a sink started here)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from omnicase.devtools.testing.plugin import BrandDesk, eventually
from omnicase.devtools.testing.probes import read_topic
from omnicase.intake_email.outbound.repository import OutboundRepository
from omnicase.kit.events import BrandLook, Channel, NotificationRequested, OutboundMessageRequested, Party
from omnicase.kit.topics import Topic, physical

pytestmark = pytest.mark.asyncio


def reply_request(**fields: Any) -> OutboundMessageRequested:
    values: dict[str, Any] = {
        "outbound_id": uuid.uuid4(),
        "case_id": uuid.uuid4(),
        "channel": Channel.EMAIL,
        "to": [Party(email="ada@example.org", name="Ada Lovelace")],
        "subject": "Re: Printer on fire [#42]",
        "text": "We sent a technician.\n\nStay safe.\n\n[ref:oc-0123456789abcdef0123]",
        "in_reply_to": "original-1@example.org",
        "references": ["original-0@example.org", "original-1@example.org"],
        "headers": {"X-Omnicase-Ref": "[ref:oc-0123456789abcdef0123]", "Bcc": "spy@example.net"},
    }
    values.update(fields)
    return OutboundMessageRequested(**values)


async def publish(producer: Any, prefix: str, request: OutboundMessageRequested) -> None:
    envelope = request.envelope(source="case-core", subject=str(request.case_id))
    await producer.publish(physical(Topic.OUTBOUND_MESSAGES, prefix), envelope, key=str(request.case_id))


async def delivery_reports(service: Any, kafka_bootstrap: str, expect: int) -> list[dict[str, Any]]:
    records = await read_topic(
        kafka_bootstrap, physical(Topic.INTAKE_MESSAGES, service.settings.topic_prefix), expect=expect
    )
    envelopes = [json.loads(record.value) for record in records]
    return [envelope["data"] for envelope in envelopes if envelope["type"] == "intake.delivery_reported"]


async def test_reply_is_sent_threaded_with_signature_and_logo_and_its_message_id_published(
    start_sending_service: Any, smtp_sink: Any, producer: Any, kafka_bootstrap: str
) -> None:
    service = await start_sending_service()
    mailbox = await service.mailbox(
        display_name="Acme Help", signature="The Acme team", logo_url="https://acme.test/logo.png"
    )
    # The oldest mailbox sends for a case no mail came in for; make this one the default.
    service.settings.default_from_address = mailbox["address"]
    request = reply_request()
    await publish(producer, service.settings.topic_prefix, request)
    await eventually(lambda: _arrived(smtp_sink, 1), message="reply delivered to the relay")
    sent = smtp_sink.messages[0]
    mail = sent.message
    assert sent.rcpt_tos == ["ada@example.org"]
    assert sent.mail_from == mailbox["address"]
    assert mail["From"] == f"Acme Help <{mailbox['address']}>"
    assert mail["To"] == "Ada Lovelace <ada@example.org>"
    assert mail["Subject"] == "Re: Printer on fire [#42]"
    assert mail["Message-ID"] == f"<{request.outbound_id}@{service.settings.message_id_domain}>"
    assert mail["In-Reply-To"] == "<original-1@example.org>"
    assert mail["References"] == "<original-0@example.org> <original-1@example.org>"
    assert mail["Auto-Submitted"] is None  # an agent's reply, not automatic
    assert mail["X-Omnicase-Ref"] == "[ref:oc-0123456789abcdef0123]"
    assert mail["Bcc"] is None, "only X- headers are taken from the request"
    text = mail.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert "We sent a technician." in text
    assert "[ref:oc-0123456789abcdef0123]" in text
    assert text.endswith("\n-- \nThe Acme team\n")
    html = mail.get_body(("html",)).get_content()
    assert '<img src="https://acme.test/logo.png"' in html
    assert "<p>Stay safe.</p>" in html
    reports = await delivery_reports(service, kafka_bootstrap, expect=1)
    assert reports == [
        {
            "outbound_id": str(request.outbound_id),
            "case_id": str(request.case_id),
            "status": "sent",
            "provider_message_id": f"{request.outbound_id}@{service.settings.message_id_domain}",
            "error": None,
        }
    ]


async def _arrived(sink: Any, count: int) -> bool:
    return len(sink.messages) >= count


async def test_temporary_failures_retry_permanent_ones_are_reported_and_nothing_goes_to_null_or_own_addresses(
    start_sending_service: Any, smtp_sink: Any, producer: Any, kafka_bootstrap: str
) -> None:
    service = await start_sending_service()
    mailbox = await service.mailbox()
    prefix = service.settings.topic_prefix
    smtp_sink.refuse_for = {
        "busy@example.org": ["451 4.3.0 Try again later", "421 4.7.0 Busy"],
        "gone@example.org": ["550 5.1.1 No such user", "250 would have been accepted on a retry"],
    }
    deferred = reply_request(to=[Party(email="busy@example.org")])
    refused = reply_request(to=[Party(email="gone@example.org")])
    nowhere = reply_request(to=[Party(email="<>"), Party(email=""), Party(email=mailbox["address"].upper())])
    not_email = reply_request(channel=Channel.SMS, to=[Party(phone="+15550100")])
    for request in (deferred, refused, nowhere, not_email):
        await publish(producer, prefix, request)
    await publish(producer, prefix, deferred)  # redelivered: same outbound id, new event id
    reports = await delivery_reports(service, kafka_bootstrap, expect=3)
    outcomes = {report["outbound_id"]: report for report in reports}
    assert len(reports) == 3  # one report each; nothing for the SMS request
    assert outcomes[str(deferred.outbound_id)]["status"] == "sent"
    assert outcomes[str(refused.outbound_id)]["status"] == "failed"
    assert "550" in outcomes[str(refused.outbound_id)]["error"]
    assert outcomes[str(nowhere.outbound_id)]["status"] == "failed"
    assert "no deliverable email address" in outcomes[str(nowhere.outbound_id)]["error"]
    assert [message.rcpt_tos for message in smtp_sink.messages] == [["busy@example.org"]]  # sent once
    assert smtp_sink.refuse_for["busy@example.org"] == []  # after both deferrals
    assert smtp_sink.refuse_for["gone@example.org"] == ["250 would have been accepted on a retry"]  # never retried


# aiosmtpd (the test relay) still sets its own deprecated Session.login_data on AUTH.
@pytest.mark.filterwarnings("ignore:Session.login_data is deprecated:DeprecationWarning")
async def test_relay_with_starttls_and_auth_gets_the_mail_and_a_wrong_password_keeps_it_queued(
    start_service: Any, tls_smtp_sink: Any, tls_certificate: Any, producer: Any
) -> None:
    cert, _ = tls_certificate
    relay = {
        "send_mail": True,
        "consume_events": True,
        "relay_host": "localhost",
        "relay_port": tls_smtp_sink.port,
        "relay_starttls": True,
        "relay_ca_file": str(cert),
        "relay_username": "relay-user",
        "send_poll_interval_seconds": 0.1,
        "send_backoff_initial_seconds": 0.2,
        "send_backoff_max_seconds": 0.5,
    }
    wrong = await start_service(**relay, relay_password="not-the-password")
    await wrong.mailbox()
    refused = reply_request()
    await publish(producer, wrong.settings.topic_prefix, refused)

    async def attempted_and_deferred() -> bool:
        async with wrong.app.state.runtime.database.unit_of_work() as session:
            row = await OutboundRepository(session).get(refused.outbound_id)
        return row is not None and row.attempts >= 1 and row.status == "pending" and "535" in (row.last_error or "")

    # Bad credentials are the operator's to fix: kept and retried, not failed on the case.
    await eventually(attempted_and_deferred, message="authentication refused and the mail kept")
    await wrong.stop()
    assert tls_smtp_sink.messages == []

    # The queued mail needs no consumer any more; only the sender, with the right password.
    right = await start_service(**{**relay, "consume_events": False}, relay_password="relay-password-1")
    await eventually(lambda: _arrived(tls_smtp_sink, 1), message="sent after the password was fixed")
    assert (
        tls_smtp_sink.messages[0].message["Message-ID"] == f"<{refused.outbound_id}@{right.settings.message_id_domain}>"
    )


async def notification_reports(service: Any, kafka_bootstrap: str, expect: int) -> list[dict[str, Any]]:
    records = await read_topic(
        kafka_bootstrap, physical(Topic.INTAKE_MESSAGES, service.settings.topic_prefix), expect=expect
    )
    envelopes = [json.loads(record.value) for record in records]
    return [envelope["data"] for envelope in envelopes if envelope["type"] == "intake.notification_reported"]


async def test_a_staff_notification_is_sent_unthreaded_as_automatic_mail_and_reported_back(
    start_sending_service: Any, smtp_sink: Any, producer: Any, kafka_bootstrap: str
) -> None:
    service = await start_sending_service()
    mailbox = await service.mailbox(display_name="Acme Help", signature="The Acme team")
    service.settings.default_from_address = mailbox["address"]
    sent_ok = NotificationRequested(
        notification_id=uuid.uuid4(),
        reason="trigger:0192f0c4-3c1e-7d1a-9a51-5a4b7c3d2e21",
        # Our own address is never mailed (a loop); the agents are.
        to=[Party(email="ada@support.example", name="Ada"), Party(email=mailbox["address"])],
        subject="[#42] Printer on fire",
        text="Grace needs you on case 42.",
        html="<p>Grace needs you on case 42.</p>",
        case_id=uuid.uuid4(),
    )
    nowhere = NotificationRequested(
        notification_id=uuid.uuid4(),
        reason="webhook_disabled:0192f0c4-3c1e-7d1a-9a51-5a4b7c3d2e22",
        to=[Party(email=mailbox["address"])],
        subject="Webhook disabled",
        text="It kept failing.",
    )
    topic = physical(Topic.OUTBOUND_MESSAGES, service.settings.topic_prefix)
    for request in (sent_ok, nowhere):
        key = str(request.notification_id)
        await producer.publish(topic, request.envelope(source="case-core", subject=key), key=key)
    await eventually(lambda: _arrived(smtp_sink, 1), message="notification delivered to the relay")
    sent = smtp_sink.messages[0]
    mail = sent.message
    assert sent.rcpt_tos == ["ada@support.example"]
    assert mail["Subject"] == "[#42] Printer on fire"
    assert mail["Message-ID"] == f"<{sent_ok.notification_id}@{service.settings.message_id_domain}>"
    assert mail["In-Reply-To"] is None
    # An agent who answers writes to the case's mailbox (where replies on the case come from).
    assert mail["Reply-To"] == mailbox["address"]
    assert mail["Auto-Submitted"] == "auto-generated", "a notification answers no message"
    assert mail["X-Auto-Response-Suppress"] == "All"
    assert "Grace needs you on case 42." in mail.get_body(("plain",)).get_content()
    reports = await notification_reports(service, kafka_bootstrap, expect=2)
    assert sorted(reports, key=lambda report: report["status"]) == [
        {
            "notification_id": str(nowhere.notification_id),
            "status": "failed",
            "error": "no deliverable email address among the recipients",
        },
        {"notification_id": str(sent_ok.notification_id), "status": "sent", "error": None},
    ]
    # A notification is no reply on a case: nothing reports a delivery to its case. (Mail an earlier
    # test left queued in the shared schema may go out now: its reports name other cases.)
    reports = await delivery_reports(service, kafka_bootstrap, expect=0)
    assert [report for report in reports if report["case_id"] == str(sent_ok.case_id)] == []


async def test_a_reply_of_a_branded_case_wears_the_brands_signature_logo_colour_and_language(
    start_sending_service: Any, smtp_sink: Any, producer: Any
) -> None:
    service = await start_sending_service()
    mailbox = await service.mailbox(display_name="Acme China")
    service.settings.default_from_address = mailbox["address"]
    look = BrandLook(
        slug="acme-cn",
        name="Acme China",
        signature="Acme 客服团队",
        logo_url="https://acme.test/cn.png",
        primary_color="#c00000",
        locale="zh",
    )
    await publish(producer, service.settings.topic_prefix, reply_request(text="您好", brand=look))
    await eventually(lambda: _arrived(smtp_sink, 1), message="reply delivered to the relay")
    mail = smtp_sink.messages[0].message
    assert mail.get_body(("plain",)).get_content().replace("\r\n", "\n").endswith("\n-- \nAcme 客服团队\n")
    html = mail.get_body(("html",)).get_content()
    assert '<html lang="zh">' in html
    assert '<img src="https://acme.test/cn.png" alt="Acme China"' in html
    assert "border-top: 4px solid #c00000" in html

    # The mailbox's own signature comes first; a colour that is not one is left out.
    changed = await service.client.patch(f"/api/v1/mailboxes/{mailbox['id']}", json={"signature": "The desk"})
    assert changed.status_code == 200, changed.text
    odd = look.model_copy(update={"primary_color": "red; background: url(x)"})
    await publish(producer, service.settings.topic_prefix, reply_request(text="Again", brand=odd))
    await eventually(lambda: _arrived(smtp_sink, 2), message="second reply delivered")
    second = smtp_sink.messages[1].message
    assert second.get_body(("plain",)).get_content().replace("\r\n", "\n").endswith("\n-- \nThe desk\n")
    assert "border-top" not in second.get_body(("html",)).get_content()


async def test_a_reply_on_a_case_no_mail_opened_leaves_from_a_mailbox_of_the_case_s_brand(
    start_sending_service: Any, smtp_sink: Any, producer: Any, desk: BrandDesk
) -> None:
    """A chat's reply by email (issue 23): the brand's mailbox, not the desk's default, signs it."""
    service = await start_sending_service()
    default = await service.mailbox(display_name="Help desk")
    service.settings.default_from_address = default["address"]
    # A brand of this test's own: other tests' mailboxes (kept in the session's database) name "acme".
    slug = f"acme-{uuid.uuid4().hex[:8]}"
    desk.make(slug)
    branded = await service.mailbox(display_name="Acme Help", brand=slug)
    look = BrandLook(slug=slug, name="Acme")
    await publish(producer, service.settings.topic_prefix, reply_request(in_reply_to=None, references=[], brand=look))
    await eventually(lambda: _arrived(smtp_sink, 1), message="branded reply delivered")
    assert smtp_sink.messages[0].message["From"] == f"Acme Help <{branded['address']}>"
    # A brand with no mailbox of its own: the default, as before.
    other = look.model_copy(update={"slug": f"globex-{uuid.uuid4().hex[:8]}", "name": "Globex"})
    await publish(producer, service.settings.topic_prefix, reply_request(in_reply_to=None, references=[], brand=other))
    await eventually(lambda: _arrived(smtp_sink, 2), message="unbranded reply delivered")
    assert smtp_sink.messages[1].message["From"] == f"Help desk <{default['address']}>"
