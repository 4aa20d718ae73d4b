"""`omnicase dlq` refuses a topic the suite does not have before it touches the broker."""

from __future__ import annotations

import pytest

from omnicase.cli import main


@pytest.mark.parametrize("command", ["list", "replay"])
def test_an_unknown_topic_is_named_with_the_suites_topics_and_exits_2(
    command: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1")  # never reached
    assert main(["dlq", command, "cases"]) == 2
    error = capsys.readouterr().err
    assert "omnicase dlq: unknown topic 'cases'" in error
    assert "case.events" in error
