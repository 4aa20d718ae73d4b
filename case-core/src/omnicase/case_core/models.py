"""Tables of the ``case_core`` schema (owned by case-core alone).

SQLAlchemy Core tables; every query lives in a domain's ``repository.py``. Each
index here serves a lookup on the hot path (threading, contact matching) or a
list filter of the API.
"""

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Sequence,
    SmallInteger,
    String,
    Table,
    Text,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR

from omnicase.kit.columns import TIMESTAMP, id_column, timestamps, version_column
from omnicase.kit.config_version import config_version_table
from omnicase.kit.db import service_metadata
from omnicase.kit.inbox import inbox_table
from omnicase.kit.outbox import outbox_table

SCHEMA = "case_core"
metadata = service_metadata(SCHEMA)
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
# Moves with every write to triggers, webhook subscriptions, auto-response templates and
# custom field definitions (kit.config_version triggers; migration 0005).
config_version = config_version_table(metadata)

organizations = Table(
    "organizations",
    metadata,
    id_column(),
    Column("name", String(200), nullable=False),
    Column("notes", Text, nullable=False, server_default=""),
    *timestamps(),
    Index("ix_organizations_lower_name", text("lower(name)")),
)

# One row per email domain; the primary key makes a domain belong to one organization.
organization_domains = Table(
    "organization_domains",
    metadata,
    Column("domain", String(253), primary_key=True),
    Column("organization_id", Uuid, ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False),
    Index("ix_organization_domains_organization_id", "organization_id"),
)

contacts = Table(
    "contacts",
    metadata,
    id_column(),
    Column("name", String(200)),
    Column("organization_id", Uuid, ForeignKey("organizations.id", ondelete="SET NULL")),
    Column("notes", Text, nullable=False, server_default=""),
    *timestamps(),
    # The language to write to the contact in (lower case: ko, pt-br); detected from its first
    # message when not given (migration 0013).
    Column("locale", String(20)),
    Index("ix_contacts_organization_id", "organization_id"),
    Index("ix_contacts_lower_name", text("lower(name)")),
)

# kind: email (lowercased), phone (E.164), handle ("<channel>:<handle>"). The primary
# key is the uniqueness rule: an address or number identifies one contact.
contact_identities = Table(
    "contact_identities",
    metadata,
    Column("kind", String(10), nullable=False),
    Column("value", String(320), nullable=False),
    Column("contact_id", Uuid, ForeignKey("contacts.id", ondelete="CASCADE"), nullable=False),
    PrimaryKeyConstraint("kind", "value"),
    Index("ix_contact_identities_contact_id", "contact_id"),
    CheckConstraint("kind IN ('email', 'phone', 'handle')", name="kind"),
)

# A brand the desk serves (brands/): channels name it by its slug, cases carry its id.
brands = Table(
    "brands",
    metadata,
    id_column(),
    Column("name", String(200), nullable=False),
    Column("slug", String(100), nullable=False),
    Column("default_locale", String(20), nullable=False),
    Column("supported_locales", ARRAY(String(20)), nullable=False),
    Column("logo_url", String(2000)),
    Column("colors", JSONB),  # {"primary": "#rrggbb", "accent": "#rrggbb"}
    Column("email_signature", Text, nullable=False, server_default=""),
    Column("time_zone", String(64), nullable=False),
    Column("business_hours_id", Uuid),  # sla-engine's schedule
    Column("sla_policy_id", Uuid),  # sla-engine's policy
    Column("csat", JSONB),  # overrides of the suite's CSAT settings: {enabled?, delay_seconds?, texts?}
    *timestamps(),
    Index("uq_brands_slug", "slug", unique=True),
)

# Named texts with a variant per locale, used as {{dc.<name>}} (dynamic_content/; migration 0014).
dynamic_content = Table(
    "dynamic_content",
    metadata,
    id_column(),
    Column("name", String(64), nullable=False),
    Column("text", Text, nullable=False),
    Column("variants", JSONB, nullable=False, server_default="{}"),  # locale -> text
    *timestamps(),
    Index("uq_dynamic_content_name", "name", unique=True),
)

case_number_seq = Sequence("case_number_seq", metadata=metadata, start=1)

cases = Table(
    "cases",
    metadata,
    id_column(),
    Column("number", BigInteger, case_number_seq, server_default=case_number_seq.next_value(), nullable=False),
    Column("ref_token", String(20), nullable=False),
    Column("subject", String(500), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("status", String(10), nullable=False),
    Column("priority", String(10), nullable=False),
    Column("type", String(10)),
    Column("channel", String(10), nullable=False),
    Column("requester_id", Uuid, ForeignKey("contacts.id")),
    Column("organization_id", Uuid, ForeignKey("organizations.id", ondelete="SET NULL")),
    Column("assignee_id", Uuid),
    Column("group_id", Uuid),
    Column("brand", String(100)),
    Column("tags", ARRAY(String(100)), nullable=False, server_default="{}"),
    Column("custom_fields", JSONB, nullable=False, server_default="{}"),
    Column("followers", ARRAY(Uuid), nullable=False, server_default="{}"),
    Column("language", String(20)),
    Column("conversation_id", String(300)),
    Column("follow_up_of", Uuid, ForeignKey("cases.id")),
    Column("problem_id", Uuid, ForeignKey("cases.id")),
    Column("merged_into", Uuid, ForeignKey("cases.id")),
    Column("version", Integer, nullable=False, server_default="1"),
    *timestamps(),
    Column("first_public_reply_at", TIMESTAMP),
    Column("solved_at", TIMESTAMP),
    Column("closed_at", TIMESTAMP),
    # The requester's latest satisfaction rating (csat/): {rating, reason, comment, rated_at, survey_id}.
    Column("satisfaction", JSONB),
    # The brand of ``brand`` (its slug) when one is defined (brands/; migration 0012).
    Column("brand_id", Uuid, ForeignKey("brands.id")),
    # Maintained by the repository: subject, description and every message's text.
    Column("search", TSVECTOR, nullable=False, server_default=text("''::tsvector")),
    Index("uq_cases_number", "number", unique=True),
    Index("uq_cases_ref_token", "ref_token", unique=True),
    Index("ix_cases_created_at_id", "created_at", "id"),
    Index("ix_cases_updated_at_id", "updated_at", "id"),
    Index("ix_cases_status", "status"),
    Index("ix_cases_assignee_id", "assignee_id"),
    Index("ix_cases_group_id", "group_id"),
    Index("ix_cases_requester_id", "requester_id"),
    Index("ix_cases_organization_id", "organization_id"),
    Index("ix_cases_brand", "brand"),
    Index("ix_cases_brand_id", "brand_id"),
    Index("ix_cases_solved_at", "solved_at"),
    Index("ix_cases_follow_up_of", "follow_up_of"),
    Index("ix_cases_problem_id", "problem_id"),
    Index("ix_cases_tags", "tags", postgresql_using="gin"),
    Index("ix_cases_search", "search", postgresql_using="gin"),
    CheckConstraint("status IN ('new', 'open', 'pending', 'on_hold', 'solved', 'closed')", name="status"),
    CheckConstraint("priority IN ('low', 'normal', 'high', 'urgent')", name="priority"),
    CheckConstraint("version >= 1", name="version"),
)

messages = Table(
    "messages",
    metadata,
    id_column(),
    Column("case_id", Uuid, ForeignKey("cases.id"), nullable=False),
    Column("direction", String(10), nullable=False),
    Column("public", Boolean, nullable=False),
    Column("author", String(100), nullable=False),
    Column("author_role", String(10), nullable=False),
    Column("channel", String(10), nullable=False),
    Column("text", Text, nullable=False, server_default=""),
    Column("html", Text),
    Column("email_message_id", String(998)),
    Column("in_reply_to", ARRAY(Text), nullable=False, server_default="{}"),
    Column("references", ARRAY(Text), nullable=False, server_default="{}"),
    Column("conversation_id", String(300)),
    Column("source_intake_id", Uuid),
    Column("created_at", TIMESTAMP, nullable=False),
    Index("ix_messages_case_id_created_at_id", "case_id", "created_at", "id"),
    Index("uq_messages_source_intake_id", "source_intake_id", unique=True),
    Index("ix_messages_email_message_id", "email_message_id"),
    CheckConstraint("direction IN ('inbound', 'outbound')", name="direction"),
)

# Every email Message-ID a case sent or received and every conversation id it owns;
# threading looks inbound messages up here. A key may point at several cases (a
# follow-up shares its closed predecessor's thread); the newest open one wins.
thread_keys = Table(
    "thread_keys",
    metadata,
    Column("kind", String(15), nullable=False),
    Column("value", String(998), nullable=False),
    Column("case_id", Uuid, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    PrimaryKeyConstraint("kind", "value", "case_id"),
    Index("ix_thread_keys_case_id", "case_id"),
)

message_attachments = Table(
    "message_attachments",
    metadata,
    Column("message_id", Uuid, ForeignKey("messages.id", ondelete="CASCADE"), nullable=False),
    Column("position", SmallInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("filename", String(255), nullable=False),
    Column("content_type", String(255), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("content_id", String(255)),
    Column("inline", Boolean, nullable=False, server_default="false"),
    PrimaryKeyConstraint("message_id", "position"),
    Index("ix_message_attachments_sha256", "sha256"),
)

case_history = Table(
    "case_history",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("case_id", Uuid, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    version_column(),
    Column("actor", String(100), nullable=False),
    Column("via", String(20), nullable=False),
    Column("field", String(100), nullable=False),
    Column("old", JSONB),
    Column("new", JSONB),
    Column("at", TIMESTAMP, nullable=False),
    Index("ix_case_history_case_id_id", "case_id", "id"),
)

custom_field_definitions = Table(
    "custom_field_definitions",
    metadata,
    id_column(),
    Column("key", String(64), nullable=False),
    Column("label", String(200), nullable=False),
    Column("type", String(10), nullable=False),
    Column("options", ARRAY(String(200)), nullable=False, server_default="{}"),
    Column("pattern", String(500)),
    Column("required_on_solve", Boolean, nullable=False, server_default="false"),
    Column("active", Boolean, nullable=False, server_default="true"),
    *timestamps(),
    Index("uq_custom_field_definitions_key", "key", unique=True),
    CheckConstraint(
        "type IN ('text', 'number', 'decimal', 'date', 'dropdown', 'checkbox', 'regex')",
        name="type",
    ),
)

DOMAIN_TABLES = [
    brands,
    dynamic_content,
    organizations,
    organization_domains,
    contacts,
    contact_identities,
    cases,
    messages,
    thread_keys,
    message_attachments,
    case_history,
    custom_field_definitions,
]
