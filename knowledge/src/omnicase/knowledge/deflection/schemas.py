"""Suggested articles and deflection counts as the API shows them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from omnicase.kit.inputs import StrictInput
from omnicase.knowledge.locales import Locale
from omnicase.knowledge.sections.schemas import Brand

MAX_SUGGESTIONS = 3


class SuggestionRequest(StrictInput):
    """What a case's customer asked, for the articles that may answer it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "case_id": "0190f5c4-7a2b-7c3d-8e9f-0a1b2c3d4e5f",
                    "subject": "비밀번호를 잊어버렸어요",
                    "text": "로그인할 수 없어요. 비밀번호를 어떻게 재설정하나요?",
                    "brand": "acme",
                }
            ]
        }
    )

    case_id: uuid.UUID | None = Field(
        default=None,
        description="The case the question opened; null: a chat question not a case yet (the widget's answers "
        "first hold it back until the visitor asks for a person): its suggestions and their answers are counted "
        "(`GET /articles/{id}/deflection`), with no `knowledge.events`, and a Yes solves nothing.",
    )
    subject: Annotated[str, StringConstraints(max_length=1000)] = ""
    text: Annotated[str, StringConstraints(max_length=20_000)] = ""
    brand: Brand | None = Field(default=None, description="The case's brand; null: the default brand.")
    locale: Locale | None = Field(default=None, description="The customer's locale; left out: detected from the text.")
    limit: int = Field(default=MAX_SUGGESTIONS, ge=1, le=MAX_SUGGESTIONS)


class SuggestedArticle(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: uuid.UUID = Field(description="The suggestion (one article for one case).")
    article_id: uuid.UUID
    locale: str
    title: str
    score: float = Field(description="Relevance, comparable within one suggestion only.")
    matched: list[str] = Field(description="The words of the question found in the article.")
    url: str = Field(
        description=(
            "The article in the public help center with this suggestion's single-use token: the customer's "
            "'Yes, this answered my question' there solves the case."
        )
    )


class ArticleSuggestions(BaseModel):
    items: list[SuggestedArticle] = Field(description="Published articles in the customer's language, best first.")


class CustomerSuggestion(BaseModel):
    """What became of the article's link in the customer's auto-response (or chat widget)."""

    model_config = ConfigDict(frozen=True)

    suggested_at: datetime
    opened_at: datetime | None = Field(description="When the customer opened it; null: not yet.")
    answer: Literal["yes", "no"] | None = Field(description="Their answer to 'did this answer your question?'.")


class CaseSuggestedArticle(BaseModel):
    model_config = ConfigDict(frozen=True)

    article_id: uuid.UUID
    locale: str
    title: str
    score: float = Field(description="Relevance, comparable within one answer only.")
    matched: list[str] = Field(description="The words of the case's question found in the article.")
    url: str = Field(description="The article's page in the public help center (to send the customer).")
    customer: CustomerSuggestion | None = Field(
        description="Set when the customer was sent this article already (and what they did with it)."
    )


class CaseArticleSuggestions(BaseModel):
    """Articles that may answer a case, as an agent's console shows them."""

    case_id: uuid.UUID
    locale: str = Field(description="The language the case was read in: the case's, else its question's, detected.")
    origin: Literal["sent", "stored", "computed"] = Field(
        description=(
            "`sent`: the articles the case's customer was sent (auto-response, chat widget), with what they did; "
            "`stored`: those suggested when the case was created (its channel sent none); "
            "`computed`: chosen now, nothing stored for the case yet (recorded nowhere)."
        )
    )
    suggested_at: datetime | None = Field(description="When the articles were sent or stored; null: computed now.")
    items: list[CaseSuggestedArticle] = Field(description="Best first.")


class Deflection(BaseModel):
    """How often an article was suggested to customers, opened from a suggestion, and solved their case."""

    article_id: uuid.UUID
    suggested: int
    opened: int
    solved: int
