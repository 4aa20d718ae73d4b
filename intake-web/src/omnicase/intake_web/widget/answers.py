"""Answers first: up to three help-center articles for a chat's question, before the desk sees it.

A widget with ``answers_first`` holds its visitor's first message back (stored, acknowledged, no intake
message: :func:`omnicase.intake_web.widget.service.holds`), and anything written while it holds, until the
visitor chooses or the widget's ``hand_over_after_seconds`` pass. A worker on every replica claims the
conversations wanting articles (``FOR UPDATE SKIP LOCKED``), asks knowledge with no case
(:mod:`omnicase.kit.suggestions`; knowledge records the suggestions and counts their answers) and adds
them to the transcript as an ``articles`` entry; none found hands the question over at once. "This
answered my question" is the visitor's Yes on the article, given to knowledge as the help center's page
gives it (the suggestion's own single-use token): the chat ends with no case. "Talk to someone", or the
same worker once the hold's time is up, hands the held messages over: they become intake messages, in
order, in one transaction (:func:`omnicase.intake_web.widget.service.hand_over_held`). A conversation
whose case opened first (a message left outside business hours, or one begun before holding) wants its
articles once case-core confirms the case, and there the Yes has knowledge solve the case through
``case.commands``. Either choice ends the question with a note in the transcript. Each of these entries
stages ``intake.widget_conversation_updated`` keyed by the conversation's thread key, so the streams of
the conversation on every replica wake (:mod:`omnicase.intake_web.widget.hub`).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.intake_web.channels.definition import StoredChannel
from omnicase.intake_web.channels.schemas import WidgetConfig
from omnicase.intake_web.channels.secrets import ChannelSecrets
from omnicase.intake_web.channels.service import ChannelService
from omnicase.intake_web.metrics import HELD_ANSWERED, HELD_HANDED_OVER
from omnicase.intake_web.service import SPEC
from omnicase.intake_web.widget.hub import ConversationHub, thread_key
from omnicase.intake_web.widget.repository import (
    ANSWERED,
    ARTICLES,
    HANDED_OVER,
    NONE,
    NOTE,
    SHOWN,
    ConversationState,
    Entry,
    WantedAnswers,
    WidgetRepository,
)
from omnicase.intake_web.widget.service import hand_over_held
from omnicase.kit.blobs import BlobStore
from omnicase.kit.clock import utcnow
from omnicase.kit.db import Database
from omnicase.kit.errors import NOT_FOUND_CODE, FieldError, ServiceUnavailable, StateConflict, refusal
from omnicase.kit.events import WidgetConversationUpdated
from omnicase.kit.outbox import Outbox
from omnicase.kit.suggestions import ArticleSuggester, SuggestedArticle

logger = logging.getLogger(__name__)

BATCH = 5


class NoArticlesShown(StateConflict):
    slug, title = "no-articles-shown", "No articles to answer"


class WidgetAnswers:
    def __init__(
        self,
        database: Database,
        outbox: Outbox,
        blobs: BlobStore,
        hub: ConversationHub,
        suggester: ArticleSuggester,
        secrets: ChannelSecrets,
    ) -> None:
        self.database = database
        self.outbox = outbox
        self.blobs = blobs
        self.hub = hub
        self.suggester = suggester
        self.secrets = secrets

    async def run_once(self) -> int:
        """Suggest articles to the conversations waiting for them, and hand over the questions held past their
        time; returns how many were handled."""
        return await self._suggest_wanted() + await self._hand_over_due()

    async def _suggest_wanted(self) -> int:
        async with self.database.unit_of_work() as session:
            widget = WidgetRepository(session)
            wanted = await widget.claim_wanted(BATCH)
            channels: dict[uuid.UUID, StoredChannel | None] = {}
            for item in wanted:
                channels[item.conversation_id] = await ChannelService(session, self.secrets).find(item.channel_id)
            found = await asyncio.gather(
                *(self._suggest(item, _brand(channels[item.conversation_id])) for item in wanted)
            )
            now = utcnow()
            for item, articles in zip(wanted, found, strict=True):
                if not articles:
                    # Nothing to show: a question held back goes to the desk now, as it would without answers first.
                    await widget.set_answers(item.conversation_id, NONE)
                    await self._release(session, channels[item.conversation_id], item.conversation_id)
                    continue
                seq = await widget.next_seq(item.conversation_id, now)
                assert seq is not None  # claimed above
                data = {"articles": [_article(article) for article in articles]}
                await widget.add(item.conversation_id, Entry(seq, ARTICLES, "", None, None, now, data))
                await widget.set_answers(item.conversation_id, SHOWN)
                await self._updated(session, item.channel_id, item.conversation_id, seq)
        return len(wanted)

    async def _hand_over_due(self) -> int:
        """A visitor who neither chose nor wrote again in time is handed over, so nothing waits unseen."""
        async with self.database.unit_of_work() as session:
            widget = WidgetRepository(session)
            due = await widget.claim_due_holds(utcnow(), BATCH)
            for item in due:
                channel = await ChannelService(session, self.secrets).find(item.channel_id)
                await self._release(session, channel, item.conversation_id)
                await self._end(widget, item.channel_id, item.conversation_id, HANDED_OVER, {"note": HANDED_OVER})
        return len(due)

    async def _release(self, session: AsyncSession, channel: StoredChannel | None, conversation_id: uuid.UUID) -> None:
        """The held messages become the case's, in order (a conversation holding none: nothing to do)."""
        if channel is None:
            # The widget was deleted while its visitor's question waited: there is no channel to take it in.
            logger.warning("a held chat question's widget is gone", extra={"conversation_id": str(conversation_id)})
            await WidgetRepository(session).released(conversation_id, [])
            return
        if await hand_over_held(session, self.outbox, self.blobs, channel, conversation_id):
            HELD_HANDED_OVER.inc()

    async def _suggest(self, item: WantedAnswers, brand: str | None) -> list[SuggestedArticle]:
        return await self.suggester.suggest(item.case_id, item.question[:200], item.question, brand)

    async def answered(self, conversation_id: uuid.UUID, article_id: uuid.UUID) -> Entry:
        """The visitor's Yes to a suggested article, given to knowledge: a question held back ends with no case
        (knowledge counts it), one that opened its case has it solved by the article; the question ends."""
        async with self.database.unit_of_work() as session:
            widget = WidgetRepository(session)
            state, articles = await self._shown(widget, conversation_id)
            chosen = next((a for a in articles if a.get("article_id") == str(article_id)), None)
            if chosen is None:
                raise refusal(
                    f"Article {article_id} was not suggested in this conversation.",
                    [FieldError(field="body.article_id", message="not suggested here", code=NOT_FOUND_CODE)],
                )
            await self._tell_knowledge(str(chosen["url"]))
            if state.held_until is not None:
                # Solved before it became a case: its messages stay in the transcript, none goes to the desk.
                await widget.stop_holding(conversation_id)
                HELD_ANSWERED.inc()
            note = {"note": ANSWERED, "article_id": str(article_id)}
            return await self._end(widget, state.channel_id, conversation_id, ANSWERED, note)

    async def hand_over(self, conversation_id: uuid.UUID) -> Entry:
        """The visitor wants a person: the articles are put aside; what they wrote goes to the desk (a question
        held back becomes the case now)."""
        async with self.database.unit_of_work() as session:
            widget = WidgetRepository(session)
            state, _ = await self._shown(widget, conversation_id)
            if state.held_until is not None:
                channel = await ChannelService(session, self.secrets).find(state.channel_id)
                await self._release(session, channel, conversation_id)
            return await self._end(widget, state.channel_id, conversation_id, HANDED_OVER, {"note": HANDED_OVER})

    async def _shown(
        self, widget: WidgetRepository, conversation_id: uuid.UUID
    ) -> tuple[ConversationState, list[dict[str, object]]]:
        """The conversation (locked) and the articles waiting for an answer (409 when none are)."""
        state = await widget.state(conversation_id, lock=True)
        if state is None or state.answers != SHOWN:
            raise NoArticlesShown("This conversation has no suggested articles waiting for an answer.")
        entry = await widget.last_of(conversation_id, ARTICLES)
        articles = (entry.data or {}).get("articles") if entry is not None else None
        return state, list(articles) if isinstance(articles, list) else []

    async def _end(
        self,
        widget: WidgetRepository,
        channel_id: uuid.UUID,
        conversation_id: uuid.UUID,
        answers: str,
        data: dict[str, str],
    ) -> Entry:
        now = utcnow()
        seq = await widget.next_seq(conversation_id, now)
        assert seq is not None  # locked in _shown
        entry = Entry(seq, NOTE, "", None, None, now, dict(data))
        await widget.add(conversation_id, entry)
        await widget.set_answers(conversation_id, answers)
        await self._updated(widget.session, channel_id, conversation_id, seq)
        return entry

    async def _updated(
        self, session: AsyncSession, channel_id: uuid.UUID, conversation_id: uuid.UUID, seq: int
    ) -> None:
        """Wake the conversation's streams once this commits: here at once, on other replicas by the event."""
        event = WidgetConversationUpdated(conversation_id=conversation_id, seq=seq)
        key = thread_key(channel_id, conversation_id)
        await self.outbox.add(session, event, source=SPEC.name, subject=str(conversation_id), key=key)
        self.hub.wake_after_commit(session, conversation_id)

    async def _tell_knowledge(self, url: str) -> None:
        """Post the Yes as the help center's page does, to knowledge itself (the link's path, its token)."""
        link = urlsplit(url)
        token = parse_qs(link.query).get("s", [""])[0]
        try:
            response = await self.suggester.client.post(
                f"{self.suggester.base_url}{link.path}/answer", data={"s": token, "answer": "yes"}
            )
        except httpx.HTTPError as error:
            raise ServiceUnavailable("The help center could not be reached; try again.") from error
        if response.status_code != 200:
            logger.warning("knowledge refused an answer", extra={"status": response.status_code, "path": link.path})
            raise ServiceUnavailable("The help center could not record the answer; try again.")


def _brand(channel: StoredChannel | None) -> str | None:
    config = channel.config if channel is not None else None
    return config.brand if isinstance(config, WidgetConfig) else None


def _article(article: SuggestedArticle) -> dict[str, str]:
    return {
        "article_id": str(article.article_id),
        "title": article.title,
        "url": article.url,
        "locale": article.locale,
    }
