"""reporting: every fact carries its case's dimensions, read by covering indexes without a join.

The metrics of a month read tens of thousands of solves, spans, clocks and surveys; joined to
``cases`` for the case's channel (or brand, group …) that was a scan of every case (a million:
400 ms). Each fact row now holds the dimensions of its case (kept by the consumer when the case's
dimensions change), and each metric's index carries what its query reads (``INCLUDE``), so a report is
index-only scans of the period.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

S = "reporting"
FACTS = ("status_changes", "open_spans", "sla_clocks", "surveys")
DIMENSIONS = ("channel", "brand", "group_id", "assignee_id", "priority")


def _dimension_columns() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("channel", sa.String(20), nullable=True),
        sa.Column("brand", sa.String(100), nullable=True),
        sa.Column("group_id", sa.Uuid, nullable=True),
        sa.Column("assignee_id", sa.Uuid, nullable=True),
        sa.Column("priority", sa.String(20), nullable=True),
    ]


# (index, table, columns, included, partial): the covering indexes of the metrics.
INDEXES: list[tuple[str, str, list[str], list[str], str | None]] = [
    ("ix_cases_created_at", "cases", ["created_at"], [*DIMENSIONS], None),
    (
        "ix_cases_first_reply_at",
        "cases",
        ["first_reply_at"],
        [*DIMENSIONS, "first_reply_seconds", "first_reply_business_seconds"],
        "first_reply_at IS NOT NULL",
    ),
    (
        "ix_cases_solved_at",
        "cases",
        ["solved_at"],
        [*DIMENSIONS, "resolution_seconds", "resolution_business_seconds", "public_replies", "reopen_count"],
        "solved_at IS NOT NULL",
    ),
    ("ix_status_changes_at", "status_changes", ["at", "kind"], [*DIMENSIONS], None),
    (
        "ix_sla_clocks_decided_at",
        "sla_clocks",
        ["decided_at"],
        ["milestone", "breached", *DIMENSIONS],
        "decided_at IS NOT NULL",
    ),
    ("ix_surveys_sent_at", "surveys", ["sent_at"], ["rating", *DIMENSIONS], None),
    ("ix_surveys_rated_at", "surveys", ["rated_at"], ["rating", *DIMENSIONS], None),
]


def upgrade() -> None:
    for table in FACTS:
        for column in _dimension_columns():
            op.add_column(table, column, schema=S)
        op.execute(
            f"UPDATE {S}.{table} f SET channel = c.channel, brand = c.brand, group_id = c.group_id, "
            f"assignee_id = c.assignee_id, priority = c.priority FROM {S}.cases c WHERE c.case_id = f.case_id"
        )
    op.drop_index("ix_cases_channel_created_at", table_name="cases", schema=S)
    for name, table, columns, included, where in INDEXES:
        op.drop_index(name, table_name=table, schema=S)
        op.create_index(
            name,
            table,
            columns,
            schema=S,
            postgresql_include=included,
            postgresql_where=sa.text(where) if where else None,
        )
    op.drop_index("ix_open_spans_span", table_name="open_spans", schema=S)
    op.create_index(
        "ix_open_spans_span",
        "open_spans",
        ["span"],
        schema=S,
        postgresql_using="gist",
        postgresql_include=[*DIMENSIONS],
    )
    # A case's dimensions change on all its surveys at once.
    op.create_index("ix_surveys_case_id", "surveys", ["case_id"], schema=S)


def downgrade() -> None:
    op.drop_index("ix_surveys_case_id", table_name="surveys", schema=S)
    op.drop_index("ix_open_spans_span", table_name="open_spans", schema=S)
    op.create_index("ix_open_spans_span", "open_spans", ["span"], schema=S, postgresql_using="gist")
    for name, table, columns, _included, where in INDEXES:
        op.drop_index(name, table_name=table, schema=S)
        op.create_index(name, table, columns, schema=S, postgresql_where=sa.text(where) if where else None)
    op.create_index("ix_cases_channel_created_at", "cases", ["channel", "created_at"], schema=S)
    for table in FACTS:
        for column in DIMENSIONS:
            op.drop_column(table, column, schema=S)
