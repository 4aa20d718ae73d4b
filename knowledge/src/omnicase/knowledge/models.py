"""Tables of the ``knowledge`` schema (owned by knowledge alone)."""

from sqlalchemy import (
    CheckConstraint,
    Column,
    ColumnElement,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    cast,
    literal,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, TSVECTOR
from sqlalchemy.dialects.postgresql.base import ischema_names
from sqlalchemy.types import UserDefinedType

from omnicase.kit.config_version import config_version_table
from omnicase.kit.db import service_metadata
from omnicase.kit.inbox import inbox_table
from omnicase.kit.outbox import outbox_table
from omnicase.knowledge.search.embeddings import DIMENSIONS, vector_literal


class Vector(UserDefinedType[str]):
    """pgvector's ``vector(n)``; written from its text form (embeddings.vector_literal), never read back."""

    cache_ok = True

    def __init__(self, dimensions: int) -> None:
        self.dimensions = dimensions

    def get_col_spec(self, **kw: object) -> str:
        return f"vector({self.dimensions})"


# Reflection (migrations against models) reads the column back as this type.
ischema_names["vector"] = Vector


def vector_value(vector: tuple[float, ...]) -> ColumnElement[str]:
    """``vector`` as a ``vector`` value in a statement (sent as text, read by pgvector's input)."""
    return cast(literal(vector_literal(vector)), Vector(DIMENSIONS))


metadata = service_metadata("knowledge")
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)

# Sections (categories) of one brand's knowledge base, in their brand's order. A null brand is
# the suite's default brand, as on cases.
sections = Table(
    "sections",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("brand", String(100), nullable=True),
    Column("name", String(200), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("position", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_sections_brand_position", "brand", "position", "id"),
)

# An article is one piece of knowledge; its text lives in one translation per locale.
articles = Table(
    "articles",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("brand", String(100), nullable=True),
    Column("section_id", Uuid, ForeignKey("knowledge.sections.id", ondelete="SET NULL"), nullable=True),
    Column("labels", ARRAY(String(100)), nullable=False, server_default="{}"),
    Column("created_by", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("archived_at", DateTime(timezone=True), nullable=True),
    Index("ix_articles_section", "section_id"),
)

# ``version`` counts the published versions of the translation (0: never published).
translations = Table(
    "translations",
    metadata,
    Column("article_id", Uuid, ForeignKey("knowledge.articles.id", ondelete="CASCADE"), primary_key=True),
    Column("locale", String(35), primary_key=True),
    # The article's brand (it never changes): searches are scoped to a brand without a join.
    Column("brand", String(100), nullable=True),
    Column("title", String(300), nullable=False),
    Column("body", Text, nullable=False),
    Column("body_html", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("updated_by", String(200), nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=True),
    # Search (search/analysis.py): the language the terms were cut for, the body as plain text,
    # and the terms, the title's weighted A and the body's B.
    Column("language", String(8), nullable=False),
    Column("body_text", Text, nullable=False),
    Column("search_vector", TSVECTOR, nullable=False),
    # The semantic half (search/embeddings.py, migration 0015): the translation's vector and the
    # model that made it, both null while no model is configured (or until the backfill reaches it).
    Column("embedding", Vector(DIMENSIONS), nullable=True),
    Column("embedding_model", String(64), nullable=True),
    CheckConstraint("status IN ('draft', 'published', 'archived')", name="status"),
    # A short pending list (256 kB), which every search reads through (migration 0007).
    Index(
        "ix_translations_search_vector",
        "search_vector",
        postgresql_using="gin",
        postgresql_with={"gin_pending_list_limit": 256},
    ),
    # What the backfill (search/backfill.py) has left to embed.
    Index(
        "ix_translations_unembedded",
        "article_id",
        postgresql_where=text("embedding IS NULL AND status <> 'archived'"),
    ),
    # Whether a brand publishes anything (in a language): asked for every question suggested for.
    Index("ix_translations_published", "brand", "language", postgresql_where=text("status = 'published'")),
)

# How many translations (archived ones aside) hold each lexeme of the tsvectors, kept by a
# trigger on translations (migration 0007): rare terms weigh more and choose the candidates;
# pg_trgm on the lexemes finds the terms close to a word nothing holds (a typo, a partial word).
search_terms = Table(
    "search_terms",
    metadata,
    Column("lexeme", Text, primary_key=True),
    Column("translations", Integer, nullable=False),
    Index("ix_search_terms_trigrams", "lexeme", postgresql_using="gin", postgresql_ops={"lexeme": "gin_trgm_ops"}),
)

# Every published change of a translation, as it was published, with who and when.
versions = Table(
    "versions",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("article_id", Uuid, ForeignKey("knowledge.articles.id", ondelete="CASCADE"), nullable=False),
    Column("locale", String(35), nullable=False),
    Column("version", Integer, nullable=False),
    Column("title", String(300), nullable=False),
    Column("body", Text, nullable=False),
    Column("author_id", String(200), nullable=False),
    Column("author_name", String(200), nullable=True),
    Column("published_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("article_id", "locale", "version"),
)

# Articles suggested to a customer for one case (the auto-response's links), and what became of
# each: opened in the help center, answered Yes (the case solved) or No. Deflection per article is
# counted from these rows; a link's token names its row, and answering sets ``answered_at`` once.
suggestions = Table(
    "suggestions",
    metadata,
    Column("id", Uuid, primary_key=True),
    # None: a chat question held back from becoming a case while its articles are shown (answers first).
    Column("case_id", Uuid),
    Column("article_id", Uuid, ForeignKey("knowledge.articles.id", ondelete="CASCADE"), nullable=False),
    Column("locale", String(35), nullable=False),
    Column("score", Float, nullable=False),
    Column("matched", ARRAY(String(200)), nullable=False, server_default="{}"),
    Column("suggested_at", DateTime(timezone=True), nullable=False),
    Column("opened_at", DateTime(timezone=True), nullable=True),
    Column("answered_at", DateTime(timezone=True), nullable=True),
    Column("answer", String(8), nullable=True),
    CheckConstraint("answer IN ('yes', 'no')", name="answer"),
    Index("ix_suggestions_article", "article_id"),
    Index("ix_suggestions_case", "case_id"),
)

# Articles suggested for a case when it was created (``case.created``), for its agents, when its
# channel asked for none for its customer (those are ``suggestions``): up to three, ``rank`` 1 the
# best, ``read_locale`` the language the case's question was read in. Never sent to anyone, so
# never counted as deflection.
case_suggestions = Table(
    "case_suggestions",
    metadata,
    Column("case_id", Uuid, primary_key=True),
    Column("article_id", Uuid, ForeignKey("knowledge.articles.id", ondelete="CASCADE"), primary_key=True),
    Column("locale", String(35), nullable=False),
    Column("read_locale", String(35), nullable=False),
    Column("rank", Integer, nullable=False),
    Column("score", Float, nullable=False),
    Column("matched", ARRAY(String(200)), nullable=False, server_default="{}"),
    Column("suggested_at", DateTime(timezone=True), nullable=False),
    Index("ix_case_suggestions_article", "article_id"),
)

# Articles and the cases they came from or helped solve: ``captured`` (the article was drafted
# from the case), ``solved`` (the customer said the article answered the case's question),
# ``attached`` (an agent's reply on the case carried its link).
article_cases = Table(
    "article_cases",
    metadata,
    Column("article_id", Uuid, ForeignKey("knowledge.articles.id", ondelete="CASCADE"), primary_key=True),
    Column("case_id", Uuid, primary_key=True),
    Column("relation", String(16), primary_key=True),
    Column("linked_by", String(200), nullable=False),
    Column("linked_at", DateTime(timezone=True), nullable=False),
    # The swarm (collaboration) whose outcome the article was captured with; null otherwise.
    Column("swarm_id", Uuid, nullable=True),
    CheckConstraint("relation IN ('captured', 'solved', 'attached')", name="relation"),
    Index("ix_article_cases_case", "case_id"),
)

# Synonyms admins keep per locale (search/synonyms.py): each row is a set of words or phrases a
# search treats as meaning the same (``refund``, ``money back``, ``reimbursement``), applied to
# the queries in its locale's language. Seeded with a general support vocabulary (migration 0010).
synonyms = Table(
    "synonyms",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("locale", String(35), nullable=False),
    Column("language", String(8), nullable=False),
    Column("terms", ARRAY(String(100)), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("updated_by", String(200), nullable=False),
    Index("ix_synonyms_locale", "locale", "id"),
)

# Files of an article (images, PDFs its body links to), their bytes in the suite's blob store
# (omnicase.kit.blobs) by sha256; one row per file of the article (the same bytes once per article).
article_attachments = Table(
    "article_attachments",
    metadata,
    Column("article_id", Uuid, ForeignKey("knowledge.articles.id", ondelete="CASCADE"), primary_key=True),
    Column("sha256", String(64), primary_key=True),
    Column("filename", String(255), nullable=False),
    Column("content_type", String(255), nullable=False),
    Column("size", Integer, nullable=False),
    Column("uploaded_by", String(200), nullable=False),
    Column("uploaded_at", DateTime(timezone=True), nullable=False),
)

# Moves with every write to synonyms (kit.config_version triggers): each process's cache reloads.
config_version = config_version_table(metadata)
