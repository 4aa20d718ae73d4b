"""The Slack connection as the API shows it (its secrets are write-only)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from omnicase.kit.inputs import NOT_SPACE, SPACE_OR_NUL, StrictInput

SlackId = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{2,40}$")]
Secret = Annotated[str, StringConstraints(min_length=8, max_length=500, pattern=rf"^{NOT_SPACE}+$")]
HttpUrl = Annotated[
    str, StringConstraints(max_length=2000, pattern=rf"^https?://[^{SPACE_OR_NUL}/?#]+(/[^{SPACE_OR_NUL}?#]*)?$")
]


class SlackConnectionWrite(StrictInput):
    team_id: SlackId = Field(description="The workspace (team) id, such as T0123ABCD.")
    channel_id: SlackId = Field(description="The channel swarm threads open in, such as C0123ABCD.")
    bot_token: Secret = Field(description="The app's bot token (xoxb-…); write-only.")
    signing_secret: Secret = Field(description="The app's signing secret; write-only.")
    api_url: HttpUrl = Field(default="https://slack.com/api", description="Slack's Web API base URL.")


class SlackConnection(BaseModel):
    model_config = ConfigDict(frozen=True)

    team_id: str
    channel_id: str
    api_url: str
    bot_token_set: bool = Field(description="Always true: the token is stored sealed and never shown.")
    signing_secret_set: bool
    events_url_path: str = Field(description="Where Slack's Events API posts, on the suite's public address.")
    created_at: datetime
    updated_at: datetime


class SlackUserWrite(StrictInput):
    agent_id: uuid.UUID = Field(description="The agent (routing's agent, by its user id) this Slack user is.")


class SlackUser(BaseModel):
    model_config = ConfigDict(frozen=True)
    page_name: ClassVar[str] = "SlackUserPage"

    slack_user_id: str
    agent_id: uuid.UUID
    name: str | None = Field(description="The agent's name as routing had it when mapped.")
    mapped_at: datetime
