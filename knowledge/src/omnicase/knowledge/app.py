"""knowledge HTTP app (everything it holds is built in the lifespan, never at import)."""

from fastapi import FastAPI

from omnicase.kit.app import ConsumerBinding, ServiceParts, create_service_app
from omnicase.kit.bus.consumer import OFF_THE_CASE_PATH_FETCH_WAIT_MS, ConsumerConfig
from omnicase.kit.settings import load_settings
from omnicase.kit.topics import Topic
from omnicase.knowledge.articles.api import router as articles_router
from omnicase.knowledge.attachments.api import public_router as help_attachments_router
from omnicase.knowledge.attachments.api import publish_upload_limit
from omnicase.knowledge.attachments.api import router as attachments_router
from omnicase.knowledge.capture.api import router as capture_router
from omnicase.knowledge.case_suggestions.consumers import ACCEPTS, case_events_handler
from omnicase.knowledge.deflection.api import case_router as case_suggestions_router
from omnicase.knowledge.deflection.api import router as deflection_router
from omnicase.knowledge.help.public import router as help_router
from omnicase.knowledge.models import inbox, outbox
from omnicase.knowledge.search.analysis import TextAnalyzer
from omnicase.knowledge.search.api import analysis_router
from omnicase.knowledge.search.api import router as search_router
from omnicase.knowledge.search.backfill import embeddings_backfill
from omnicase.knowledge.search.embeddings import embedder_for
from omnicase.knowledge.search.synonyms import SynonymCache
from omnicase.knowledge.sections.api import router as sections_router
from omnicase.knowledge.service import SPEC
from omnicase.knowledge.settings import KnowledgeSettings
from omnicase.knowledge.state import KnowledgeState, knowledge_state
from omnicase.knowledge.synonyms.api import router as synonyms_router

TAGS = [
    {"name": "kb-sections", "description": "Sections (categories) of a brand's knowledge base, ordered."},
    {"name": "kb-articles", "description": "Articles, their translations per locale and published versions."},
    {"name": "kb-search", "description": "Ranked search of articles in any language, drafts included."},
    {"name": "kb-deflection", "description": "Articles suggested to customers, and how often they answered them."},
    {"name": "help-center", "description": "The public help center's pages (HTML, no sign-in)."},
]


def create_app(settings: KnowledgeSettings | None = None) -> FastAPI:
    settings = settings or load_settings(KnowledgeSettings)
    # One analyzer (its language models loaded once) and synonym cache for the routes and the consumer.
    analyzer = TextAnalyzer(settings.detect_languages, embedder_for(settings.embedding_model))
    synonyms = SynonymCache(analyzer)
    parts = ServiceParts[KnowledgeSettings, KnowledgeState](
        state=knowledge_state(analyzer, synonyms),
        routers=[
            sections_router,
            capture_router,
            articles_router,
            attachments_router,
            search_router,
            analysis_router,
            synonyms_router,
            deflection_router,
            case_suggestions_router,
            help_router,
            help_attachments_router,
        ],
        background=[embeddings_backfill(analyzer)],
        outbox_table=outbox,
        inbox_table=inbox,
        consumers=[
            ConsumerBinding(
                # Nobody waits on a case's stored suggestions within a second: off the case path.
                ConsumerConfig(
                    group="knowledge",
                    topics=[Topic.CASE_EVENTS],
                    accepts=ACCEPTS,
                    fetch_max_wait_ms=OFF_THE_CASE_PATH_FETCH_WAIT_MS,
                ),
                case_events_handler(analyzer, synonyms),
            )
        ],
        openapi_tags=TAGS,
    )
    app = create_service_app(SPEC, settings, parts)
    publish_upload_limit(app, settings.max_attachments_per_upload)
    return app
