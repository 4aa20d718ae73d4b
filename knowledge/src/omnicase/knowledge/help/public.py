"""The public help center, /public/help/{brand}/{locale}/..., reached through the gateway with no sign-in.

``{brand}`` is a brand's name, ``default`` for the default brand. Only published translations
are shown. An article opened from a suggested-article link (``?s=`` its sealed token) asks
"Did this answer your question?"; the answer (a form post, no JavaScript) is recorded once per
link, and Yes solves the customer's case through case-core.
"""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from omnicase.kit.db import SessionDep
from omnicase.knowledge.deflection.service import brand_of, brand_segment
from omnicase.knowledge.deps import DeflectionDep
from omnicase.knowledge.help.pages import answered_page, article_page, message_page, texts
from omnicase.knowledge.help.service import HelpCenterService
from omnicase.knowledge.locales import LOCALE_PATTERN, canonical_locale
from omnicase.knowledge.state import StateDep

router = APIRouter(prefix="/public/help", tags=["help-center"])

_HTML: dict[str, Any] = {"content": {"text/html": {}}}
_PAGES: dict[int | str, dict[str, Any]] = {200: _HTML, 404: _HTML}
MAX_FORM_BYTES = 16 * 1024
_LOCALE = re.compile(LOCALE_PATTERN)


def _locale(value: str) -> str | None:
    return canonical_locale(value) if _LOCALE.fullmatch(value) else None


def home_path(brand: str | None, locale: str) -> str:
    return f"/public/help/{quote(brand_segment(brand), safe='')}/{locale}"


def article_path(brand: str | None, locale: str, article_id: uuid.UUID) -> str:
    return f"{home_path(brand, locale)}/articles/{article_id}"


def _missing(locale: str, brand: str | None, *, bad_link: bool = False) -> HTMLResponse:
    words = texts(locale)
    title, detail = (
        (words["bad-link"], words["bad-link-detail"]) if bad_link else (words["missing"], words["missing-detail"])
    )
    return HTMLResponse(message_page(title, detail, locale=locale, home=home_path(brand, locale)), status_code=404)


@router.get(
    "/{brand}/{locale}/articles/{article_id}",
    operation_id="show_help_article",
    summary="An article's published translation; opened from a suggestion (`s`), it asks whether it answered",
    response_class=HTMLResponse,
    responses=_PAGES,
)
async def show_help_article(
    brand: str,
    locale: str,
    article_id: str,
    session: SessionDep,
    state: StateDep,
    deflection: DeflectionDep,
    s: Annotated[str | None, Query(max_length=2000, description="A suggested-article link's token.")] = None,
) -> HTMLResponse:
    shown_locale, owner, article = _locale(locale), brand_of(brand), _uuid(article_id)
    if shown_locale is None or article is None:
        return _missing("en", owner)
    view = await HelpCenterService(session).article(owner, shown_locale, article)
    if view is None:
        return _missing(shown_locale, owner)
    suggestion = await deflection.opened(s, article) if s else None
    base = state.links.public_base_url.rstrip("/")
    url_of = {other: base + article_path(owner, other, article) for other in view.locales}
    page = article_page(
        view,
        url_of=url_of,
        home=home_path(owner, shown_locale),
        answer_action=article_path(owner, shown_locale, article) + "/answer" if suggestion is not None else None,
        token=s if suggestion is not None and suggestion.answered_at is None else None,
    )
    return HTMLResponse(page)


@router.post(
    "/{brand}/{locale}/articles/{article_id}/answer",
    operation_id="submit_help_answer",
    summary="The customer's answer to a suggested article: `yes` solves their case, `no` leaves it open",
    response_class=HTMLResponse,
    responses=_PAGES,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "required": ["s", "answer"],
                        "properties": {
                            "s": {"type": "string", "maxLength": 2000},
                            "answer": {"type": "string", "enum": ["yes", "no"]},
                        },
                    }
                }
            },
        }
    },
)
async def submit_help_answer(
    brand: str, locale: str, article_id: str, request: Request, deflection: DeflectionDep
) -> HTMLResponse:
    shown_locale, owner, article = _locale(locale) or "en", brand_of(brand), _uuid(article_id)
    form = parse_qs((await request.body())[:MAX_FORM_BYTES].decode("utf-8", "replace"))
    token, answer = form.get("s", [""])[0], form.get("answer", [""])[0]
    if article is None or answer not in ("yes", "no"):
        return _missing(shown_locale, owner, bad_link=True)
    outcome = await deflection.answer(token, article, answer == "yes")
    if outcome is None:
        return _missing(shown_locale, owner, bad_link=True)
    page = answered_page(
        outcome,
        locale=shown_locale,
        home=home_path(owner, shown_locale),
        article_url=article_path(owner, shown_locale, article),
    )
    return HTMLResponse(page)


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
