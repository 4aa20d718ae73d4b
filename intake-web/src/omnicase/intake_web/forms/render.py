"""HTML for web forms: the embeddable snippet, the hosted page, and answer pages for browsers.

The snippet is a plain ``<form>`` that works with no JavaScript: native labels, a
fieldset with a legend, ``required`` and input types for the browser's own checks,
every help text and error message tied to its input with ``aria-describedby``. The
optional script only improves it: a fresh submission id and timestamp per page view,
inline validation, and a submit button that cannot be pressed twice.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from html import escape

from omnicase.intake_web.forms.definition import StoredForm, effective_type
from omnicase.intake_web.forms.messages import say
from omnicase.intake_web.forms.schemas import CaptchaProvider, FieldType, FormField
from omnicase.intake_web.forms.validation import EMAIL_PATTERN
from omnicase.kit import locales
from omnicase.kit.brands import masthead
from omnicase.kit.events import BrandLook

CAPTCHA_WIDGETS: dict[CaptchaProvider, tuple[str, str]] = {
    CaptchaProvider.RECAPTCHA: ("g-recaptcha", "https://www.google.com/recaptcha/api.js"),
    CaptchaProvider.HCAPTCHA: ("h-captcha", "https://js.hcaptcha.com/1/api.js"),
    CaptchaProvider.TURNSTILE: ("cf-turnstile", "https://challenges.cloudflare.com/turnstile/v0/api.js"),
}

INPUT_TYPES = {
    FieldType.TEXT: "text",
    FieldType.EMAIL: "email",
    FieldType.TEL: "tel",
    FieldType.URL: "url",
    FieldType.NUMBER: "number",
}
AUTOCOMPLETE = {"name": "name", "email": "email", "phone": "tel"}


@dataclass
class RenderState:
    """What a re-rendered form shows: the visitor's values and the server's messages."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    message: str | None = None


def _pick(texts: dict[str, str], locale: str, fallback: str) -> str:
    return texts.get(locale) or texts.get(locale.split("-")[0]) or texts.get(fallback) or next(iter(texts.values()), "")


def _ui(key: str, locale: str) -> str:
    return locales.text("form", key, locale)


def render_form(
    form: StoredForm,
    *,
    action: str,
    token_url: str,
    locale: str,
    timestamp: str,
    submission_id: str,
    state: RenderState | None = None,
    script: bool = True,
) -> str:
    spec = form.spec
    state = state or RenderState()
    base = f"oc-{form.id.hex[:12]}"
    title = _pick(spec.title, locale, spec.default_locale) or spec.name
    parts = [
        _style(base),
        f'<form id="{base}" class="omnicase-form" method="post" action="{escape(action)}" '
        f'enctype="multipart/form-data" accept-charset="utf-8" lang="{escape(locale)}">',
        "<fieldset>",
        f"<legend>{escape(title)}</legend>",
    ]
    if state.errors or state.message:
        parts.append(f'<div id="{base}-summary" class="omnicase-summary" role="alert" tabindex="-1">')
        if state.message:
            parts.append(f"<p>{escape(state.message)}</p>")
        if state.errors:
            parts.append(f"<p>{escape(_ui('summary', locale))}</p><ul>")
            labels = {f.key: _pick(f.labels, locale, spec.default_locale) for f in spec.fields}
            for key, message in state.errors.items():
                target = f"{base}-{key}" if key in labels else base
                parts.append(
                    f'<li><a href="#{escape(target)}">{escape(labels.get(key, key))}: {escape(message)}</a></li>'
                )
            parts.append("</ul>")
        parts.append("</div>")
    for form_field in spec.fields:
        parts.append(_render_field(form_field, base, locale, spec.default_locale, state))
    captcha = spec.spam.captcha
    if captcha is not None:
        css_class, _ = CAPTCHA_WIDGETS[captcha.provider]
        parts.append(f'<div class="{css_class}" data-sitekey="{escape(captcha.site_key)}"></div>')
    honeypot = spec.spam.honeypot_field
    parts += [
        # Hidden from people and assistive technology, tempting to bots.
        '<div aria-hidden="true" style="position:absolute;left:-10000px;top:auto;width:1px;height:1px;'
        'overflow:hidden">'
        f'<label for="{base}-{honeypot}">{escape(_ui("honeypot", locale))}</label>'
        f'<input type="text" id="{base}-{honeypot}" name="{honeypot}" value="" tabindex="-1" autocomplete="off">'
        "</div>",
        f'<input type="hidden" name="_ts" value="{escape(timestamp)}">',
        f'<input type="hidden" name="_sid" value="{escape(submission_id)}">',
        f'<input type="hidden" name="_locale" value="{escape(locale)}">',
        f'<button type="submit" class="omnicase-submit">{escape(_ui("submit", locale))}</button>',
        "</fieldset>",
        "</form>",
    ]
    if captcha is not None:
        _, script_url = CAPTCHA_WIDGETS[captcha.provider]
        parts.append(f'<script src="{script_url}" async defer></script>')
    if script:
        parts.append(_script(base, token_url, locale))
    return "\n".join(parts)


def _style(base: str) -> str:
    """The few rules the form needs to read well anywhere, scoped to it so the site's own CSS wins elsewhere."""
    scope = f"#{base}"
    return (
        "<style>"
        f"{scope} .omnicase-field{{margin:1rem 0}}{scope} .omnicase-field label{{display:block;font-weight:600}}"
        f"{scope} .omnicase-field input[type=checkbox]+label{{display:inline}}"
        f"{scope} .omnicase-error{{color:#b00020;margin:.25rem 0}}{scope} .omnicase-help{{color:#555;margin:.25rem 0}}"
        f"{scope} .omnicase-sr{{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}}"
        f"{scope} .omnicase-summary{{border:2px solid #b00020;padding:.5rem 1rem}}"
        "</style>"
    )


def _render_field(form_field: FormField, base: str, locale: str, default_locale: str, state: RenderState) -> str:
    kind = effective_type(form_field)
    key = form_field.key
    input_id = f"{base}-{key}"
    label = escape(_pick(form_field.labels, locale, default_locale))
    help_text = _pick(form_field.help, locale, default_locale) if form_field.help else ""
    error = state.errors.get(key)
    described = [f"{input_id}-help"] if help_text else []
    described.append(f"{input_id}-error")
    attributes = [f'id="{input_id}"', f'name="{key}"', f'aria-describedby="{" ".join(described)}"']
    if form_field.required:
        attributes += ["required", 'aria-required="true"']
    if error:
        attributes.append('aria-invalid="true"')
    if form_field.max_length and kind not in (FieldType.NUMBER, FieldType.CHECKBOX, FieldType.SELECT):
        attributes.append(f'maxlength="{form_field.max_length}"')
    if key in AUTOCOMPLETE:
        attributes.append(f'autocomplete="{AUTOCOMPLETE[key]}"')
    value = state.values.get(key, "")
    marker = ""
    if form_field.required:
        required_text = escape(_ui("required", locale))
        marker = (
            ' <span class="omnicase-required" aria-hidden="true">*</span>'
            f'<span class="omnicase-sr">({required_text})</span>'
        )
    if kind == FieldType.TEXTAREA:
        control = f'<textarea {" ".join(attributes)} rows="6">{escape(value)}</textarea>'
    elif kind == FieldType.SELECT:
        options = [f'<option value="">{escape(_ui("choose", locale))}</option>']
        for option in form_field.options:
            selected = " selected" if option.value == value else ""
            text = _pick(option.labels, locale, default_locale) or option.value
            options.append(f'<option value="{escape(option.value)}"{selected}>{escape(text)}</option>')
        control = f"<select {' '.join(attributes)}>{''.join(options)}</select>"
    elif kind == FieldType.CHECKBOX:
        checked = " checked" if value else ""
        control = f'<input type="checkbox" value="yes" {" ".join(attributes)}{checked}>'
    elif kind == FieldType.FILE:
        control = f'<input type="file" multiple {" ".join(attributes)}>'
    else:
        control = f'<input type="{INPUT_TYPES[kind]}" {" ".join(attributes)} value="{escape(value)}">'
    help_html = f'<p id="{input_id}-help" class="omnicase-help">{escape(help_text)}</p>' if help_text else ""
    error_html = f'<p id="{input_id}-error" class="omnicase-error" aria-live="polite">{escape(error or "")}</p>'
    if kind == FieldType.CHECKBOX:
        return (
            f'<div class="omnicase-field omnicase-{key}">{control} <label for="{input_id}">{label}{marker}</label>'
            f"{help_html}{error_html}</div>"
        )
    return (
        f'<div class="omnicase-field omnicase-{key}"><label for="{input_id}">{label}{marker}</label>'
        f"{control}{help_html}{error_html}</div>"
    )


def _script(base: str, token_url: str, locale: str) -> str:
    messages = {key: say(key, locale) for key in ("required", "email", "checkbox")}
    config = json.dumps({"form": base, "tokenUrl": token_url, "email": EMAIL_PATTERN.pattern, "messages": messages})
    # Progressive enhancement only: everything above works without it.
    return (
        "<script>(function(c){var f=document.getElementById(c.form);if(!f)return;"
        # Errors from the server: move focus to their summary so screen readers announce it.
        "var s=document.getElementById(c.form+'-summary');if(s)s.focus();"
        "var sid=f.elements['_sid'];if(window.crypto&&crypto.randomUUID)sid.value=crypto.randomUUID();"
        "if(window.fetch)fetch(c.tokenUrl,{headers:{Accept:'application/json'}})"
        ".then(function(r){return r.ok?r.json():null})"
        ".then(function(d){if(!d)return;if(d.token)f.elements['_ts'].value=d.token;"
        "if(d.submission_id)sid.value=d.submission_id}).catch(function(){});"
        "f.noValidate=true;var re=new RegExp(c.email);"
        "function check(el){var m='';if(el.type==='checkbox'){if(el.required&&!el.checked)m=c.messages.checkbox}"
        "else if(el.type!=='file'){var v=(el.value||'').trim();if(el.required&&!v)m=c.messages.required;"
        "else if(v&&el.type==='email'&&!re.test(v))m=c.messages.email}"
        "else if(el.required&&!el.files.length)m=c.messages.required;"
        "var e=document.getElementById(el.id+'-error');if(e)e.textContent=m;"
        "if(m)el.setAttribute('aria-invalid','true');else el.removeAttribute('aria-invalid');return !m}"
        "var fields=f.querySelectorAll('.omnicase-field input,.omnicase-field textarea,.omnicase-field select');"
        "Array.prototype.forEach.call(fields,function(el){el.addEventListener('blur',function(){check(el)})});"
        "f.addEventListener('submit',function(ev){var first=null;Array.prototype.forEach.call(fields,function(el){"
        "if(!check(el)&&!first)first=el});if(first){ev.preventDefault();first.focus();return}"
        "var b=f.querySelector('button[type=submit]');if(b){if(b.disabled){ev.preventDefault();return}"
        "setTimeout(function(){b.disabled=true},0)}});"
        f"}})({config});</script>"
    )


def page(title: str, body: str, *, locale: str = "en", brand: BrandLook | None = None) -> str:
    """A complete, minimal HTML page (hosted forms and answers to browsers); a brand's page wears its
    mark in a header above ``body`` and its colour as the header's rule (the kit's ``masthead``)."""
    mark, rule = masthead(brand)
    header = f"<header>{mark}</header>" if mark else ""
    return (
        f'<!doctype html>\n<html lang="{escape(locale)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}"
        f"{rule}</style></head><body>{header}{body}</body></html>"
    )


def refusal_words(reason: str, locale: str) -> tuple[str, str]:
    """The title and the words a browser shows for a submission refused for ``reason``, in ``locale``
    (the kit's ``form_pages``; a reason without words of its own gets ``other``'s)."""
    words = locales.section("form_pages", locale)
    key = reason if f"{reason}_title" in words else "other"
    return words[f"{key}_title"], words[key]


def refusal_message(reason: str, locale: str) -> str | None:
    """What a form shown again says above its fields for ``reason``, in ``locale`` (None: nothing)."""
    return locales.section("form_pages", locale).get(reason)


def message_page(reason: str, locale: str, *, back_url: str | None = None) -> str:
    """The page a browser gets when a form is not sent (or not shown), in the visitor's language."""
    lang = locales.speaking("form_pages", locale)
    title, detail = refusal_words(reason, locale)
    back = ""
    if back_url is not None:
        back = f'<p><a href="{escape(back_url)}">{escape(locales.text("form_pages", "back", locale))}</a></p>'
    body = f'<main><h1>{escape(title)}</h1><p role="alert">{escape(detail)}</p>{back}</main>'
    return page(title, body, locale=lang)


def new_submission_id() -> str:
    return str(uuid.uuid4())
