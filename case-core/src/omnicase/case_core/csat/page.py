"""The public survey page: server-rendered HTML, no JavaScript, every control labelled.

Landmarks (``header``, ``main``), one ``h1``, the rating as a fieldset of radio buttons with
a legend, the reason and comment with their labels, errors in an ``alert`` summary linked to
their fields (``aria-invalid``, ``aria-describedby``). Every value is escaped.

The page's own words come in the case's language where the product ships them (English, Korean,
Chinese: its base language, else English), and the document says which (``lang``); the survey's
texts (the admin's, per locale) are marked with their own ``lang`` where they are in another.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from omnicase.case_core.csat.service import MAX_COMMENT, SurveyView
from omnicase.kit import locales
from omnicase.kit.brands import masthead
from omnicase.kit.errors import FieldError
from omnicase.kit.events import BrandLook

_STYLE = """
body{font-family:system-ui,sans-serif;margin:0;color:#1b1b1b;background:#f6f6f6;line-height:1.5}
header,main{max-width:36rem;margin:0 auto;padding:1rem 1.5rem}
main{background:#fff;border-radius:.5rem}
fieldset{border:1px solid #767676;border-radius:.25rem;margin:1rem 0;padding:.5rem 1rem}
label{display:block;margin:.25rem 0}
select,textarea{font:inherit;width:100%;box-sizing:border-box;margin-bottom:1rem}
button{font:inherit;padding:.5rem 1.25rem;background:#0b5cad;color:#fff;border:0;border-radius:.25rem}
button:focus,select:focus,textarea:focus,input:focus{outline:3px solid #f5a623;outline-offset:2px}
.status{background:#e7f4e4;border-left:4px solid #2e7d32;padding:.5rem 1rem}
.errors{background:#fdecea;border-left:4px solid #b3261e;padding:.5rem 1rem}
.error{color:#b3261e}
"""


@dataclass(frozen=True)
class PageWords:
    """The page's own words in one locale."""

    survey: str
    title: str  # {number}
    saved: str  # {label}: the rating saved
    may_change: str
    not_saved: str
    legend: str
    reason: str
    no_reason: str
    comment: str
    save: str
    closed: str
    closed_detail: str
    bad_link: str
    bad_link_detail: str


def page_locale(language: str | None) -> str:
    """The locale of the page's own words for a case's language: itself, its base language, English."""
    return locales.speaking("csat_page", language or "")


def page_words(locale: str) -> PageWords:
    """The page's own words in ``locale`` (the kit's locale files)."""
    return PageWords(**locales.section("csat_page", locale))


def _said(error: FieldError, locale: str) -> str:
    """A field's message in the page's language (the kit's locale files), the service's own where they have none."""
    return locales.section("csat_errors", locale).get(error.code, error.message).format(limit=MAX_COMMENT)


def _document(title: str, body: str, lang: str = "en", brand: BrandLook | None = None) -> str:
    mark, rule = masthead(brand)
    return (
        f'<!DOCTYPE html><html lang="{escape(lang)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex">'
        f"<title>{escape(title)}</title><style>{_STYLE}{rule}</style></head>"
        f"<body><header>{mark}<p>{escape(page_words(lang).survey)}"
        f'</p></header><main id="main">{body}</main></body></html>'
    )


def message_page(*, closed: bool, locale: str) -> str:
    """A page that only says the survey is closed, or its link does not work, in ``locale``."""
    words = page_words(locale)
    title, detail = (words.closed, words.closed_detail) if closed else (words.bad_link, words.bad_link_detail)
    return _document(title, f"<h1>{escape(title)}</h1><p>{escape(detail)}</p>", page_locale(locale))


def survey_page(
    view: SurveyView,
    action: str,
    *,
    saved: bool,
    errors: Sequence[FieldError] = (),
    rating: str | None = None,
    reason: str | None = None,
    comment: str | None = None,
    brand: BrandLook | None = None,
) -> str:
    """The survey of ``view``: its rating confirmed (``saved``) and the form to add to it or change it,
    under its case's ``brand`` (logo or name, colour) where it has one."""
    survey, texts = view.survey, view.texts
    lang = page_locale(view.case.language)
    words = page_words(lang)

    def theirs(label: str) -> str:
        """A survey text, marked with its locale where the page's words are in another."""
        if view.texts_locale == lang:
            return escape(label)
        return f'<span lang="{escape(view.texts_locale)}">{escape(label)}</span>'

    rating = rating if rating is not None else survey.rating or view.link
    reason = reason if reason is not None else survey.reason or ""
    comment = comment if comment is not None else survey.comment or ""
    by_field = {error.field: _said(error, lang) for error in errors}
    parts = [f"<h1>Case #{view.case.number}: {escape(view.case.subject)}</h1>"]
    if errors:
        items = "".join(
            f'<li><a href="#{escape(error.field)}">{escape(by_field[error.field])}</a></li>' for error in errors
        )
        parts.append(
            '<div class="errors" role="alert" aria-labelledby="errors-title">'
            f'<h2 id="errors-title">{escape(words.not_saved)}</h2><ul>{items}</ul></div>'
        )
    elif saved and survey.rating is not None:
        label = texts.good if survey.rating == "good" else texts.bad
        saved_text = escape(words.saved).replace("{label}", f"<strong>{theirs(label)}</strong>")
        parts.append(f'<div class="status" role="status"><p>{saved_text}</p><p>{escape(words.may_change)}</p></div>')

    def described(field: str) -> str:
        if field not in by_field:
            return ""
        return f' aria-invalid="true" aria-describedby="{field}-error"'

    def message(field: str) -> str:
        return f'<p class="error" id="{field}-error">{escape(by_field[field])}</p>' if field in by_field else ""

    radios = "".join(
        f'<label><input type="radio" name="rating" value="{value}"{" checked" if rating == value else ""}'
        f"{' id=rating' if value == 'good' else ''}{described('rating')}> {theirs(label)}</label>"
        for value, label in (("good", texts.good), ("bad", texts.bad))
    )
    options = f'<option value="">{escape(words.no_reason)}</option>' + "".join(
        f'<option value="{escape(option)}"{" selected" if option == reason else ""}>{escape(option)}</option>'
        for option in view.reasons
    )
    reason_field = (
        f'<label for="reason">{escape(words.reason)}</label>'
        f'{message("reason")}<select id="reason" name="reason"{described("reason")}>{options}</select>'
        if view.reasons
        else ""
    )
    parts.append(
        f'<form method="post" action="{escape(action)}">'
        f"<fieldset><legend>{escape(words.legend)}</legend>{message('rating')}{radios}"
        "</fieldset>"
        f"{reason_field}"
        f'<label for="comment">{escape(words.comment)}</label>{message("comment")}'
        f'<textarea id="comment" name="comment" rows="5" maxlength="{MAX_COMMENT}"{described("comment")}>'
        f"{escape(comment)}</textarea>"
        f'<button type="submit">{escape(words.save)}</button></form>'
    )
    return _document(words.title.format(number=view.case.number), "".join(parts), lang, brand)
