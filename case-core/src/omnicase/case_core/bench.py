"""case-core's rows in ``omnicase bench``: language detection of short support messages.

The detector a desk with brands in the labelled set's eight languages would run
(:class:`omnicase.kit.languages.LanguageDetector`, case-core's threshold), on the project's
labelled set (:mod:`omnicase.case_core.language_samples`: 25 messages each in English, German,
French, Spanish, Portuguese, Italian, Korean and Chinese):

- accuracy: the share right among the messages it labels and the share it leaves to the
  fallback (the contact's locale, the brand's default), in the row's name, over the whole set
  and per threshold (0.4 to 0.8), so the threshold's trade is shown;
- cost: ``BENCH_LANGUAGE_MESSAGES`` (20,000) detections, the set over and over, one at a time
  in this process, as the intake runs them: per-message latency and CPU.
"""

from __future__ import annotations

import time

from omnicase.case_core.language_samples import SAMPLES
from omnicase.case_core.settings import CaseCoreSettings
from omnicase.devtools.bench.measure import CpuMeter, Measurement
from omnicase.devtools.bench.services import BenchTarget
from omnicase.kit.languages import LanguageDetector

THRESHOLDS = (0.4, 0.5, 0.6, 0.7, 0.8)


def _accuracy(detector: LanguageDetector) -> tuple[int, int, int]:
    """(messages, labelled, right) over the labelled set."""
    messages = labelled = right = 0
    for language, texts in SAMPLES.items():
        for text in texts:
            found = detector.detect(text).language
            messages += 1
            labelled += found is not None
            right += found == language
    return messages, labelled, right


def _named(threshold: float, messages: int, labelled: int, right: int) -> str:
    return (
        f"case-core: language of {messages} short messages in {len(SAMPLES)} languages at confidence {threshold}: "
        f"{100 * right / max(labelled, 1):.1f} % right among the {100 * labelled / messages:.1f} % labelled, "
        f"{100 * (messages - labelled) / messages:.1f} % left to the fallback"
    )


async def bench(target: BenchTarget) -> list[Measurement]:
    count = target.size("BENCH_LANGUAGE_MESSAGES", 20_000)
    configured = CaseCoreSettings.model_fields["language_min_confidence"].get_default()
    # First: the models load in this row (lingua keeps them per process).
    detector = LanguageDetector(SAMPLES, min_confidence=configured)
    started = time.perf_counter()
    detector.warm()
    loaded = time.perf_counter() - started
    texts = [text for texts in SAMPLES.values() for text in texts]
    latencies: list[float] = []
    meter = CpuMeter()
    started = time.perf_counter()
    for number in range(count):
        before = time.perf_counter()
        detector.detect(texts[number % len(texts)])
        latencies.append((time.perf_counter() - before) * 1000)
    rows = [
        Measurement(
            key="case_core.language_detection",
            name=(
                f"case-core: language detection per message among {len(SAMPLES)} languages, one at a time "
                f"(models loaded once in {loaded:.1f} s)"
            ),
            count=count,
            seconds=time.perf_counter() - started,
            latencies_ms=latencies,
            latency_from="a message's text to its language (or none)",
            cpu=meter.usage(),
            compare_to_ceiling=False,
        )
    ]
    for threshold in THRESHOLDS:
        detector = LanguageDetector(SAMPLES, min_confidence=threshold)
        messages, labelled, right = _accuracy(detector)
        rows.append(
            Measurement(
                key=f"case_core.language_accuracy_{int(threshold * 100)}",
                name=_named(threshold, messages, labelled, right)
                + (" (the configured threshold)" if threshold == configured else ""),
                count=messages,
                seconds=None,
            )
        )
    return rows
