"""The public help center, /public/help/{brand}/{locale}/..., reached through the gateway with no sign-in.

``{brand}`` is a brand's name, ``default`` for the default brand. Only published translations
are shown: the home page (sections with their articles in the locale), a section, an article,
search results, ``sitemap.xml`` (every translation, with its alternates), and the JSON search
for widgets (``/{brand}/search``). An article opened from a suggested-article link (``?s=`` its sealed token) asks
"Did this answer your question?"; the answer (a form post, no JavaScript) is recorded once per
link, and Yes solves the customer's case through case-core.
"""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from omnicase.kit import locales
from omnicase.kit.db import SessionDep
from omnicase.kit.errors import NotFound, problem_responses
from omnicase.kit.events import BrandLook
from omnicase.kit.pagination import Int32, InvalidCursor, LimitQuery, Page, cursor_query
from omnicase.knowledge.deflection.service import brand_of, brand_segment
from omnicase.knowledge.deps import DeflectionDep
from omnicase.knowledge.help.pages import (
    answered_page,
    article_page,
    home_page,
    message_page,
    search_page,
    section_page,
    sitemap,
    texts,
)
from omnicase.knowledge.help.service import HelpCenterService
from omnicase.knowledge.locales import LOCALE_PATTERN, Locale, canonical_locale
from omnicase.knowledge.search.schemas import HelpSearchHit
from omnicase.knowledge.search.service import SearchService
from omnicase.knowledge.state import KnowledgeState, StateDep

router = APIRouter(prefix="/public/help", tags=["help-center"])
# Every public search reads at most this many results on one page.
SEARCH_PAGE = 20

_HTML: dict[str, Any] = {"content": {"text/html": {}}}
# A brand, locale or article that is not there is a page; a path no page has (a brand segment
# holding a slash, say) is the suite's problem+json 404.
_NOT_FOUND = problem_responses(NotFound)[404]
_PAGES: dict[int | str, dict[str, Any]] = {
    200: _HTML,
    404: {**_NOT_FOUND, "content": {"text/html": {}, **_NOT_FOUND["content"]}},
}
MAX_FORM_BYTES = 16 * 1024
_LOCALE = re.compile(LOCALE_PATTERN)


def _locale(value: str) -> str | None:
    return canonical_locale(value) if _LOCALE.fullmatch(value) else None


def home_path(brand: str | None, locale: str) -> str:
    return f"/public/help/{quote(brand_segment(brand), safe='')}/{locale}"


def article_path(brand: str | None, locale: str, article_id: uuid.UUID) -> str:
    return f"{home_path(brand, locale)}/articles/{article_id}"


def visitor_locale(accept_language: str, asked: str | None, brand: BrandLook | None) -> str:
    """The language of a page that is not there: the locale the address asks for where the help
    center speaks its language; else the visitor's most preferred (``Accept-Language``) of those it
    speaks; else the brand's default locale where it speaks that; else English."""
    speaks = locales.shipped()
    if asked is not None and asked.lower().split("-")[0] in speaks:
        return asked
    default = (brand.locale or "").lower() if brand is not None else ""
    fallback = default if default.split("-")[0] in speaks else locales.FALLBACK
    return locales.preferred(accept_language, speaks, fallback)


async def _missing(
    request: Request, state: KnowledgeState, asked: str | None, brand: str | None, *, bad_link: bool = False
) -> HTMLResponse:
    """The 404 page of a brand's help center (an article, section or locale it has not), wearing the
    brand's look, in the visitor's language (:func:`visitor_locale`)."""
    look = await state.brands.look(brand)
    locale = visitor_locale(request.headers.get("accept-language", ""), asked, look)
    words = texts(locale)
    title, detail = (
        (words["bad-link"], words["bad-link-detail"]) if bad_link else (words["missing"], words["missing-detail"])
    )
    page = message_page(title, detail, locale=locale, home=home_path(brand, locale), brand=look)
    return HTMLResponse(page, status_code=404)


@router.get(
    "/{brand}/search",
    operation_id="search_help_articles",
    summary="Search a brand's published articles (for widgets), best first, each with its help-center address",
    responses=problem_responses(InvalidCursor),
)
async def search_help_articles(
    brand: Annotated[str, Path(max_length=100, description="A brand's name; `default`: the default brand.")],
    session: SessionDep,
    state: StateDep,
    q: Annotated[str, Query(min_length=1, max_length=500, description="Words, in any language.")],
    locale: Annotated[
        Locale | None,
        Query(description="Only this locale's translations, the query read in its language; left out: detected."),
    ] = None,
    limit: LimitQuery = 10,
    cursor: Annotated[str | None, cursor_query(Int32)] = None,
) -> Page[HelpSearchHit]:
    owner = brand_of(brand)
    base = state.links.public_base_url.rstrip("/")
    return await SearchService(session, state.analyzer, state.synonyms).public_search(
        q, locale, owner, cursor, limit, lambda row: base + article_path(owner, row.locale, row.article_id)
    )


@router.get(
    "/{brand}/sitemap.xml",
    operation_id="get_help_sitemap",
    summary="The brand's help center as a sitemap: every published translation with its alternates",
    response_class=Response,
    responses={200: {"content": {"application/xml": {}}}, **problem_responses(NotFound)},
)
async def get_help_sitemap(
    brand: Annotated[str, Path(max_length=100)], session: SessionDep, state: StateDep
) -> Response:
    owner = brand_of(brand)
    base = state.links.public_base_url.rstrip("/")
    entries = []
    for translations in (await HelpCenterService(session).sitemap(owner)).values():
        alternates = [(row.locale, base + article_path(owner, row.locale, row.article_id)) for row in translations]
        for row, (_, url) in zip(translations, alternates, strict=True):
            entries.append((url, alternates, row.published_at.date().isoformat()))
    return Response(sitemap(entries), media_type="application/xml")


@router.get(
    "/{brand}/{locale}",
    operation_id="show_help_home",
    summary="The brand's help center in one locale: its sections with their articles, and search",
    response_class=HTMLResponse,
    responses=_PAGES,
)
async def show_help_home(
    brand: str, locale: str, request: Request, session: SessionDep, state: StateDep
) -> HTMLResponse:
    shown_locale, owner = _locale(locale), brand_of(brand)
    if shown_locale is None:
        return await _missing(request, state, None, owner)
    sections, loose = await HelpCenterService(session).home(owner, shown_locale)
    home = home_path(owner, shown_locale)
    page = home_page(
        sections,
        loose,
        locale=shown_locale,
        home=home,
        canonical=_absolute(state, home),
        section_url=lambda view: f"{home}/sections/{view.section.id}",
        article_url=lambda row: article_path(owner, row.locale, row.article_id),
        brand=await state.brands.look(owner),
    )
    return HTMLResponse(page)


@router.get(
    "/{brand}/{locale}/sections/{section_id}",
    operation_id="show_help_section",
    summary="A section of the help center: its published articles in one locale",
    response_class=HTMLResponse,
    responses=_PAGES,
)
async def show_help_section(
    brand: str, locale: str, section_id: str, request: Request, session: SessionDep, state: StateDep
) -> HTMLResponse:
    shown_locale, owner, section = _locale(locale), brand_of(brand), _uuid(section_id)
    if shown_locale is None or section is None:
        return await _missing(request, state, shown_locale, owner)
    view = await HelpCenterService(session).section(owner, shown_locale, section)
    if view is None:
        return await _missing(request, state, shown_locale, owner)
    home = home_path(owner, shown_locale)
    page = section_page(
        view,
        locale=shown_locale,
        home=home,
        canonical=_absolute(state, f"{home}/sections/{section}"),
        article_url=lambda row: article_path(owner, row.locale, row.article_id),
        brand=await state.brands.look(owner),
    )
    return HTMLResponse(page)


@router.get(
    "/{brand}/{locale}/search",
    operation_id="show_help_search",
    summary="The help center's search results page (published articles in the locale)",
    response_class=HTMLResponse,
    responses=_PAGES,
)
async def show_help_search(
    brand: str,
    locale: str,
    request: Request,
    session: SessionDep,
    state: StateDep,
    q: Annotated[str, Query(max_length=500, description="Words, in any language.")] = "",
) -> HTMLResponse:
    shown_locale, owner = _locale(locale), brand_of(brand)
    if shown_locale is None:
        return await _missing(request, state, None, owner)
    hits: list[HelpSearchHit] = []
    if q.strip():
        found = await SearchService(session, state.analyzer, state.synonyms).public_search(
            q, shown_locale, owner, None, SEARCH_PAGE, lambda row: article_path(owner, row.locale, row.article_id)
        )
        hits = found.items
    home = home_path(owner, shown_locale)
    return HTMLResponse(search_page(q, hits, locale=shown_locale, home=home, brand=await state.brands.look(owner)))


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
    request: Request,
    session: SessionDep,
    state: StateDep,
    deflection: DeflectionDep,
    s: Annotated[str | None, Query(max_length=2000, description="A suggested-article link's token.")] = None,
) -> HTMLResponse:
    shown_locale, owner, article = _locale(locale), brand_of(brand), _uuid(article_id)
    if shown_locale is None or article is None:
        return await _missing(request, state, shown_locale, owner)
    view = await HelpCenterService(session).article(owner, shown_locale, article)
    if view is None:
        return await _missing(request, state, shown_locale, owner)
    suggestion = await deflection.opened(s, article) if s else None
    url_of = {other: _absolute(state, article_path(owner, other, article)) for other in view.locales}
    page = article_page(
        view,
        url_of=url_of,
        home=home_path(owner, shown_locale),
        answer_action=article_path(owner, shown_locale, article) + "/answer" if suggestion is not None else None,
        token=s if suggestion is not None and suggestion.answered_at is None else None,
        brand=await state.brands.look(owner),
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
    brand: str, locale: str, article_id: str, request: Request, deflection: DeflectionDep, state: StateDep
) -> HTMLResponse:
    asked, owner, article = _locale(locale), brand_of(brand), _uuid(article_id)
    form = parse_qs((await request.body())[:MAX_FORM_BYTES].decode("utf-8", "replace"))
    token, answer = form.get("s", [""])[0], form.get("answer", [""])[0]
    if article is None or answer not in ("yes", "no"):
        return await _missing(request, state, asked, owner, bad_link=True)
    outcome = await deflection.answer(token, article, answer == "yes")
    if outcome is None:
        return await _missing(request, state, asked, owner, bad_link=True)
    shown_locale = asked or "en"
    page = answered_page(
        outcome,
        locale=shown_locale,
        home=home_path(owner, shown_locale),
        article_url=article_path(owner, shown_locale, article),
        brand=await state.brands.look(owner),
    )
    return HTMLResponse(page)


def _absolute(state: KnowledgeState, path: str) -> str:
    return state.links.public_base_url.rstrip("/") + path


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
