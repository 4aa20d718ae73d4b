"""SMS length as providers bill it: GSM-7 or UCS-2, one SMS or concatenated segments."""

from __future__ import annotations

from omnicase.intake_web.channels.providers import plan_sms
from omnicase.intake_web.channels.schemas import SmsConfig
from omnicase.intake_web.channels.sms import measure, split_standalone

ENGLISH = "Your parcel left our warehouse today and should arrive on Thursday. "
KOREAN = "고객님의 소포가 오늘 출고되었으며 목요일에 도착할 예정입니다. "
CHINESE = "您的包裹今天已从仓库发出，预计星期四送达。"  # noqa: RUF001


def _config(**fields: object) -> SmsConfig:
    return SmsConfig.model_validate(
        {"account_sid": "AC1", "auth_token": "tok", "from_number": "+15005550006", **fields}
    )


def test_english_fits_160_characters_in_one_sms_and_161_take_two_segments_of_153() -> None:
    at_limit = measure("a" * 160)
    assert (at_limit.encoding, at_limit.units, len(at_limit.segments)) == ("GSM-7", 160, 1)
    over = measure("a" * 161)
    assert [len(s) for s in over.segments] == [153, 8]
    assert "".join(over.segments) == "a" * 161


def test_gsm_extension_characters_cost_two_septets_and_an_escape_pair_is_never_split() -> None:
    assert measure("€" * 80).units == 160
    assert len(measure("€" * 80).segments) == 1
    # 152 septets, then a two-septet euro sign that does not fit the first segment's 153.
    text = "a" * 152 + "€" + "b" * 10
    segments = measure(text).segments
    assert segments == ["a" * 152, "€" + "b" * 10]


def test_korean_is_ucs2_70_characters_in_one_sms_and_67_per_segment() -> None:
    one = measure("가" * 70)
    assert (one.encoding, len(one.segments)) == ("UCS-2", 1)
    korean = (KOREAN * 5).strip()
    measured = measure(korean)
    assert measured.encoding == "UCS-2"
    assert all(len(segment) <= 67 for segment in measured.segments)
    assert len(measured.segments) == -(-len(korean) // 67)
    assert "".join(measured.segments) == korean


def test_chinese_text_with_71_characters_takes_two_segments() -> None:
    text = (CHINESE * 4)[:71]
    assert [len(s) for s in measure(text).segments] == [67, 4]


def test_one_character_outside_gsm7_makes_the_whole_text_ucs2() -> None:
    assert measure("a" * 100).encoding == "GSM-7"
    assert measure("a" * 99 + "é").encoding == "GSM-7"  # é is in the GSM basic table
    mixed = measure("a" * 99 + "ê")
    assert (mixed.encoding, len(mixed.segments)) == ("UCS-2", 2)


def test_an_emoji_counts_two_units_and_its_surrogate_pair_is_never_split() -> None:
    assert measure("😀" * 35).units == 70
    assert len(measure("😀" * 35).segments) == 1
    # 66 units, then an emoji (2 units) that cannot fit the first segment's 67.
    segments = measure("x" * 66 + "😀" + "y" * 5).segments
    assert segments == ["x" * 66, "😀yyyyy"]


def test_split_standalone_fills_single_sms_and_breaks_between_words() -> None:
    text = (ENGLISH * 5).strip()
    parts = split_standalone(text)
    assert all(len(part) <= 160 for part in parts)
    assert all(not part.endswith(("Thurs", "wareh")) for part in parts)
    assert " ".join(parts) == text
    korean = split_standalone((KOREAN * 4).strip())
    assert all(len(part) <= 70 for part in korean)


def test_a_provider_that_concatenates_gets_one_body_and_the_segments_are_still_counted() -> None:
    plan = plan_sms(_config(), (CHINESE * 10))
    assert plan.bodies == [CHINESE * 10]
    assert (plan.encoding, plan.segments, plan.refusal) == ("UCS-2", 4, None)


def test_a_reply_over_the_providers_body_limit_is_refused_with_the_reason() -> None:
    assert plan_sms(_config(), "a" * 1600).refusal is None
    refusal = plan_sms(_config(), "a" * 1601).refusal
    assert refusal is not None
    assert "1601 characters" in refusal
    assert "at most 1600" in refusal


def test_a_reply_costing_more_sms_than_the_channel_allows_is_refused() -> None:
    plan = plan_sms(_config(concatenation="none", max_segments=3), KOREAN * 10)
    assert plan.refusal is not None
    assert "at most 3" in plan.refusal
