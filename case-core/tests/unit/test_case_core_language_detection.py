"""Detection on the project's labelled short support messages: at least 95 % right among those it labels,
the shortest left to the fallback."""

from __future__ import annotations

from omnicase.case_core.language_samples import SAMPLES
from omnicase.kit.languages import LanguageDetector


def test_at_least_95_percent_of_the_messages_it_labels_are_right_and_the_shortest_are_left_to_the_fallback() -> None:
    detector = LanguageDetector(SAMPLES)
    labelled = right = 0
    for language, texts in SAMPLES.items():
        for text in texts:
            found = detector.detect(text).language
            labelled += found is not None
            right += found == language
        # A word of greeting or assent ("ok", "Hallo", "네") says too little.
        assert all(detector.detect(text).language is None for text in texts[-2:]), language
    total = sum(len(texts) for texts in SAMPLES.values())
    assert right / labelled >= 0.95
    assert labelled / total >= 0.8, "most messages of a sentence are labelled"
