"""The expert finder's answer: agents ranked, each with the evidence for the ranking."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, Field


class SkillEvidence(BaseModel):
    name: str
    level: int


class CaseEvidence(BaseModel):
    case_id: uuid.UUID
    number: int
    subject: str
    similarity: float


class ArticleEvidence(BaseModel):
    article_id: uuid.UUID
    title: str
    relevance: float


class Expert(BaseModel):
    agent_id: uuid.UUID
    name: str
    score: float = Field(description="Higher ranks first; what it is made of is in the evidence.")
    skills: list[SkillEvidence] = Field(description="The agent's skills the case's text names.")
    solved_cases: list[CaseEvidence] = Field(description="Cases the agent solved whose text is like this one's.")
    articles: list[ArticleEvidence] = Field(description="Knowledge articles the agent wrote that match the case.")
    presence: str
    active_cases: int
    free_capacity: int
    explanation: str = Field(description="The evidence in words, for the console.")


class ExpertList(BaseModel):
    items: list[Expert]
    sources_unavailable: list[str] = Field(
        default_factory=list, description="Sources that could not answer now (knowledge); ranked without them."
    )
