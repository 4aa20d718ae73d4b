"""The product's own words per locale: one file each, English behind every missing key."""

from __future__ import annotations

import re

import pytest

from omnicase.kit import locales

FILLED_IN = re.compile(r"(?<!\{)\{(\w+)\}(?!\})")


def test_english_korean_and_chinese_ship_and_every_file_keeps_to_englishs_keys_and_placeholders() -> None:
    catalog = locales.catalog()
    assert {"en", "ko", "zh"} <= locales.shipped()
    english = catalog["en"]
    for locale, sections in catalog.items():
        for section, texts in sections.items():
            assert section in english, f"{locale}.toml: [{section}] is no section English has"
            for key, value in texts.items():
                assert key in english[section], f"{locale}.toml: {section}.{key} is no key English has"
                # The values code fills in ({limit}); a template's own placeholders ({{requester.name}}) may differ.
                filled = set(FILLED_IN.findall(english[section][key]))
                assert set(FILLED_IN.findall(value)) == filled, f"{locale}.toml: {section}.{key}"


def test_every_locale_file_carries_every_text_english_has() -> None:
    catalog = locales.catalog()
    assert {"ko", "zh", "fr", "de", "es"} <= locales.shipped()
    for locale, sections in catalog.items():
        for section, texts in catalog["en"].items():
            missing = set(texts) - set(sections.get(section, {}))
            assert not missing, f"{locale}.toml [{section}] lacks {sorted(missing)}"


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("zh-CN", "提交"), ("ko", "보내기"), ("KO-kr", "보내기"), ("fr", "Envoyer"), ("sv", "Send")],
)
def test_a_text_comes_in_the_locale_then_its_base_language_then_english(locale: str, expected: str) -> None:
    assert locales.text("form", "submit", locale) == expected


def test_a_locale_without_a_file_is_its_base_languages_then_englishs() -> None:
    assert locales.text("form", "honeypot", "de-CH") == locales.text("form", "honeypot", "de")
    assert locales.text("form", "honeypot", "sv") == locales.text("form", "honeypot", "en")


def test_a_key_nobody_has_is_a_programming_error() -> None:
    with pytest.raises(KeyError):
        locales.text("form", "no-such-key", "ko")


def test_a_whole_section_is_englishs_overlaid_by_the_base_language_and_the_locale() -> None:
    chinese = locales.section("help_center", "zh-TW")
    assert chinese == locales.catalog()["zh"]["help_center"]
    assert locales.section("help_center", "sv") == locales.catalog()["en"]["help_center"]
    assert locales.section("form", "de-AT")["submit"] == "Senden"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("de-AT,de;q=0.9,en;q=0.8", "de"),
        ("sv, zh-CN;q=0.5, ko;q=0.7", "ko"),
        ("en;q=0.1, fr", "fr"),
        ("sv", "en"),
        ("", "en"),
        ("fr;q=oops, es", "es"),
    ],
)
def test_the_visitors_preferred_offered_locale_is_chosen_from_accept_language(header: str, expected: str) -> None:
    assert locales.preferred(header, locales.shipped(), "en") == expected
