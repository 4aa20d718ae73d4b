"""The expert finder: agents who could help on a case, ranked by evidence.

Each agent (from routing's API; the case's assignee left out) scores:

- 3 for each of their skills the case requires (routing's rule for it) or whose name the case's
  subject or first message names, plus its level / 10;
- 4 * the similarity of each of up to three cases they solved whose text is like this one's (solved
  cases in the case's language that case-core's search finds sharing a word with it, ranked by
  PostgreSQL text search in the language's configuration; the solver is the case's assignee);
- 2 + the relevance of each of up to three knowledge articles they wrote matching the case
  (knowledge's search, which cuts Korean and Chinese its own way).

Presence and load rank down, never out: away * 0.6, offline * 0.4, no free capacity * 0.7. An
agent with no evidence at all is not listed. routing not answering for the case's required skills
leaves its skills to the case's text (``sources_unavailable`` names routing).
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.collaboration.cases.desk import CaseDesk, CaseView
from omnicase.collaboration.experts.peers import AgentProfile, AgentSkill, ArticleHit, Peers
from omnicase.collaboration.experts.repository import ExpertRepository, text_config
from omnicase.collaboration.experts.schemas import ArticleEvidence, CaseEvidence, Expert, ExpertList, SkillEvidence
from omnicase.collaboration.swarms.service import read_case
from omnicase.kit.errors import ServiceUnavailable
from omnicase.kit.peers import PeerUnavailable

# The language of a case that states none (knowledge's default too).
DEFAULT_LANGUAGE = "en"
PRESENCE_FACTOR = {"online": 1.0, "away": 0.6, "offline": 0.4}


class ExpertFinder:
    def __init__(self, peers: Peers, desk: CaseDesk) -> None:
        self.peers = peers
        self.desk = desk

    async def find(self, session: AsyncSession, case_id: uuid.UUID, limit: int) -> ExpertList:
        case = await read_case(self.desk, case_id)
        words = f"{case.subject}\n{case.description}".strip()
        try:
            agents = await self.peers.agents()
        except PeerUnavailable as error:
            raise ServiceUnavailable(f"routing cannot list the agents now: {error}.") from error
        unavailable: list[str] = []
        try:
            required = await self.peers.required_skills(case.id)
        except PeerUnavailable:
            required = {}
            unavailable.append("routing")
        try:
            articles = await self.peers.articles(words) if words else []
        except PeerUnavailable:
            articles = []
            unavailable.append("knowledge")
        solved_by = await self._solved_like(session, case, words, unavailable) if words else {}
        written_by: dict[str, list[ArticleHit]] = defaultdict(list)
        for hit in articles:
            written_by[hit.author].append(hit)
        text = words.lower()
        experts = [
            expert
            for agent in agents
            if agent.user_id != case.assignee_id
            and (
                expert := _rank(
                    agent, required, text, solved_by.get(agent.user_id, [])[:3], written_by[str(agent.user_id)][:3]
                )
            )
            is not None
        ]
        experts.sort(key=lambda expert: (-expert.score, expert.name, expert.agent_id))
        return ExpertList(items=experts[:limit], sources_unavailable=unavailable)

    async def _terms(
        self, language: str | None, words: str, texts: dict[uuid.UUID, str], unavailable: list[str]
    ) -> tuple[str, str, dict[uuid.UUID, str]]:
        """The case's words and the solved cases' texts as knowledge cuts them (Korean morphemes, Chinese
        words, stemming), with the configuration to parse them; knowledge not answering: as they are, in
        the language's own PostgreSQL configuration (``knowledge`` named among the sources unavailable)."""
        if not texts:
            return text_config(language), words, texts
        try:
            config, cut = await self.peers.analysed(language or DEFAULT_LANGUAGE, [words, *texts.values()])
        except PeerUnavailable:
            if "knowledge" not in unavailable:
                unavailable.append("knowledge")
            return text_config(language), words, texts
        return config, cut[0], dict(zip(texts, cut[1:], strict=True))

    async def _solved_like(
        self, session: AsyncSession, case: CaseView, words: str, unavailable: list[str]
    ) -> dict[uuid.UUID, list[SimilarCase]]:
        """The solved cases like this one in its language, by who solved them (their assignee), best first."""
        try:
            found = await self.desk.solved_like(words)
        except PeerUnavailable as error:
            raise ServiceUnavailable(f"case-core cannot search the solved cases now: {error}.") from error
        candidates = {
            other.id: other
            for other in found
            if other.id != case.id and other.assignee_id is not None and other.language == case.language
        }
        texts = {key: f"{other.subject}\n{other.description}" for key, other in candidates.items()}
        config, words, texts = await self._terms(case.language, words, texts, unavailable)
        solved_by: dict[uuid.UUID, list[SimilarCase]] = defaultdict(list)
        for like in await ExpertRepository(session).similarity(words, config, texts):
            other = candidates[like.case_id]
            if other.assignee_id is not None:
                solved_by[other.assignee_id].append(SimilarCase(other, like.score))
        return solved_by


@dataclass(frozen=True)
class SimilarCase:
    case: CaseView
    score: float


def _meets(skill: AgentSkill, required: dict[uuid.UUID, int]) -> bool:
    return skill.skill_id in required and skill.level >= required[skill.skill_id]


def _names(text: str, skill: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(skill.lower())}(?!\w)", text) is not None


def _rank(
    agent: AgentProfile,
    required: dict[uuid.UUID, int],
    text: str,
    solved: list[SimilarCase],
    written: list[ArticleHit],
) -> Expert | None:
    skills = [skill for skill in agent.skills if _meets(skill, required) or _names(text, skill.name)]
    if not (skills or solved or written):
        return None
    evidence = (
        sum(3 + skill.level / 10 for skill in skills)
        + sum(4 * found.score for found in solved)
        + sum(2 + hit.score for hit in written)
    )
    factor = PRESENCE_FACTOR.get(agent.presence, 0.4) * (0.7 if agent.free_capacity <= 0 else 1.0)
    parts = []
    if skills:
        parts.append("skills " + ", ".join(f"{skill.name} ({skill.level})" for skill in skills))
    if solved:
        parts.append("solved " + ", ".join(f"#{found.case.number} {found.case.subject!r}" for found in solved))
    if written:
        parts.append("wrote " + ", ".join(repr(hit.title) for hit in written))
    if factor < 1:
        parts.append(f"ranked down: {agent.presence}, {agent.free_capacity} free of {agent.capacity}")
    return Expert(
        agent_id=agent.user_id,
        name=agent.name,
        score=round(evidence * factor, 4),
        skills=[SkillEvidence(name=skill.name, level=skill.level) for skill in skills],
        solved_cases=[
            CaseEvidence(case_id=f.case.id, number=f.case.number, subject=f.case.subject, similarity=round(f.score, 4))
            for f in solved
        ],
        articles=[
            ArticleEvidence(article_id=h.article_id, title=h.title, relevance=round(h.score, 4)) for h in written
        ],
        presence=agent.presence,
        active_cases=agent.active_cases,
        free_capacity=agent.free_capacity,
        explanation="; ".join(parts),
    )
