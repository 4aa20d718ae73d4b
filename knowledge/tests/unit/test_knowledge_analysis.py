"""Terms per language, the language of a query, and highlighted snippets."""

from __future__ import annotations

import pytest

from omnicase.knowledge.locales import canonical_locale, language_of
from omnicase.knowledge.search.analysis import TextAnalyzer
from omnicase.knowledge.search.snippets import lexemes, snippet


@pytest.fixture(scope="module")
def analyzer() -> TextAnalyzer:
    return TextAnalyzer(["en", "de", "fr"])


def test_korean_is_cut_into_content_morphemes(analyzer: TextAnalyzer) -> None:
    terms = analyzer.terms("비밀번호를 어떻게 바꾸나요?", "ko")
    assert terms.config == "simple"
    assert terms.text.split() == ["비밀", "번호", "바꾸"]
    # The same stem whatever the ending, so a question finds an instruction.
    assert "바꾸" in analyzer.query_words("주소를 바꿀 수 있나요", "ko")


def test_a_korean_compound_meets_its_parts_however_kiwi_cut_it(analyzer: TextAnalyzer) -> None:
    # In a title Kiwi keeps 비밀번호 whole; alone or before a particle it cuts it in two.
    whole = analyzer.terms("비밀번호 재설정", "ko").text.split()
    cut = analyzer.query_words("비밀번호를 잊어버렸어요", "ko")
    assert {"비밀", "번호"} <= set(whole)
    assert {"비밀", "번호"} <= set(cut)


def test_chinese_is_cut_into_words_without_function_words(analyzer: TextAnalyzer) -> None:
    assert analyzer.terms("如何重置我的密码？", "zh").text.split() == ["重置", "密码"]


def test_stemmed_languages_are_left_to_postgresql(analyzer: TextAnalyzer) -> None:
    assert analyzer.terms("Resetting passwords", "en").config == "english"
    assert analyzer.terms("Passwort zurücksetzen", "de").config == "german"
    assert analyzer.terms("Salasana", "fi").config == "finnish"
    assert analyzer.terms("パスワード", "ja").config == "simple"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("비밀번호 변경", "ko"),
        ("忘记密码", "zh"),
        ("パスワードを忘れた", "ja"),
        ("mot de passe oublié", "fr"),
        ("how do I get a refund", "en"),
    ],
)
def test_the_language_of_a_query_is_its_scripts_or_lingua_s_guess(
    analyzer: TextAnalyzer, text: str, language: str
) -> None:
    assert analyzer.language(text) == language


def test_locales_are_written_canonically() -> None:
    assert [canonical_locale(x) for x in ("KO", "zh-cn", "pt-br", "zh-Hant")] == ["ko", "zh-CN", "pt-BR", "zh-Hant"]
    assert language_of("zh-TW") == "zh"


def test_snippets_escape_the_text_and_mark_what_matched() -> None:
    text = "Intro. " * 30 + "To reset <b>passwords</b>, open Settings." + " More." * 60
    marked = snippet(text, lexemes("'reset' | 'password'"))
    assert marked.startswith("…")
    assert marked.endswith("…")
    assert "To <mark>reset</mark> &lt;b&gt;<mark>passwords</mark>&lt;/b&gt;" in marked
    assert snippet("설정에서 비밀번호를 바꾸세요.", ["비밀", "번호"]) == "설정에서 <mark>비밀번호</mark>를 바꾸세요."
    assert snippet("Nothing matches", []) == "Nothing matches"
