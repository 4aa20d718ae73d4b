"""case-core: CSAT surveys (one per solve of a case, its due time the timer) and requesters' opt-outs.

Revision ID: 0010
Revises: 0009

Frozen DDL (not generated from the live models at run time), so this revision
means the same thing forever.
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

UPGRADE = [
    """
CREATE TABLE case_core.csat_surveys (
    id UUID NOT NULL,
    case_id UUID NOT NULL,
    solved_at TIMESTAMP WITH TIME ZONE NOT NULL,
    due_at TIMESTAMP WITH TIME ZONE NOT NULL,
    status VARCHAR(10) NOT NULL,
    skip_reason VARCHAR(200),
    sent_at TIMESTAMP WITH TIME ZONE,
    rating VARCHAR(4),
    reason VARCHAR(100),
    comment TEXT,
    rated_at TIMESTAMP WITH TIME ZONE,
    used_links VARCHAR(4)[] DEFAULT '{}' NOT NULL,
    CONSTRAINT pk_csat_surveys PRIMARY KEY (id),
    CONSTRAINT uq_csat_surveys_case_id_solved_at UNIQUE (case_id, solved_at),
    CONSTRAINT ck_csat_surveys_status CHECK (status IN ('scheduled', 'sent', 'skipped')),
    CONSTRAINT ck_csat_surveys_rating CHECK (rating IN ('good', 'bad')),
    CONSTRAINT fk_csat_surveys_case_id_cases FOREIGN KEY(case_id) REFERENCES case_core.cases (id) ON DELETE CASCADE
)""",
    "CREATE INDEX ix_csat_surveys_due_at ON case_core.csat_surveys (due_at) WHERE status = 'scheduled'",
    """
CREATE TABLE case_core.csat_opt_outs (
    contact_id UUID NOT NULL,
    opted_out_by VARCHAR(200) NOT NULL,
    opted_out_at TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT pk_csat_opt_outs PRIMARY KEY (contact_id),
    CONSTRAINT fk_csat_opt_outs_contact_id_contacts FOREIGN KEY(contact_id)
        REFERENCES case_core.contacts (id) ON DELETE CASCADE
)""",
]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TABLE case_core.csat_opt_outs")
    op.execute("DROP TABLE case_core.csat_surveys")
