"""The kit's language detector: scripts decide where they can, short and mixed texts get no guess."""

from __future__ import annotations

import pytest

from omnicase.kit.languages import LanguageDetector, script_language

DETECTOR = LanguageDetector(["en", "de", "fr", "es"])


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("주문한 상품이 아직 도착하지 않았어요", "ko"),
        ("我的订单还没有到，能帮我查一下吗", "zh"),  # noqa: RUF001 (Chinese punctuation)
        ("注文した商品がまだ届きません", "ja"),
        ("My order has not arrived yet, can you check where it is?", "en"),
        ("Meine Bestellung ist immer noch nicht angekommen.", "de"),
    ],
)
def test_a_message_of_a_few_words_is_told_by_its_script_or_its_words(text: str, language: str) -> None:
    assert DETECTOR.detect(text).language == language


@pytest.mark.parametrize(
    "text",
    [
        "ok",
        "Danke!",
        "Hello",
        "감사",  # two Hangul letters: too little to go on
        "Please help with order 李明 asked about yesterday, thanks",  # mostly English with a Chinese name
        "我们的 order number is missing from the invoice again",  # half and half
    ],
)
def test_a_short_or_mixed_message_gets_no_guess(text: str) -> None:
    assert DETECTOR.detect(text).language is None


def test_a_language_nobody_offered_is_never_the_answer() -> None:
    # Italian is not among the detector's languages: the text is some other one's or none's.
    found = DETECTOR.detect("Il mio ordine non è ancora arrivato, potete controllare dov'è?").language
    assert found in {None, "en", "de", "fr", "es"}
    assert found is None, "a low-confidence choice among the wrong languages is no answer"


def test_with_one_modelled_language_there_is_nothing_to_choose_among() -> None:
    only = LanguageDetector(["en", "ko"])
    assert only.detect("Meine Bestellung ist immer noch nicht angekommen.").language is None
    assert only.detect("주문한 상품이 아직 도착하지 않았어요").language == "ko"


def test_a_guess_always_answers_for_search() -> None:
    assert DETECTOR.guess("ok", "en") in {"en", "de", "fr", "es"}
    assert script_language("비밀번호") == "ko"
    assert LanguageDetector(["en"]).guess("Passwort vergessen", "en") == "en"
