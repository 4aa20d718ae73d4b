"""The bench's relevance sets label every question with an article they have, in each language."""

from omnicase.knowledge.relevance import LANGUAGES, TOPICS
from omnicase.knowledge.relevance_held_out import HELD_OUT


def test_the_held_out_set_asks_at_least_20_questions_per_language_each_about_an_article_of_the_set() -> None:
    topics = {topic.key for topic in TOPICS}
    assert set(HELD_OUT) == set(LANGUAGES)
    for language, asked in HELD_OUT.items():
        assert len(asked) >= 20, language
        assert {key for key, _ in asked} <= topics, language
        assert len({question for _, question in asked}) == len(asked), f"a question twice in {language}"
