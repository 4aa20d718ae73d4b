"""case-core domain: organizations, contacts, cases, messages, threading keys, blobs, history, custom fields.

Revision ID: 0002
Revises: 0001

Frozen DDL (not generated from the live models at run time), so this revision
means the same thing forever.
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

UPGRADE = [
    "CREATE SEQUENCE case_core.case_number_seq START WITH 1",
    """
CREATE TABLE case_core.organizations (
    id UUID NOT NULL,
    name VARCHAR(200) NOT NULL,
    notes TEXT DEFAULT '' NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT pk_organizations PRIMARY KEY (id)
)
""",
    "CREATE INDEX ix_organizations_lower_name ON case_core.organizations (lower(name))",
    """
CREATE TABLE case_core.organization_domains (
    domain VARCHAR(253) NOT NULL,
    organization_id UUID NOT NULL,
    CONSTRAINT pk_organization_domains PRIMARY KEY (domain),
    CONSTRAINT fk_organization_domains_organization_id_organizations
        FOREIGN KEY(organization_id)
        REFERENCES case_core.organizations (id) ON DELETE CASCADE
)
""",
    "CREATE INDEX ix_organization_domains_organization_id ON case_core.organization_domains (organization_id)",
    """
CREATE TABLE case_core.contacts (
    id UUID NOT NULL,
    name VARCHAR(200),
    organization_id UUID,
    notes TEXT DEFAULT '' NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT pk_contacts PRIMARY KEY (id),
    CONSTRAINT fk_contacts_organization_id_organizations
        FOREIGN KEY(organization_id)
        REFERENCES case_core.organizations (id) ON DELETE SET NULL
)
""",
    "CREATE INDEX ix_contacts_lower_name ON case_core.contacts (lower(name))",
    "CREATE INDEX ix_contacts_organization_id ON case_core.contacts (organization_id)",
    """
CREATE TABLE case_core.contact_identities (
    kind VARCHAR(10) NOT NULL,
    value VARCHAR(320) NOT NULL,
    contact_id UUID NOT NULL,
    CONSTRAINT pk_contact_identities PRIMARY KEY (kind, value),
    CONSTRAINT ck_contact_identities_kind
        CHECK
        (kind IN ('email', 'phone', 'handle')),
    CONSTRAINT fk_contact_identities_contact_id_contacts
        FOREIGN KEY(contact_id)
        REFERENCES case_core.contacts (id) ON DELETE CASCADE
)
""",
    "CREATE INDEX ix_contact_identities_contact_id ON case_core.contact_identities (contact_id)",
    """
CREATE TABLE case_core.cases (
    id UUID NOT NULL,
    number BIGINT DEFAULT nextval('case_core.case_number_seq') NOT NULL,
    ref_token VARCHAR(20) NOT NULL,
    subject VARCHAR(500) NOT NULL,
    description TEXT DEFAULT '' NOT NULL,
    status VARCHAR(10) NOT NULL,
    priority VARCHAR(10) NOT NULL,
    type VARCHAR(10),
    channel VARCHAR(10) NOT NULL,
    requester_id UUID,
    organization_id UUID,
    assignee_id UUID,
    group_id UUID,
    brand VARCHAR(100),
    tags VARCHAR(100)[] DEFAULT '{}' NOT NULL,
    custom_fields JSONB DEFAULT '{}' NOT NULL,
    followers UUID[] DEFAULT '{}' NOT NULL,
    language VARCHAR(20),
    conversation_id VARCHAR(300),
    follow_up_of UUID,
    problem_id UUID,
    merged_into UUID,
    version INTEGER DEFAULT '1' NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
    first_public_reply_at TIMESTAMP WITH TIME ZONE,
    solved_at TIMESTAMP WITH TIME ZONE,
    closed_at TIMESTAMP WITH TIME ZONE,
    search TSVECTOR DEFAULT ''::tsvector NOT NULL,
    CONSTRAINT pk_cases PRIMARY KEY (id),
    CONSTRAINT ck_cases_status
        CHECK
        (status IN ('new', 'open', 'pending', 'on_hold', 'solved', 'closed')),
    CONSTRAINT ck_cases_priority
        CHECK
        (priority IN ('low', 'normal', 'high', 'urgent')),
    CONSTRAINT ck_cases_version
        CHECK
        (version >= 1),
    CONSTRAINT fk_cases_requester_id_contacts
        FOREIGN KEY(requester_id)
        REFERENCES case_core.contacts (id),
    CONSTRAINT fk_cases_organization_id_organizations
        FOREIGN KEY(organization_id)
        REFERENCES case_core.organizations (id) ON DELETE SET NULL,
    CONSTRAINT fk_cases_follow_up_of_cases
        FOREIGN KEY(follow_up_of)
        REFERENCES case_core.cases (id),
    CONSTRAINT fk_cases_problem_id_cases
        FOREIGN KEY(problem_id)
        REFERENCES case_core.cases (id),
    CONSTRAINT fk_cases_merged_into_cases
        FOREIGN KEY(merged_into)
        REFERENCES case_core.cases (id)
)
""",
    "CREATE INDEX ix_cases_assignee_id ON case_core.cases (assignee_id)",
    "CREATE INDEX ix_cases_brand ON case_core.cases (brand)",
    "CREATE INDEX ix_cases_created_at_id ON case_core.cases (created_at, id)",
    "CREATE INDEX ix_cases_follow_up_of ON case_core.cases (follow_up_of)",
    "CREATE INDEX ix_cases_group_id ON case_core.cases (group_id)",
    "CREATE INDEX ix_cases_organization_id ON case_core.cases (organization_id)",
    "CREATE INDEX ix_cases_problem_id ON case_core.cases (problem_id)",
    "CREATE INDEX ix_cases_requester_id ON case_core.cases (requester_id)",
    "CREATE INDEX ix_cases_search ON case_core.cases USING gin (search)",
    "CREATE INDEX ix_cases_solved_at ON case_core.cases (solved_at)",
    "CREATE INDEX ix_cases_status ON case_core.cases (status)",
    "CREATE INDEX ix_cases_tags ON case_core.cases USING gin (tags)",
    "CREATE INDEX ix_cases_updated_at_id ON case_core.cases (updated_at, id)",
    "CREATE UNIQUE INDEX uq_cases_number ON case_core.cases (number)",
    "CREATE UNIQUE INDEX uq_cases_ref_token ON case_core.cases (ref_token)",
    """
CREATE TABLE case_core.messages (
    id UUID NOT NULL,
    case_id UUID NOT NULL,
    direction VARCHAR(10) NOT NULL,
    public BOOLEAN NOT NULL,
    author VARCHAR(100) NOT NULL,
    author_role VARCHAR(10) NOT NULL,
    channel VARCHAR(10) NOT NULL,
    text TEXT DEFAULT '' NOT NULL,
    html TEXT,
    email_message_id VARCHAR(998),
    in_reply_to TEXT[] DEFAULT '{}' NOT NULL,
    "references" TEXT[] DEFAULT '{}' NOT NULL,
    conversation_id VARCHAR(300),
    source_intake_id UUID,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT pk_messages PRIMARY KEY (id),
    CONSTRAINT ck_messages_direction
        CHECK
        (direction IN ('inbound', 'outbound')),
    CONSTRAINT fk_messages_case_id_cases
        FOREIGN KEY(case_id)
        REFERENCES case_core.cases (id)
)
""",
    "CREATE INDEX ix_messages_case_id_created_at_id ON case_core.messages (case_id, created_at, id)",
    "CREATE INDEX ix_messages_email_message_id ON case_core.messages (email_message_id)",
    "CREATE UNIQUE INDEX uq_messages_source_intake_id ON case_core.messages (source_intake_id)",
    """
CREATE TABLE case_core.thread_keys (
    kind VARCHAR(15) NOT NULL,
    value VARCHAR(998) NOT NULL,
    case_id UUID NOT NULL,
    CONSTRAINT pk_thread_keys PRIMARY KEY (kind, value, case_id),
    CONSTRAINT fk_thread_keys_case_id_cases
        FOREIGN KEY(case_id)
        REFERENCES case_core.cases (id) ON DELETE CASCADE
)
""",
    "CREATE INDEX ix_thread_keys_case_id ON case_core.thread_keys (case_id)",
    """
CREATE TABLE case_core.blobs (
    sha256 VARCHAR(64) NOT NULL,
    size BIGINT NOT NULL,
    data BYTEA NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT pk_blobs PRIMARY KEY (sha256)
)
""",
    """
CREATE TABLE case_core.message_attachments (
    message_id UUID NOT NULL,
    position SMALLINT NOT NULL,
    sha256 VARCHAR(64) NOT NULL,
    filename VARCHAR(255) NOT NULL,
    content_type VARCHAR(255) NOT NULL,
    size BIGINT NOT NULL,
    content_id VARCHAR(255),
    inline BOOLEAN DEFAULT 'false' NOT NULL,
    CONSTRAINT pk_message_attachments PRIMARY KEY (message_id, position),
    CONSTRAINT fk_message_attachments_message_id_messages
        FOREIGN KEY(message_id)
        REFERENCES case_core.messages (id) ON DELETE CASCADE
)
""",
    "CREATE INDEX ix_message_attachments_sha256 ON case_core.message_attachments (sha256)",
    """
CREATE TABLE case_core.case_history (
    id BIGSERIAL NOT NULL,
    case_id UUID NOT NULL,
    version INTEGER NOT NULL,
    actor VARCHAR(100) NOT NULL,
    via VARCHAR(20) NOT NULL,
    field VARCHAR(100) NOT NULL,
    "old" JSONB,
    "new" JSONB,
    at TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT pk_case_history PRIMARY KEY (id),
    CONSTRAINT fk_case_history_case_id_cases
        FOREIGN KEY(case_id)
        REFERENCES case_core.cases (id) ON DELETE CASCADE
)
""",
    "CREATE INDEX ix_case_history_case_id_id ON case_core.case_history (case_id, id)",
    """
CREATE TABLE case_core.custom_field_definitions (
    id UUID NOT NULL,
    key VARCHAR(64) NOT NULL,
    label VARCHAR(200) NOT NULL,
    type VARCHAR(10) NOT NULL,
    options VARCHAR(200)[] DEFAULT '{}' NOT NULL,
    pattern VARCHAR(500),
    required_on_solve BOOLEAN DEFAULT 'false' NOT NULL,
    active BOOLEAN DEFAULT 'true' NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT pk_custom_field_definitions PRIMARY KEY (id),
    CONSTRAINT ck_custom_field_definitions_type
        CHECK
        (type IN ('text', 'number', 'decimal', 'date', 'dropdown', 'checkbox', 'regex'))
)
""",
    "CREATE UNIQUE INDEX uq_custom_field_definitions_key ON case_core.custom_field_definitions (key)",
]

DOWNGRADE = [
    "DROP TABLE case_core.custom_field_definitions",
    "DROP TABLE case_core.case_history",
    "DROP TABLE case_core.message_attachments",
    "DROP TABLE case_core.blobs",
    "DROP TABLE case_core.thread_keys",
    "DROP TABLE case_core.messages",
    "DROP TABLE case_core.cases",
    "DROP TABLE case_core.contact_identities",
    "DROP TABLE case_core.contacts",
    "DROP TABLE case_core.organization_domains",
    "DROP TABLE case_core.organizations",
    "DROP SEQUENCE case_core.case_number_seq",
]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)
