"""The help center's pages: server-rendered HTML, no JavaScript, every control labelled.

Each page has the landmarks (``header``, ``nav``, ``main``, ``footer``), a skip link, one ``h1``,
its ``lang``, a canonical address and, for an article, an ``hreflang`` alternate per published
translation. Texts customers read come in English, Korean and Chinese (the locale's language,
else English). Article bodies are the sanitised HTML knowledge stored; every other value is escaped.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from omnicase.kit import locales
from omnicase.kit.brands import masthead
from omnicase.kit.events import BrandLook
from omnicase.knowledge.help.repository import PublishedRow
from omnicase.knowledge.help.service import ArticleView, SectionView
from omnicase.knowledge.search.schemas import HelpSearchHit

_STYLE = """
body{font-family:system-ui,sans-serif;margin:0;color:#1b1b1b;background:#f6f6f6;line-height:1.6}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:#fff;padding:.5rem}
header,nav,main,footer{max-width:44rem;margin:0 auto;padding:1rem 1.5rem}
main{background:#fff;border-radius:.5rem}
a{color:#0b5cad}
fieldset{border:1px solid #767676;border-radius:.25rem;margin:1.5rem 0;padding:.5rem 1rem}
button{font:inherit;padding:.5rem 1.25rem;margin:.25rem .5rem .25rem 0;border-radius:.25rem;border:2px solid #0b5cad}
button.yes,form[role=search] button{background:#0b5cad;color:#fff}
input[type=search]{font:inherit;padding:.4rem;border:1px solid #767676;border-radius:.25rem;width:60%}
mark{background:#fff3b0;color:inherit}button.no{background:#fff;color:#0b5cad}
a:focus,button:focus,input:focus{outline:3px solid #b35c00;outline-offset:2px}
.status{background:#e7f4e4;border-left:4px solid #2e7d32;padding:.5rem 1rem}
"""


def texts(locale: str) -> dict[str, str]:
    """The customer-facing texts for ``locale`` (the kit's locale files; English where one is missing)."""
    return locales.section("help_center", locale)


def document(
    title: str,
    body: str,
    *,
    locale: str,
    home: str,
    canonical: str | None = None,
    alternates: str = "",
    query: str = "",
    brand: BrandLook | None = None,
) -> str:
    """A whole page: ``body`` (HTML) in ``main``, the help center's name and search in the header,
    which wears the brand's mark and colour (case-core's brand)."""
    words = texts(locale)
    mark, rule = masthead(brand)
    head_links = (f'<link rel="canonical" href="{escape(canonical)}">' if canonical else "") + alternates
    search = (
        f'<form role="search" method="get" action="{escape(home)}/search">'
        f'<label for="q">{escape(words["search-label"])}</label> '
        f'<input id="q" type="search" name="q" value="{escape(query)}" maxlength="500" required> '
        f'<button type="submit">{escape(words["search-button"])}</button></form>'
    )
    return (
        f'<!DOCTYPE html><html lang="{escape(locale)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} · {escape(words['help'])}</title>{head_links}<style>{_STYLE}{rule}</style></head>"
        f'<body><a class="skip" href="#main">{escape(words["skip"])}</a>'
        f'<header>{mark}<p><a href="{escape(home)}">{escape(words["help"])}</a></p>{search}</header>'
        f'<main id="main">{body}</main><footer><p>{escape(words["help"])}</p></footer></body></html>'
    )


def message_page(title: str, detail: str, *, locale: str, home: str, brand: BrandLook | None = None) -> str:
    body = f"<h1>{escape(title)}</h1><p>{escape(detail)}</p>"
    return document(title, body, locale=locale, home=home, brand=brand)


def article_page(
    view: ArticleView,
    *,
    url_of: dict[str, str],
    home: str,
    answer_action: str | None,
    token: str | None,
    brand: BrandLook | None = None,
) -> str:
    """The article in its translation; with a suggestion's token, the form asking whether it answered."""
    translation = view.translation
    words = texts(translation.locale)
    alternates = "".join(
        f'<link rel="alternate" hreflang="{escape(locale)}" href="{escape(url)}">' for locale, url in url_of.items()
    )
    body = f"<article><h1>{escape(translation.title)}</h1>{translation.body_html}</article>"
    if answer_action is not None and token is not None:
        body += (
            f'<form method="post" action="{escape(answer_action)}"><fieldset>'
            f"<legend>{escape(words['question'])}</legend>"
            f'<input type="hidden" name="s" value="{escape(token)}">'
            f'<button class="yes" type="submit" name="answer" value="yes">{escape(words["yes"])}</button>'
            f'<button class="no" type="submit" name="answer" value="no">{escape(words["no"])}</button>'
            "</fieldset></form>"
        )
    return document(
        translation.title,
        body,
        locale=translation.locale,
        home=home,
        canonical=url_of[translation.locale],
        alternates=alternates,
        brand=brand,
    )


def answered_page(outcome: str, *, locale: str, home: str, article_url: str, brand: BrandLook | None = None) -> str:
    words = texts(locale)
    body = (
        f"<h1>{escape(words['help'])}</h1>"
        f'<p class="status" role="status">{escape(words[outcome])}</p>'
        f'<p><a href="{escape(article_url)}">{escape(words["back"])}</a></p>'
    )
    return document(words["help"], body, locale=locale, home=home, brand=brand)


def _article_list(rows: list[PublishedRow], url_of: Callable[[PublishedRow], str]) -> str:
    links = "".join(f'<li><a href="{escape(url_of(row))}">{escape(row.title)}</a></li>' for row in rows)
    return f"<ul>{links}</ul>"


def home_page(
    sections: list[SectionView],
    loose: list[PublishedRow],
    *,
    locale: str,
    home: str,
    canonical: str,
    section_url: Callable[[SectionView], str],
    article_url: Callable[[PublishedRow], str],
    brand: BrandLook | None = None,
) -> str:
    """The brand's help center in one locale: each section with its articles, then those in none."""
    words = texts(locale)
    parts = [f"<h1>{escape(words['help'])}</h1>"]
    for view in sections:
        heading = f'<a href="{escape(section_url(view))}">{escape(view.section.name)}</a>'
        parts.append(f"<section><h2>{heading}</h2>{_article_list(view.articles, article_url)}</section>")
    if loose:
        parts.append(f"<section><h2>{escape(words['other'])}</h2>{_article_list(loose, article_url)}</section>")
    if not sections and not loose:
        parts.append(f"<p>{escape(words['no-articles'])}</p>")
    return document(words["help"], "".join(parts), locale=locale, home=home, canonical=canonical, brand=brand)


def section_page(
    view: SectionView,
    *,
    locale: str,
    home: str,
    canonical: str,
    article_url: Callable[[PublishedRow], str],
    brand: BrandLook | None = None,
) -> str:
    words = texts(locale)
    description = f"<p>{escape(view.section.description)}</p>" if view.section.description else ""
    listed = _article_list(view.articles, article_url) if view.articles else f"<p>{escape(words['no-articles'])}</p>"
    body = f"<h1>{escape(view.section.name)}</h1>{description}{listed}"
    return document(view.section.name, body, locale=locale, home=home, canonical=canonical, brand=brand)


def search_page(
    query: str, hits: list[HelpSearchHit], *, locale: str, home: str, brand: BrandLook | None = None
) -> str:
    """Search results: each article's title linked and its passage with the matching words marked."""
    words = texts(locale)
    if hits:
        # The snippet is HTML the search made: the body's text escaped, matches in <mark>.
        results = "".join(
            f'<li><h2><a href="{escape(hit.url)}">{escape(hit.title)}</a></h2><p>{hit.snippet}</p></li>' for hit in hits
        )
        listed = f"<ol>{results}</ol>"
    else:
        listed = f'<p role="status">{escape(words["no-results"])}</p>'
    body = f"<h1>{escape(words['results'])}</h1><p>{escape(words['results-for'])}: <q>{escape(query)}</q></p>{listed}"
    return document(words["results"], body, locale=locale, home=home, query=query, brand=brand)


def sitemap(urls: list[tuple[str, list[tuple[str, str]], str]]) -> str:
    """``sitemap.xml`` of ``(address, [(hreflang, alternate address)], last modified)``."""
    entries = "".join(
        f"<url><loc>{escape(url)}</loc><lastmod>{escape(modified)}</lastmod>"
        + "".join(
            f'<xhtml:link rel="alternate" hreflang="{escape(lang)}" href="{escape(other)}"/>'
            for lang, other in alternates
        )
        + "</url>"
        for url, alternates, modified in urls
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:xhtml="http://www.w3.org/1999/xhtml">'
        f"{entries}</urlset>"
    )
