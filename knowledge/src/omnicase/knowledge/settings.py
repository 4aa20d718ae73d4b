"""knowledge settings: environment variables prefixed ``KNOWLEDGE_``."""

from typing import ClassVar, Literal

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from omnicase.kit.settings import ServiceSettings

_LINGUA = {
    "af", "ar", "az", "be", "bg", "bn", "bs", "ca", "cs", "cy", "da", "de", "el", "en", "eo", "es", "et", "eu",
    "fa", "fi", "fr", "ga", "gu", "he", "hi", "hr", "hu", "hy", "id", "is", "it", "ja", "ka", "kk", "ko", "la",
    "lg", "lt", "lv", "mi", "mk", "mn", "mr", "ms", "nb", "nl", "nn", "pa", "pl", "pt", "ro", "ru", "sk", "sl",
    "sn", "so", "sq", "sr", "st", "sv", "sw", "ta", "te", "th", "tl", "tn", "tr", "ts", "uk", "ur", "vi", "xh",
    "yo", "zh", "zu",
}  # fmt: skip


class KnowledgeSettings(ServiceSettings):
    model_config = SettingsConfigDict(extra="ignore", env_prefix="KNOWLEDGE_")

    service_name: ClassVar[str] = "knowledge"

    port: int = 8086
    detect_languages: list[str] = Field(
        default=["en", "de", "fr", "es", "it", "pt", "nl", "ru"],
        description=(
            "ISO 639-1 codes lingua chooses among for a query without a locale and in no script of its own "
            "(Korean, Chinese and Japanese are told by their script); each costs memory once used."
        ),
    )

    embedding_model: Literal["multilingual-e5-small"] | None = Field(
        default=None,
        description=(
            "Search's semantic half (search/embeddings.py): articles and questions also compared by meaning, "
            "with this model run in process. Unset: words alone. Costs CPU on every article written and every "
            "question asked (about a millisecond per token on two cores)."
        ),
    )

    public_base_url: str = Field(
        default="http://127.0.0.1:8080",
        description="Where customers' browsers reach the public routes (the gateway), for suggested articles' links.",
    )

    # An article's files (the kit's uploads): each at most this large, at most this many per upload.
    max_attachment_bytes: int = Field(default=25 * 1024 * 1024, ge=1)
    max_attachments_per_upload: int = Field(default=20, ge=1, le=100)

    # case-core (knowledge captured from solved cases): unset, case-core's entry in OMNICASE_SERVICE_URLS.
    case_core_url: str | None = None
    case_core_timeout_seconds: float = Field(default=5.0, gt=0, le=60)

    @field_validator("detect_languages")
    @classmethod
    def _known(cls, codes: list[str]) -> list[str]:
        unknown = sorted(set(codes) - _LINGUA)
        if unknown:
            raise ValueError(f"lingua cannot detect {', '.join(unknown)}")
        return codes
