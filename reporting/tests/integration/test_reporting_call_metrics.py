"""The call metrics, exactly: a known day and a half of calls on ``voice.events``, published on the real
broker as intake-web publishes them (keyed by the call), every event twice.

Monday 2 March 2026 (UTC):
- 1 (inbound) 09:00, agent A answers after 30 s, 300 s of talk;
- 2 (inbound) 10:00, agent A answers after 90 s, 600 s of talk;
- 3 (inbound) 11:00, nobody free: a voicemail at 11:01 (a callback asked), ended 11:02;
- 4 (inbound) 12:00, the caller hangs up on hold after 40 s: abandoned;
- 5 (outbound, click-to-call) 13:00, the customer answers after 20 s, 120 s of talk (no offer);
- 8 (inbound) 14:00, the caller presses 1 on hold at 14:02 to be called back and the call ends: no
  abandon.
Tuesday 3 March:
- 6 (inbound) 09:00, agent B answers after 10 s, 60 s of talk, its case
  confirmed only from the answer on;
- 7 (inbound) 10:00, still ringing.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from omnicase.devtools.testing.apps import running
from omnicase.devtools.testing.plugin import eventually
from omnicase.kit.events import (
    CallAnswered,
    CallCallbackRequested,
    CallEnded,
    CallStarted,
    CallVoicemailRecorded,
    EventData,
)
from omnicase.reporting.app import create_app
from omnicase.reporting.settings import ReportingSettings
from omnicase.reporting.testing import REPORTS_SCOPES, Publisher

pytestmark = pytest.mark.asyncio

MON = datetime(2026, 3, 2, tzinfo=UTC)


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return MON + timedelta(days=day, hours=hour, minutes=minute, seconds=second)


class Call:
    def __init__(self, publish: Publisher, channel_id: uuid.UUID, brand: str, direction: str = "inbound") -> None:
        self.publish, self.channel_id, self.brand = publish, channel_id, brand
        self.call_id = uuid.uuid4()
        self.direction = direction
        self.case_id: uuid.UUID | None = None
        self.started_at = MON

    async def _send(self, event: EventData) -> None:
        await self.publish(event, self.call_id, source="intake-web")

    async def started(self, when: datetime) -> None:
        self.started_at = when
        await self._send(
            CallStarted(
                call_id=self.call_id, call_sid=f"CA{self.call_id.hex}", channel_id=self.channel_id,
                direction=self.direction, from_number="+14155550100", to_number="+14155550199",
                brand=self.brand, case_id=self.case_id, started_at=when,
            )
        )  # fmt: skip

    async def answered(self, wait: int, by: uuid.UUID | None) -> None:
        await self._send(
            CallAnswered(
                call_id=self.call_id, channel_id=self.channel_id, direction=self.direction,
                answered_by=by and f"user:{by}", case_id=self.case_id,
                answered_at=self.started_at + timedelta(seconds=wait), wait_seconds=wait,
            )
        )  # fmt: skip

    async def ended(self, when: datetime) -> None:
        await self._send(
            CallEnded(
                call_id=self.call_id, channel_id=self.channel_id, direction=self.direction,
                status="completed", duration_seconds=int((when - self.started_at).total_seconds()),
                case_id=self.case_id, started_at=self.started_at, ended_at=when,
            )
        )  # fmt: skip

    async def voicemail(self, when: datetime) -> None:
        await self._send(
            CallVoicemailRecorded(
                call_id=self.call_id, channel_id=self.channel_id, from_number="+14155550100",
                recording_url="https://api.twilio.example/recordings/RE1", duration_seconds=17,
                case_id=self.case_id, recorded_at=when,
            )
        )  # fmt: skip

    async def callback(self, when: datetime, via: str) -> None:
        await self._send(
            CallCallbackRequested(
                call_id=self.call_id, channel_id=self.channel_id, via=via,
                case_id=self.case_id, requested_at=when,
            )
        )  # fmt: skip


CALL_METRICS = [
    "calls_offered",
    "calls_answered",
    "calls_abandoned",
    "calls_voicemail",
    "call_wait_time_median",
    "call_wait_time_p90",
    "call_talk_time_median",
    "call_talk_time_p90",
    "calls_callback",
]


async def test_calls_give_their_metrics_exactly(settings: ReportingSettings, publish: Publisher, brand: str) -> None:
    channel_id = uuid.uuid4()
    agent_a, agent_b = uuid.uuid4(), uuid.uuid4()

    def call(direction: str = "inbound") -> Call:
        return Call(publish, channel_id, brand, direction)

    async with running(create_app(settings), scopes=REPORTS_SCOPES) as client:
        one = call()
        await one.started(at(0, 9))
        await one.answered(30, agent_a)
        await one.ended(at(0, 9, 5, 30))
        two = call()
        await two.started(at(0, 10))
        await two.answered(90, agent_a)
        await two.ended(at(0, 10, 11, 30))
        three = call()
        await three.started(at(0, 11))
        await three.voicemail(at(0, 11, 1))
        await three.callback(at(0, 11, 1), "voicemail")
        await three.ended(at(0, 11, 2))
        four = call()
        await four.started(at(0, 12))
        await four.ended(at(0, 12, 0, 40))
        five = call("outbound")
        await five.started(at(0, 13))
        await five.answered(20, None)
        await five.ended(at(0, 13, 2, 20))
        eight = call()
        await eight.started(at(0, 14))
        await eight.callback(at(0, 14, 2), "keypress")
        await eight.ended(at(0, 14, 2))
        six = call()
        await six.started(at(1, 9))
        six.case_id = uuid.uuid4()
        await six.answered(10, agent_b)
        await six.ended(at(1, 9, 1, 10))
        seven = call()
        await seven.started(at(1, 10))
        await publish.again()

        def query(group_by: str) -> dict[str, str]:
            return {
                "metrics": ",".join(CALL_METRICS),
                "group_by": group_by,
                "interval": "day",
                "since": "2026-03-02T00:00:00Z",
                "until": "2026-03-04T00:00:00Z",
                "tz": "UTC",
                "brand": brand,
            }

        by_channel = {
            ("calls_offered", "voice"): [5, 2],
            ("calls_answered", "voice"): [2, 1],
            ("calls_abandoned", "voice"): [1, 0],
            ("calls_voicemail", "voice"): [1, 0],
            # The voicemail and the 1 pressed on hold (which is no abandon).
            ("calls_callback", "voice"): [2, 0],
            # Waits of the inbound calls answered: 30 and 90 s; 10 s.
            ("call_wait_time_median", "voice"): [60, 10],
            ("call_wait_time_p90", "voice"): [84, 10],
            # Talk of every call answered and ended, the outbound one too: 120, 300, 600 s; 60 s.
            ("call_talk_time_median", "voice"): [300, 60],
            ("call_talk_time_p90", "voice"): [540, 60],
        }
        a, b = str(agent_a), str(agent_b)
        by_assignee = {
            ("calls_offered", a): [2, 0],
            ("calls_offered", b): [0, 1],
            ("calls_offered", None): [3, 1],
            ("calls_answered", a): [2, 0],
            ("calls_answered", b): [0, 1],
            ("calls_answered", None): [0, 0],
        }

        async def counted() -> bool:
            for group_by, expected in (("channel", by_channel), ("assignee", by_assignee)):
                params = query(group_by)
                if group_by == "assignee":
                    params["metrics"] = "calls_offered,calls_answered"
                answer = await client.get("/api/v1/reports/metrics", params=params)
                assert answer.status_code == 200, answer.text
                if {(s["metric"], s["group"]): s["values"] for s in answer.json()["series"]} != expected:
                    return False
            return True

        await eventually(counted, within=30, message="the call metrics")


async def test_an_unknown_call_metric_is_refused_naming_it(settings: ReportingSettings) -> None:
    async with running(create_app(settings), scopes=REPORTS_SCOPES) as client:
        answer = await client.get("/api/v1/reports/metrics", params={"metrics": "calls_offered,calls_missed"})
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert any(error["field"] == "query.metrics" for error in answer.json()["errors"])
