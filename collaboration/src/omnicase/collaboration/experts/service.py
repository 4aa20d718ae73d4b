"""The expert finder: agents who could help on a case, ranked by evidence.

Each agent (from routing's API; the case's assignee left out) scores:

- 3 for each of their skills whose name the case's subject or first message names, plus its level / 10;
- 4 * the similarity of each of up to three cases they solved whose text is like this one's (the
  case projection's solved cases in the case's language, PostgreSQL text search);
- 2 + the relevance of each of up to three knowledge articles they wrote matching the case
  (knowledge's search, which cuts Korean and Chinese its own way).

Presence and load rank down, never out: away * 0.6, offline * 0.4, no free capacity * 0.7. An
agent with no evidence at all is not listed. routing's case projection keeps the case's required
skills without an API to read them yet, so skills are matched on the case's text.
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.collaboration.cases.repository import CaseRepository
from omnicase.collaboration.experts.peers import AgentProfile, ArticleHit, Peers
from omnicase.collaboration.experts.repository import ExpertRepository, SimilarCase
from omnicase.collaboration.experts.schemas import ArticleEvidence, CaseEvidence, Expert, ExpertList, SkillEvidence
from omnicase.collaboration.swarms.service import CaseNotFound
from omnicase.kit.errors import ServiceUnavailable
from omnicase.kit.peers import PeerUnavailable

PRESENCE_FACTOR = {"online": 1.0, "away": 0.6, "offline": 0.4}


class ExpertFinder:
    def __init__(self, peers: Peers) -> None:
        self.peers = peers

    async def find(self, session: AsyncSession, case_id: uuid.UUID, limit: int) -> ExpertList:
        case = await CaseRepository(session).get_or_raise(
            case_id, lambda key: CaseNotFound(f"Case {key} does not exist (or case-core has not told of it yet).")
        )
        words = f"{case.subject}\n{case.description}".strip()
        try:
            agents = await self.peers.agents()
        except PeerUnavailable as error:
            raise ServiceUnavailable(f"routing cannot list the agents now: {error}.") from error
        unavailable: list[str] = []
        try:
            articles = await self.peers.articles(words) if words else []
        except PeerUnavailable:
            articles, unavailable = [], ["knowledge"]
        similar = await ExpertRepository(session).similar_solved(case_id, words, case.language) if words else []
        solved_by: dict[uuid.UUID, list[SimilarCase]] = defaultdict(list)
        for found in similar:
            solved_by[found.solved_by].append(found)
        written_by: dict[str, list[ArticleHit]] = defaultdict(list)
        for hit in articles:
            written_by[hit.author].append(hit)
        text = words.lower()
        experts = [
            expert
            for agent in agents
            if agent.user_id != case.assignee_id
            and (expert := _rank(agent, text, solved_by[agent.user_id][:3], written_by[str(agent.user_id)][:3]))
            is not None
        ]
        experts.sort(key=lambda expert: (-expert.score, expert.name, expert.agent_id))
        return ExpertList(items=experts[:limit], sources_unavailable=unavailable)


def _names(text: str, skill: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(skill.lower())}(?!\w)", text) is not None


def _rank(agent: AgentProfile, text: str, solved: list[SimilarCase], written: list[ArticleHit]) -> Expert | None:
    skills = [skill for skill in agent.skills if _names(text, skill.name)]
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
        parts.append("solved " + ", ".join(f"#{found.number} {found.subject!r}" for found in solved))
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
            CaseEvidence(case_id=f.case_id, number=f.number, subject=f.subject, similarity=round(f.score, 4))
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
