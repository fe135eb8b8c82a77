"""Request bodies of the OpenAI-compatible API: the fields clients send, typed so FastAPI rejects the rest as 400.

Unknown fields are ignored, as OpenAI does, so clients that send `top_p`, `seed` or `logprobs` still work.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Content = Annotated[str, Field(max_length=200_000)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class TextPart(_Body):
    type: Literal["text"]
    text: Content


class Message(_Body):
    role: Literal["system", "developer", "user", "assistant"]
    content: Content | Annotated[list[TextPart], Field(min_length=1, max_length=64)]

    def text(self) -> str:
        return self.content if isinstance(self.content, str) else "\n".join(p.text for p in self.content)


class StreamOptions(_Body):
    include_usage: bool = False


class _Sampling(_Body):
    model: Annotated[str, Field(min_length=1, max_length=256)]
    max_tokens: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    temperature: Annotated[float, Field(ge=0, le=2)] = 0.0
    stop: (
        Annotated[str, Field(min_length=1, max_length=64)]
        | Annotated[list[Annotated[str, Field(min_length=1, max_length=64)]], Field(max_length=4)]
        | None
    ) = None
    stream: bool = False
    stream_options: StreamOptions | None = None
    user: Annotated[str, Field(max_length=256)] | None = None
    metadata: dict[Annotated[str, Field(max_length=64)], Annotated[str, Field(max_length=512)]] | None = None

    def stops(self) -> list[str]:
        return [self.stop] if isinstance(self.stop, str) else list(self.stop or [])

    def conversation_id(self) -> str | None:
        return (self.metadata or {}).get("conversation_id")


class ChatCompletionRequest(_Sampling):
    messages: Annotated[list[Message], Field(min_length=1, max_length=256)]
    max_completion_tokens: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    n: Annotated[int, Field(ge=1, le=1)] = 1

    @field_validator("messages")
    @classmethod
    def _has_user_turn(cls, messages: list[Message]) -> list[Message]:
        if not any(m.role == "user" and m.text().strip() for m in messages):
            raise ValueError("needs at least one non-empty user message")
        return messages


class CompletionRequest(_Sampling):
    prompt: (
        Annotated[str, Field(min_length=1, max_length=200_000)]
        | Annotated[list[Annotated[str, Field(min_length=1, max_length=200_000)]], Field(min_length=1, max_length=16)]
    )

    def prompts(self) -> list[str]:
        return [self.prompt] if isinstance(self.prompt, str) else list(self.prompt)


class FeedbackRequest(_Body):
    request_id: Annotated[str, Field(min_length=1, max_length=64)]
    rating: Annotated[int, Field(ge=-1, le=1, description="-1 bad, 0 neutral, 1 good")]
    correction: Annotated[str, Field(min_length=1, max_length=20_000)] | None = Field(
        None, description="a better answer, used as a training record after review"
    )
    comment: Annotated[str, Field(max_length=2_000)] | None = None
