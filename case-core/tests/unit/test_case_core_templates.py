"""Templates: placeholders, escaping in HTML, unknown names, brand and locale variants."""

from __future__ import annotations

from dataclasses import dataclass

from omnicase.case_core.templates import pick_variant, render_html, render_text, unknown_placeholders

VALUES = {"requester.first_name": "<script>alert(1)</script>", "case.number": "42"}


def test_text_gets_values_as_they_are_and_html_gets_them_escaped() -> None:
    template = "Hi {{ requester.first_name }}, about #{{case.number}} & more\n\nBye <3"
    assert render_text(template, VALUES) == "Hi <script>alert(1)</script>, about #42 & more\n\nBye <3"
    assert render_html(template, VALUES) == (
        "<p>Hi &lt;script&gt;alert(1)&lt;/script&gt;, about #42 &amp; more</p><p>Bye &lt;3</p>"
    )


def test_a_value_cannot_smuggle_in_another_placeholder() -> None:
    assert render_text("{{requester.first_name}}", {"requester.first_name": "{{case.number}}"}) == "{{case.number}}"


def test_unknown_placeholders_are_named() -> None:
    assert unknown_placeholders("Hi {{requester.first_name}} {{requester.shoe_size}} {{ case.nope }}") == [
        "case.nope",
        "requester.shoe_size",
    ]
    assert unknown_placeholders("plain {not a placeholder}") == []


@dataclass
class V:
    text: str
    brand: str | None = None
    locale: str | None = None


VARIANTS = [
    V("de", locale="de"),
    V("acme", brand="acme"),
    V("acme-de", brand="acme", locale="de"),
    V("pt-BR", locale="pt-BR"),
]


def test_the_most_specific_variant_wins() -> None:
    assert pick_variant("default", VARIANTS, "acme", "de-AT") == "acme-de"
    assert pick_variant("default", VARIANTS, "other", "de") == "de"
    assert pick_variant("default", VARIANTS, "acme", "fr") == "acme"
    assert pick_variant("default", VARIANTS, None, "pt-BR") == "pt-BR"
    assert pick_variant("default", VARIANTS, None, "pt") == "default", "pt-BR is not for every Portuguese reader"
    assert pick_variant("default", VARIANTS, None, None) == "default"
