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


def test_korean_and_chinese_carry_every_text_english_has() -> None:
    catalog = locales.catalog()
    for locale in ("ko", "zh"):
        for section, texts in catalog["en"].items():
            assert set(catalog[locale].get(section, {})) == set(texts), f"{locale}.toml [{section}]"


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("zh-CN", "提交"), ("ko", "보내기"), ("KO-kr", "보내기"), ("fr", "Envoyer"), ("sv", "Send")],
)
def test_a_text_comes_in_the_locale_then_its_base_language_then_english(locale: str, expected: str) -> None:
    assert locales.text("form", "submit", locale) == expected


def test_a_key_a_locale_file_leaves_out_is_english() -> None:
    assert "honeypot" not in locales.catalog()["de"]["form"]
    assert locales.text("form", "honeypot", "de") == locales.text("form", "honeypot", "en")


def test_a_key_nobody_has_is_a_programming_error() -> None:
    with pytest.raises(KeyError):
        locales.text("form", "no-such-key", "ko")


def test_a_whole_section_is_englishs_overlaid_by_the_base_language_and_the_locale() -> None:
    chinese = locales.section("help_center", "zh-TW")
    assert chinese == locales.catalog()["zh"]["help_center"]
    assert locales.section("help_center", "fr") == locales.catalog()["en"]["help_center"]
    assert locales.section("form", "de")["submit"] == "Senden"
    assert locales.section("form", "de")["honeypot"] == locales.text("form", "honeypot", "en")
