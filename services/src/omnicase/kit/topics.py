"""The suite's Kafka topics (ARCHITECTURE.md) and how a run names them.

Each topic is keyed so that per-key order is what consumers need: the thread key
for intake, the case id for everything about a case, the article id for knowledge, the case id for swarms,
the call id for voice.
"""

from __future__ import annotations

from enum import StrEnum


class Topic(StrEnum):
    INTAKE_MESSAGES = "intake.messages"
    CASE_EVENTS = "case.events"
    CASE_COMMANDS = "case.commands"
    SLA_EVENTS = "sla.events"
    ROUTING_EVENTS = "routing.events"
    OUTBOUND_MESSAGES = "outbound.messages"
    KNOWLEDGE_EVENTS = "knowledge.events"
    SWARM_EVENTS = "swarm.events"
    VOICE_EVENTS = "voice.events"


DLQ_SUFFIX = ".dlq"


def dlq(topic: str) -> str:
    """The dead-letter topic of ``topic``."""
    return topic + DLQ_SUFFIX


def physical(topic: str, prefix: str = "") -> str:
    """The broker-side name: tests and shared brokers put a run prefix in front."""
    return f"{prefix}{topic}"
