"""reporting: hourly rollups of the counted metrics, kept by statement triggers on the facts.

Revision ID: 0006
Revises: 0005

``rollups`` holds, per UTC hour and per grouping (``all`` and each dimension, with the group's
value), the counts a report of counts and rates reads: cases created (and of them swarmed, done),
solves and reopens, latest solves (and one-touch ones), surveys sent (and rated), ratings (and good
ones), swarms (their members and posters) and deflections (and visitors'); ``sla_rollups`` the SLA
clocks decided (and met) per policy metric. A statement trigger on each fact table adds what its
inserted rows count and takes away what its deleted rows counted (an update: both), from the
statement's transition tables, in the transaction of the change: so the rollups are exactly the
facts' sums whoever writes them (the consumer, its inbox deciding duplicates; the rebuild; the
dimension updates; the business-hours worker, whose updates count nothing and write nothing).
``reporting.recount_rollups()`` computes them again from the facts (the backfill here, and the
rebuild after it empties the facts with TRUNCATE, which fires no row-set trigger).

The SQL of the triggers is generated here from one description of what each fact counts, so the
insert, delete and update bodies and the recount cannot disagree.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

S = "reporting"

ROLLUP_COLUMNS = [
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
]

# What a fact row counts: (its instant, when it counts, {rollup column: the row's count}); a row
# counts in the hour of its instant, under its dimensions (never while its case is unknown).
KNOWN = "s.channel IS NOT NULL"
COUNTS: dict[str, tuple[str, list[tuple[str, str, dict[str, str]]]]] = {
    "cases": (
        "rollups",
        [
            (
                "s.created_at",
                "true",
                {
                    "created": "1",
                    "created_swarmed": "(s.swarmed_at IS NOT NULL)::int",
                    "created_swarmed_done": "(s.swarmed_at IS NOT NULL AND s.solved_at IS NOT NULL)::int",
                    "created_not_swarmed_done": "(s.swarmed_at IS NULL AND s.solved_at IS NOT NULL)::int",
                },
            ),
            (
                "s.solved_at",
                "s.solved_at IS NOT NULL",
                {"solves": "1", "one_touch": "(s.public_replies = 1 AND s.reopen_count = 0)::int"},
            ),
        ],
    ),
    "status_changes": (
        "rollups",
        [("s.at", KNOWN, {"solved": "(s.kind = 'solved')::int", "reopened": "(s.kind = 'reopened')::int"})],
    ),
    "surveys": (
        "rollups",
        [
            (
                "s.sent_at",
                f"{KNOWN} AND s.sent_at IS NOT NULL",
                {"surveys_sent": "1", "surveys_sent_rated": "(s.rating IS NOT NULL)::int"},
            ),
            (
                "s.rated_at",
                f"{KNOWN} AND s.rated_at IS NOT NULL AND s.rating IS NOT NULL",
                {"ratings": "1", "ratings_good": "(s.rating = 'good')::int"},
            ),
        ],
    ),
    "swarms": (
        "rollups",
        [("s.started_at", KNOWN, {"swarms": "1", "swarm_members": "s.members", "swarm_posters": "s.posters"})],
    ),
    "deflections": (
        "rollups",
        [("s.deflected_at", KNOWN, {"deflections": "1", "deflections_visitor": "(s.case_id IS NULL)::int"})],
    ),
    "sla_clocks": (
        "sla_rollups",
        [("s.decided_at", f"{KNOWN} AND s.decided_at IS NOT NULL", {"decided": "1", "met": "(NOT s.breached)::int"})],
    ),
}
# Each fact counts once under every grouping: all of them (``all``, no value) and each dimension.
GROUPINGS = (
    "(VALUES ('all', CAST(NULL AS text)), ('channel', c.channel), ('brand', c.brand), "
    "('group', CAST(c.group_id AS text)), ('assignee', CAST(c.assignee_id AS text)), ('priority', c.priority))"
)


def _add(table: str, source: str) -> str:
    """The statement adding what the rows of ``source`` (a ``sign`` column and the fact's columns)
    count to the table's rollup; rows that add up to nothing are not written (an update changing
    nothing counted writes nothing). In key order, so concurrent writers lock rows in one order."""
    target, parts = COUNTS[table]
    columns = list(dict.fromkeys(column for _, _, counts in parts for column in counts))
    milestone = target == "sla_rollups"
    key = ["dimension", "hour", "value", *(["milestone"] if milestone else [])]
    selects = []
    for instant, where, counts in parts:
        values = ", ".join(f"s.sign * {counts[column]}" if column in counts else "0" for column in columns)
        selects.append(
            f"SELECT date_trunc('hour', {instant}, 'UTC') AS hour, s.channel, s.brand, s.group_id, s.assignee_id, "
            f"s.priority{', s.milestone' if milestone else ''}, {values} FROM {source} s WHERE {where}"
        )
    names = ", ".join(columns)
    sums = ", ".join(f"sum(c.{column})" for column in columns)
    nonzero = " OR ".join(f"sum(c.{column}) <> 0" for column in columns)
    return (
        f"INSERT INTO reporting.{target} AS r ({', '.join(key)}, {names}) "
        f"SELECT k.dimension, c.hour, k.value{', c.milestone' if milestone else ''}, {sums} "
        f"FROM ({' UNION ALL '.join(selects)}) AS c(hour, channel, brand, group_id, assignee_id, priority"
        f"{', milestone' if milestone else ''}, {names}) "
        f"CROSS JOIN LATERAL {GROUPINGS} AS k(dimension, value) "
        f"GROUP BY {', '.join(key)} HAVING {nonzero} ORDER BY {', '.join(key)} "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET "
        + ", ".join(f"{column} = r.{column} + excluded.{column}" for column in columns)
    )


def _trigger_function(table: str) -> str:
    inserted = "(SELECT 1 AS sign, * FROM new_rows)"
    deleted = "(SELECT -1 AS sign, * FROM old_rows)"
    both = "(SELECT 1 AS sign, * FROM new_rows UNION ALL SELECT -1 AS sign, * FROM old_rows)"
    return f"""
    CREATE FUNCTION reporting.rollup_{table}() RETURNS trigger LANGUAGE plpgsql AS $body$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            {_add(table, inserted)};
        ELSIF TG_OP = 'DELETE' THEN
            {_add(table, deleted)};
        ELSE
            {_add(table, both)};
        END IF;
        RETURN NULL;
    END
    $body$
    """


def _recount() -> str:
    body = ";\n".join(_add(table, f"(SELECT 1 AS sign, * FROM reporting.{table})") for table in COUNTS)
    return f"""
    CREATE FUNCTION reporting.recount_rollups() RETURNS void LANGUAGE plpgsql AS $body$
    BEGIN
        DELETE FROM reporting.rollups;
        DELETE FROM reporting.sla_rollups;
        {body};
    END
    $body$
    """


def upgrade() -> None:
    op.create_table(
        "rollups",
        sa.Column("dimension", sa.String(10), nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("value", sa.Text, nullable=True),
        *(sa.Column(column, sa.BigInteger, nullable=False, server_default=sa.text("0")) for column in ROLLUP_COLUMNS),
        sa.UniqueConstraint("dimension", "hour", "value", name="uq_rollups_key", postgresql_nulls_not_distinct=True),
        schema=S,
    )
    op.create_table(
        "sla_rollups",
        sa.Column("dimension", sa.String(10), nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("value", sa.Text, nullable=True),
        sa.Column("milestone", sa.String(30), nullable=False),
        sa.Column("decided", sa.BigInteger, nullable=False, server_default=sa.text("0")),
        sa.Column("met", sa.BigInteger, nullable=False, server_default=sa.text("0")),
        sa.UniqueConstraint(
            "dimension", "hour", "value", "milestone", name="uq_sla_rollups_key", postgresql_nulls_not_distinct=True
        ),
        schema=S,
    )
    for table in COUNTS:
        op.execute(_trigger_function(table))
        for event, transition in (
            ("INSERT", "NEW TABLE AS new_rows"),
            ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
            ("DELETE", "OLD TABLE AS old_rows"),
        ):
            op.execute(
                f"CREATE TRIGGER rollup_{event.lower()} AFTER {event} ON reporting.{table} "
                f"REFERENCING {transition} FOR EACH STATEMENT EXECUTE FUNCTION reporting.rollup_{table}()"
            )
    op.execute(_recount())
    op.execute("SELECT reporting.recount_rollups()")


def downgrade() -> None:
    for table in COUNTS:
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER rollup_{event} ON reporting.{table}")
        op.execute(f"DROP FUNCTION reporting.rollup_{table}()")
    op.execute("DROP FUNCTION reporting.recount_rollups()")
    op.drop_table("sla_rollups", schema=S)
    op.drop_table("rollups", schema=S)
