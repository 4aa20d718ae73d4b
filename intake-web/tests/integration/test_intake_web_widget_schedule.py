"""A chat widget whose hours are sla-engine's business hours (issue 23): checked on save, read when a visitor comes.

sla-engine is the real service, served on a port and read over HTTP as in production; "away" is
sla-engine being unreachable (nothing listens on its URL). The schedules are built around the
real present (open every day, or only three days from now; a holiday over today), so no test
clock has to hold the service's background loops.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from omnicase.devtools.testing.apps import running, served
from omnicase.devtools.testing.plugin import BrandDesk
from omnicase.devtools.testing.probes import read_topic
from omnicase.intake_web.app import create_app as create_intake_web
from omnicase.intake_web.settings import IntakeWebSettings
from omnicase.kit.clock import utcnow
from omnicase.kit.events import Envelope, MessageReceived
from omnicase.kit.topics import Topic, physical
from omnicase.ops.topics import ensure_suite_topics
from omnicase.sla_engine.app import create_app as create_sla_engine
from omnicase.sla_engine.settings import SlaEngineSettings

pytestmark = pytest.mark.asyncio

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
EVERY_DAY = [{"day": day, "start": "00:00", "end": "24:00"} for day in WEEKDAYS]
SCOPES = frozenset({"channels:read", "channels:write"})
TTL_SECONDS = 1.0


@asynccontextmanager
async def _hung() -> AsyncIterator[SimpleNamespace]:
    """A server that takes connections and never answers (a hung sla-engine), counting the connections."""
    seen = SimpleNamespace(url="", connections=0)
    held: list[asyncio.StreamWriter] = []

    async def take(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.connections += 1
        held.append(writer)

    server = await asyncio.start_server(take, "127.0.0.1", 0)
    seen.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    try:
        yield seen
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


@asynccontextmanager
async def _suite(
    database_url: str,
    kafka_bootstrap: str,
    desk: BrandDesk,
    sla_engine_url: str | None = None,
    prefix: str = "",
    timeout_seconds: float = 3.0,
) -> AsyncIterator[SimpleNamespace]:
    """sla-engine served on a port (unless ``sla_engine_url`` says where nothing listens) and intake-web
    reading it, its admin API and its public routes."""
    prefix = prefix or f"t{uuid.uuid4().hex[:10]}."
    await ensure_suite_topics(kafka_bootstrap, prefix=prefix, partitions=1)
    sla_settings = SlaEngineSettings(
        database_url=database_url, kafka_bootstrap_servers=kafka_bootstrap, topic_prefix=f"{prefix}sla."
    )
    async with served(create_sla_engine(sla_settings), scopes=frozenset({"sla:write"})) as sla:
        settings = IntakeWebSettings(
            database_url=database_url, kafka_bootstrap_servers=kafka_bootstrap, topic_prefix=prefix,
            sla_engine_url=sla_engine_url or str(sla.base_url), case_core_url=desk.url,
            schedule_ttl_seconds=TTL_SECONDS, routing_timeout_seconds=timeout_seconds,
        )  # fmt: skip
        app = create_intake_web(settings)
        async with (
            running(app, scopes=SCOPES) as client,
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://service") as public,
        ):
            yield SimpleNamespace(sla=sla, client=client, public=public, prefix=prefix)


async def _schedule(sla: httpx.AsyncClient, **body: Any) -> str:
    created = await sla.post("/api/v1/business-hours", json={"name": f"Chat {uuid.uuid4().hex[:6]}", **body})
    assert created.status_code == 201, created.text
    schedule_id: str = created.json()["id"]
    return schedule_id


def _widget(name: str = "Acme chat", **config: Any) -> dict[str, Any]:
    return {"name": name, "config": {"kind": "widget", "brand": "acme", **config}}


async def _created(client: httpx.AsyncClient, **config: Any) -> dict[str, Any]:
    created = await client.post("/api/v1/channels", json=_widget(**config))
    assert created.status_code == 201, created.text
    channel: dict[str, Any] = created.json()
    return channel


async def _channels(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    """Every channel the session's database holds (other tests' too), page after page."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        page = (
            await client.get("/api/v1/channels", params={"limit": 200, **({"cursor": cursor} if cursor else {})})
        ).json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


async def _away(public: httpx.AsyncClient, channel_id: str) -> bool:
    answer = await public.get(f"/public/messaging/{channel_id}/hours")
    assert answer.status_code == 200, answer.text
    away: bool = answer.json()["away"]
    return away


async def _write(public: httpx.AsyncClient, channel_id: str, text: str) -> None:
    started = await public.post(f"/public/messaging/{channel_id}/conversations")
    assert started.status_code == 201, started.text
    sent = await public.post(
        f"/public/messaging/{channel_id}/messages",
        json={"text": text, "client_id": uuid.uuid4().hex},
        headers={"X-Widget-Token": started.json()["token"]},
    )
    assert sent.status_code == 201, sent.text


async def _tags(kafka_bootstrap: str, prefix: str, texts: set[str]) -> dict[str, list[str]]:
    """The tags of the messages written with ``texts``. Only those: this intake-web's answers worker also
    hands over what other tests' widgets left held in the session's database, onto this test's topics."""

    def written(record: Any) -> bool:
        return MessageReceived.parse(Envelope.from_bytes(record.value)).text in texts

    topic = physical(Topic.INTAKE_MESSAGES, prefix)
    records = await read_topic(kafka_bootstrap, topic, expect=len(texts), within=20, keep=written)
    received = [MessageReceived.parse(Envelope.from_bytes(record.value)) for record in records]
    return {message.text: message.defaults.tags for message in received}


async def test_a_widget_naming_sla_engines_hours_is_away_outside_them_and_on_their_holidays(
    database_url: str, kafka_bootstrap: str, desk: BrandDesk
) -> None:
    today = utcnow().date()
    async with _suite(database_url, kafka_bootstrap, desk) as suite:
        always = await _schedule(suite.sla, time_zone="Asia/Seoul", intervals=EVERY_DAY)
        later = WEEKDAYS[(today.weekday() + 3) % 7]
        closed = await _schedule(
            suite.sla, time_zone="UTC", intervals=[{"day": later, "start": "00:00", "end": "24:00"}]
        )
        holiday = {"name": "Founders' day", "start_date": str(today - timedelta(days=1)),
                   "end_date": str(today + timedelta(days=1))}  # fmt: skip
        on_holiday = await _schedule(suite.sla, time_zone="UTC", intervals=EVERY_DAY, holidays=[holiday])

        open_chat = await _created(suite.client, business_hours_id=always)
        assert open_chat["settings"]["business_hours_id"] == always
        closed_chat = await _created(suite.client, business_hours_id=closed)
        holiday_chat = await _created(suite.client, business_hours_id=on_holiday)

        # The hours endpoint and the script say the same, the script cached a minute as a chat with hours is.
        assert await _away(suite.public, open_chat["id"]) is False
        assert await _away(suite.public, closed_chat["id"]) is True
        assert await _away(suite.public, holiday_chat["id"]) is True
        script = await suite.public.get(f"/public/messaging/{closed_chat['id']}/widget.js")
        assert '"away": true' in script.text
        assert '"hours": true' in script.text
        assert script.headers["cache-control"] == "public, max-age=60"
        assert '"away": false' in (await suite.public.get(f"/public/messaging/{open_chat['id']}/widget.js")).text

        # A message written outside the hours (or on a holiday) is kept and tagged for later; in them, not.
        await _write(suite.public, open_chat["id"], "Hello while open")
        await _write(suite.public, closed_chat["id"], "Hello while closed")
        await _write(suite.public, holiday_chat["id"], "Hello on the holiday")
        texts = {"Hello while open", "Hello while closed", "Hello on the holiday"}
        tags = await _tags(kafka_bootstrap, suite.prefix, texts)
        assert tags == {
            "Hello while open": [],
            "Hello while closed": ["after-hours"],
            "Hello on the holiday": ["after-hours"],
        }

        # A holiday sla-engine is told of later is the widget's too, once the schedule's read again (its TTL).
        added = await suite.sla.post(f"/api/v1/business-hours/{always}/holidays", json=holiday)
        assert added.status_code == 201, added.text
        await asyncio.sleep(TTL_SECONDS + 0.2)
        assert await _away(suite.public, open_chat["id"]) is True

        # A widget moved from its own hours to sla-engine's (a replace) reads sla-engine's from then on.
        own = await _created(suite.client, business_hours={"time_zone": "UTC", "intervals": EVERY_DAY})
        assert await _away(suite.public, own["id"]) is False
        moved = await suite.client.put(f"/api/v1/channels/{own['id']}", json=_widget(business_hours_id=closed))
        assert moved.status_code == 200, moved.text
        assert moved.json()["settings"]["business_hours"] is None
        assert await _away(suite.public, own["id"]) is True

    # sla-engine hung (it takes the connection and never answers): the same widgets (stored) count as away, so
    # the visitor is asked for their email, and a message written then is kept and tagged like any after-hours
    # one; nothing is refused. The failed read is remembered (the kit's ScheduleSource, a few seconds): one
    # timeout, not one per page asking or message written.
    async with (
        _hung() as hung,
        _suite(database_url, kafka_bootstrap, desk, sla_engine_url=hung.url, timeout_seconds=0.5) as down,
    ):
        assert await _away(down.public, open_chat["id"]) is True
        assert '"away": true' in (await down.public.get(f"/public/messaging/{open_chat['id']}/widget.js")).text
        for _ in range(10):
            assert await _away(down.public, open_chat["id"]) is True
        await _write(down.public, open_chat["id"], "Hello while sla-engine is down")
        assert hung.connections == 1
        assert await _tags(kafka_bootstrap, down.prefix, {"Hello while sla-engine is down"}) == {
            "Hello while sla-engine is down": ["after-hours"]
        }
        # A widget with its own hours does not depend on sla-engine.
        assert await _away(down.public, own["id"]) is True
        other = await _created(down.client, business_hours={"time_zone": "UTC", "intervals": EVERY_DAY})
        assert await _away(down.public, other["id"]) is False


async def test_a_widget_names_one_schedule_sla_engine_has_or_is_refused_and_nothing_is_saved(
    database_url: str, kafka_bootstrap: str, desk: BrandDesk
) -> None:
    async with _suite(database_url, kafka_bootstrap, desk) as suite:
        schedule = await _schedule(suite.sla, time_zone="UTC", intervals=EVERY_DAY)
        channel = await _created(suite.client, business_hours_id=schedule)
        before = await _channels(suite.client)

        # Both hours at once: a 422 naming the field.
        both = _widget(business_hours={"time_zone": "UTC", "intervals": EVERY_DAY}, business_hours_id=schedule)
        # Not an id: a 422 naming it.
        not_an_id = _widget(business_hours_id="office")
        for body in (both, not_an_id):
            for refused in (
                await suite.client.post("/api/v1/channels", json=body),
                await suite.client.put(f"/api/v1/channels/{channel['id']}", json=body),
            ):
                assert refused.status_code == 422, refused.text
                fields = [error["field"] for error in refused.json()["errors"]]
                assert any(field.endswith("business_hours_id") for field in fields), fields

        # A schedule sla-engine does not have: the kit's 404 unknown-reference naming the field.
        unknown = _widget(name="Renamed", business_hours_id=str(uuid.uuid4()))
        for refused in (
            await suite.client.post("/api/v1/channels", json=unknown),
            await suite.client.put(f"/api/v1/channels/{channel['id']}", json=unknown),
        ):
            assert refused.status_code == 404, refused.text
            assert refused.json()["type"].endswith("/unknown-reference")
            assert [error["field"] for error in refused.json()["errors"]] == ["body.config.business_hours_id"]

        # Nothing changed: no new channel, and the widget keeps its name and schedule.
        assert await _channels(suite.client) == before
        kept = (await suite.client.get(f"/api/v1/channels/{channel['id']}")).json()
        assert (kept["name"], kept["settings"]["business_hours_id"]) == ("Acme chat", schedule)

    # sla-engine unreachable: a widget naming a schedule cannot be checked, so it is a 503 and nothing is saved;
    # one without (or with its own hours) is saved as ever.
    async with _suite(database_url, kafka_bootstrap, desk, sla_engine_url="http://127.0.0.1:9") as down:
        before = await _channels(down.client)
        for refused in (
            await down.client.post("/api/v1/channels", json=_widget(business_hours_id=schedule)),
            await down.client.put(
                f"/api/v1/channels/{channel['id']}", json=_widget("Renamed", business_hours_id=schedule)
            ),
        ):
            assert refused.status_code == 503, refused.text
            assert "sla-engine" in refused.json()["detail"]
        assert await _channels(down.client) == before
        assert (await down.client.post("/api/v1/channels", json=_widget())).status_code == 201
