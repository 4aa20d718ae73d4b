"""The public survey page: server-rendered HTML, no JavaScript, every control labelled.

Landmarks (``header``, ``main``), one ``h1``, the rating as a fieldset of radio buttons with
a legend, the reason and comment with their labels, errors in an ``alert`` summary linked to
their fields (``aria-invalid``, ``aria-describedby``). Every value is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from omnicase.case_core.csat.service import MAX_COMMENT, SurveyView
from omnicase.kit.errors import FieldError

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


def _document(title: str, body: str, lang: str = "en") -> str:
    return (
        f'<!DOCTYPE html><html lang="{escape(lang)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f'<body><header><p>Customer satisfaction survey</p></header><main id="main">{body}</main></body></html>'
    )


def message_page(title: str, detail: str) -> str:
    """A page that only says something (an invalid link, a closed survey)."""
    return _document(title, f"<h1>{escape(title)}</h1><p>{escape(detail)}</p>")


def survey_page(
    view: SurveyView,
    action: str,
    *,
    saved: bool,
    errors: Sequence[FieldError] = (),
    rating: str | None = None,
    reason: str | None = None,
    comment: str | None = None,
) -> str:
    """The survey of ``view``: its rating confirmed (``saved``) and the form to add to it or change it."""
    survey, texts = view.survey, view.texts
    rating = rating if rating is not None else survey.rating or view.link
    reason = reason if reason is not None else survey.reason or ""
    comment = comment if comment is not None else survey.comment or ""
    by_field = {error.field: error.message for error in errors}
    parts = [f"<h1>Case #{view.case.number}: {escape(view.case.subject)}</h1>"]
    if errors:
        items = "".join(f'<li><a href="#{escape(error.field)}">{escape(error.message)}</a></li>' for error in errors)
        parts.append(
            '<div class="errors" role="alert" aria-labelledby="errors-title">'
            f'<h2 id="errors-title">Your answer was not saved</h2><ul>{items}</ul></div>'
        )
    elif saved and survey.rating is not None:
        label = texts.good if survey.rating == "good" else texts.bad
        parts.append(
            f'<div class="status" role="status"><p>Thank you. Your rating is saved: <strong>{escape(label)}</strong>.'
            "</p><p>You may add a comment below, or change your rating.</p></div>"
        )

    def described(field: str) -> str:
        if field not in by_field:
            return ""
        return f' aria-invalid="true" aria-describedby="{field}-error"'

    def message(field: str) -> str:
        return f'<p class="error" id="{field}-error">{escape(by_field[field])}</p>' if field in by_field else ""

    radios = "".join(
        f'<label><input type="radio" name="rating" value="{value}"{" checked" if rating == value else ""}'
        f"{' id=rating' if value == 'good' else ''}{described('rating')}> {escape(label)}</label>"
        for value, label in (("good", texts.good), ("bad", texts.bad))
    )
    options = '<option value="">No reason given</option>' + "".join(
        f'<option value="{escape(option)}"{" selected" if option == reason else ""}>{escape(option)}</option>'
        for option in view.reasons
    )
    reason_field = (
        '<label for="reason">If you rated it bad, what was the main reason?</label>'
        f'{message("reason")}<select id="reason" name="reason"{described("reason")}>{options}</select>'
        if view.reasons
        else ""
    )
    parts.append(
        f'<form method="post" action="{escape(action)}">'
        f"<fieldset><legend>How would you rate the support you received?</legend>{message('rating')}{radios}"
        "</fieldset>"
        f"{reason_field}"
        f'<label for="comment">Comment (optional)</label>{message("comment")}'
        f'<textarea id="comment" name="comment" rows="5" maxlength="{MAX_COMMENT}"{described("comment")}>'
        f"{escape(comment)}</textarea>"
        '<button type="submit">Save my answer</button></form>'
    )
    return _document(f"How did we do? Case #{view.case.number}", "".join(parts), view.case.language or "en")
