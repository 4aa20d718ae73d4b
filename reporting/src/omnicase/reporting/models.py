"""Tables of the ``reporting`` schema (owned by reporting alone): the read model of the metrics.

Everything here is derived from the suite's topics (``case.events``, ``sla.events``, ``swarm.events``,
``knowledge.events``) and can be computed again from the owners' data (``omnicase reporting
rebuild``). Times are UTC instants.
"""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Double,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import TSTZRANGE

from omnicase.kit.db import service_metadata
from omnicase.kit.inbox import inbox_table
from omnicase.kit.outbox import outbox_table

metadata = service_metadata("reporting")

DIMENSIONS = ("channel", "brand", "group_id", "assignee_id", "priority")


def dimension_columns() -> list[Column]:  # type: ignore[type-arg]
    """A fact's copy of its case's dimensions (null until the case is known), kept by the consumer
    when they change, so a metric reads its facts without joining ``cases``."""
    return [
        Column("channel", String(20), nullable=True),
        Column("brand", String(100), nullable=True),
        Column("group_id", Uuid, nullable=True),
        Column("assignee_id", Uuid, nullable=True),
        Column("priority", String(20), nullable=True),
    ]


# reporting publishes nothing; the outbox exists because every schema has the kit's tables.
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)

# One row per case: its dimensions as of its latest snapshot and every time the metrics read.
cases = Table(
    "cases",
    metadata,
    Column("case_id", Uuid, primary_key=True),
    Column("number", Integer, nullable=False),
    Column("version", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("brand", String(100), nullable=True),
    Column("group_id", Uuid, nullable=True),
    Column("assignee_id", Uuid, nullable=True),
    Column("priority", String(20), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # The first public reply by an agent.
    Column("first_reply_at", DateTime(timezone=True), nullable=True),
    # The latest solve while the case is solved (or closed); null while it is open.
    Column("solved_at", DateTime(timezone=True), nullable=True),
    Column("reopen_count", Integer, nullable=False, server_default=text("0")),
    Column("last_reopened_at", DateTime(timezone=True), nullable=True),
    # Public replies by agents, all told (one-touch: exactly one, and never reopened).
    Column("public_replies", Integer, nullable=False, server_default=text("0")),
    Column("first_reply_seconds", Double, nullable=True),
    Column("resolution_seconds", Double, nullable=True),
    # The business-hours schedule of the case's SLA policy (sla.events), and the same two
    # durations counted in its working time; filled off the consumer's transaction by the
    # business-hours worker, which asks sla-engine for the schedule (``business_stale``).
    Column("schedule_id", Uuid, nullable=True),
    Column("first_reply_business_seconds", Double, nullable=True),
    Column("resolution_business_seconds", Double, nullable=True),
    Column("business_stale", Boolean, nullable=False, server_default=text("false")),
    # The requester's satisfaction rating of the latest surveyed solve.
    Column("rating", String(10), nullable=True),
    Column("rating_reason", String(200), nullable=True),
    Column("rated_at", DateTime(timezone=True), nullable=True),
    # The start of the case's first swarm (collaboration's swarm.events); null: never swarmed.
    Column("swarmed_at", DateTime(timezone=True), nullable=True),
    # Covering indexes: a metric of a period is an index-only scan of it.
    Index("ix_cases_created_at", "created_at", postgresql_include=[*DIMENSIONS, "solved_at", "swarmed_at"]),
    Index(
        "ix_cases_solved_at",
        "solved_at",
        postgresql_where=text("solved_at IS NOT NULL"),
        postgresql_include=[
            *DIMENSIONS,
            "resolution_seconds",
            "resolution_business_seconds",
            "public_replies",
            "reopen_count",
            "swarmed_at",
        ],
    ),
    Index(
        "ix_cases_first_reply_at",
        "first_reply_at",
        postgresql_where=text("first_reply_at IS NOT NULL"),
        postgresql_include=[*DIMENSIONS, "first_reply_seconds", "first_reply_business_seconds"],
    ),
    Index("ix_cases_business_stale", "case_id", postgresql_where=text("business_stale")),
)

# Every solve and reopen, when it happened: counted per interval.
status_changes = Table(
    "status_changes",
    metadata,
    Column("case_id", Uuid, nullable=False),
    Column("version", Integer, nullable=False),
    Column("kind", String(10), nullable=False),  # solved | reopened
    Column("at", DateTime(timezone=True), nullable=False),
    *dimension_columns(),
    PrimaryKeyConstraint("case_id", "version", name="pk_status_changes"),
    Index("ix_status_changes_at", "at", "kind", postgresql_include=[*DIMENSIONS]),
)

# Each stretch of time a case was open (created or reopened until solved; open-ended while open):
# the backlog at an instant is the spans containing it, found by the GiST index without reading
# the cases that were done by then.
open_spans = Table(
    "open_spans",
    metadata,
    Column("case_id", Uuid, nullable=False),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("span", TSTZRANGE, nullable=False),
    *dimension_columns(),
    PrimaryKeyConstraint("case_id", "opened_at", name="pk_open_spans"),
    Index("ix_open_spans_span", "span", postgresql_using="gist", postgresql_include=[*DIMENSIONS]),
)

# The SLA clocks of each case as sla-engine last told them (the whole set per event).
sla_clocks = Table(
    "sla_clocks",
    metadata,
    Column("case_id", Uuid, nullable=False),
    Column("milestone", String(30), nullable=False),
    Column("cycle", Integer, nullable=False),
    Column("policy_id", Uuid, nullable=True),
    Column("state", String(10), nullable=False),
    Column("breached", Boolean, nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=True),
    Column("achieved_at", DateTime(timezone=True), nullable=True),
    # When the outcome was known: achieved, or breached while still running; null while undecided.
    Column("decided_at", DateTime(timezone=True), nullable=True),
    *dimension_columns(),
    PrimaryKeyConstraint("case_id", "milestone", "cycle", name="pk_sla_clocks"),
    Index(
        "ix_sla_clocks_decided_at",
        "decided_at",
        postgresql_where=text("decided_at IS NOT NULL"),
        postgresql_include=["milestone", "breached", *DIMENSIONS],
    ),
)

# The policy and schedule sla-engine last named for a case, kept even when sla.events is read
# before the case's case.created (two topics): a case row made later takes its schedule here.
case_policies = Table(
    "case_policies",
    metadata,
    Column("case_id", Uuid, primary_key=True),
    Column("policy_id", Uuid, nullable=True),
    Column("schedule_id", Uuid, nullable=True),
)

# Satisfaction surveys sent, and their current rating (response rate and % good).
surveys = Table(
    "surveys",
    metadata,
    Column("survey_id", Uuid, primary_key=True),
    Column("case_id", Uuid, nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=True),
    Column("rating", String(10), nullable=True),
    Column("rated_at", DateTime(timezone=True), nullable=True),
    *dimension_columns(),
    Index("ix_surveys_case_id", "case_id"),
    Index("ix_surveys_sent_at", "sent_at", postgresql_include=["rating", *DIMENSIONS]),
    Index("ix_surveys_rated_at", "rated_at", postgresql_include=["rating", *DIMENSIONS]),
)

# Swarms around cases (collaboration's swarm.events): when each started and ended, how many
# members joined and how many of them posted in its thread.
swarms = Table(
    "swarms",
    metadata,
    Column("swarm_id", Uuid, primary_key=True),
    Column("case_id", Uuid, nullable=False),
    Column("status", String(10), nullable=False),  # open | resolved | abandoned
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True), nullable=True),
    Column("members", Integer, nullable=False, server_default=text("0")),
    Column("posters", Integer, nullable=False, server_default=text("0")),
    Column("messages", Integer, nullable=False, server_default=text("0")),
    *dimension_columns(),
    Index("ix_swarms_case_id", "case_id"),
    Index("ix_swarms_started_at", "started_at", postgresql_include=["members", "posters", *DIMENSIONS]),
)

# Who joined each swarm, and whether they posted in it (the participation).
swarm_members = Table(
    "swarm_members",
    metadata,
    Column("swarm_id", Uuid, nullable=False),
    Column("member", String(120), nullable=False),
    Column("posted", Boolean, nullable=False, server_default=text("false")),
    PrimaryKeyConstraint("swarm_id", "member", name="pk_swarm_members"),
)

# Questions a knowledge article answered (knowledge's ``article.answered``, solved): one per
# suggestion answered "Yes", carrying its case's dimensions (kept like every fact's). case_id may
# be null for a question answered before any case existed (no source sends one yet).
deflections = Table(
    "deflections",
    metadata,
    Column("suggestion_id", Uuid, primary_key=True),
    Column("article_id", Uuid, nullable=False),
    Column("case_id", Uuid, nullable=True),
    Column("locale", String(35), nullable=False),
    Column("deflected_at", DateTime(timezone=True), nullable=False),
    *dimension_columns(),
    Index("ix_deflections_case_id", "case_id"),
    Index("ix_deflections_deflected_at", "deflected_at", postgresql_include=["case_id", *DIMENSIONS]),
)

# Hourly rollups of what the counted metrics count (migration 0006, which describes them): per UTC
# hour and grouping (``dimension``: ``all``, with no value, or a dimension, with the group's value),
# kept by statement triggers on the fact tables in the transaction of each change, so a report of
# whole UTC hours reads a few rows per hour and group instead of every fact.
ROLLUP_COLUMNS = (
    "created",
    "created_swarmed",
    "created_swarmed_done",
    "created_not_swarmed_done",
    "solved",
    "reopened",
    "solves",
    "one_touch",
    "surveys_sent",
    "surveys_sent_rated",
    "ratings",
    "ratings_good",
    "swarms",
    "swarm_members",
    "swarm_posters",
    "deflections",
    "deflections_visitor",
)


def _count(name: str) -> Column:  # type: ignore[type-arg]
    return Column(name, BigInteger, nullable=False, server_default=text("0"))


rollups = Table(
    "rollups",
    metadata,
    Column("dimension", String(10), nullable=False),
    Column("hour", DateTime(timezone=True), nullable=False),
    Column("value", Text, nullable=True),
    *(_count(name) for name in ROLLUP_COLUMNS),
    UniqueConstraint("dimension", "hour", "value", name="uq_rollups_key", postgresql_nulls_not_distinct=True),
)

# The SLA clocks decided, and met, per hour, grouping and SLA policy metric.
sla_rollups = Table(
    "sla_rollups",
    metadata,
    Column("dimension", String(10), nullable=False),
    Column("hour", DateTime(timezone=True), nullable=False),
    Column("value", Text, nullable=True),
    Column("milestone", String(30), nullable=False),
    _count("decided"),
    _count("met"),
    UniqueConstraint(
        "dimension", "hour", "value", "milestone", name="uq_sla_rollups_key", postgresql_nulls_not_distinct=True
    ),
)

# One row per phone call (intake-web's ``voice.events``, key: the call id): what the call metrics
# read. A call's events come in order (one partition per call), each filling the columns it knows
# (the first value kept: a redelivered event changes nothing). channel is always ``voice`` and
# assignee_id the agent who answered; a call carries no group or priority (its case's are not on
# its events), so a report filtered or grouped by them counts calls under none.
calls = Table(
    "calls",
    metadata,
    Column("call_id", Uuid, primary_key=True),
    Column("channel_id", Uuid, nullable=False),
    Column("direction", String(10), nullable=False),
    Column("case_id", Uuid, nullable=True),
    Column("started_at", DateTime(timezone=True), nullable=True),
    Column("answered_at", DateTime(timezone=True), nullable=True),
    Column("wait_seconds", Double, nullable=True),
    Column("ended_at", DateTime(timezone=True), nullable=True),
    Column("end_status", String(20), nullable=True),
    Column("voicemail_at", DateTime(timezone=True), nullable=True),
    Column("callback_at", DateTime(timezone=True), nullable=True),
    *dimension_columns(),
    Index(
        "ix_calls_started_at",
        "started_at",
        postgresql_include=[
            "direction",
            "answered_at",
            "wait_seconds",
            "ended_at",
            "voicemail_at",
            "callback_at",
            *DIMENSIONS,
        ],
    ),
)
