"""Request bodies of the OpenAI-compatible API: the fields clients send, typed so FastAPI rejects the rest as 400.

A parameter this server does not implement is refused (400, code `unsupported_parameter`, naming it) rather than
silently ignored, as OpenAI refuses an unrecognized argument; its neutral value (what clients send by default,
e.g. `top_p: 1`, `logprobs: false`, `response_format: {"type": "text"}`) is accepted.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

# Implemented elsewhere or harmless: OpenAI's storage opt-in and tier choice change nothing a client relies on.
ACCEPTED = {"store", "service_tier"}
# OpenAI parameters not implemented here, with the values that mean "not used".
NEUTRAL: dict[str, tuple[Any, ...]] = {
    "top_p": (1, 1.0, None), "presence_penalty": (0, 0.0, None), "frequency_penalty": (0, 0.0, None),
    "logprobs": (False, None), "top_logprobs": (0, None), "logit_bias": ({}, None),
    "tools": ([], None), "tool_choice": ("none", None), "parallel_tool_calls": (None,),
    "functions": ([], None), "function_call": ("none", None), "response_format": ({"type": "text"}, None),
    "modalities": (["text"], None), "audio": (None,), "prediction": (None,), "reasoning_effort": (None,),
    "web_search_options": (None,), "best_of": (1, None), "echo": (False, None), "suffix": (None,),
}  # fmt: skip

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
    seed: int | None = None

    @model_validator(mode="before")
    @classmethod
    def _refuse_unsupported(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key, value in data.items():
                if key not in cls.model_fields and key not in ACCEPTED and value not in NEUTRAL.get(key, ()):
                    raise PydanticCustomError(
                        "unsupported_parameter", "{param}: not supported by this server", {"param": key}
                    )
        return data

    @model_validator(mode="after")
    def _seed_only_where_it_holds(self) -> _Sampling:
        """Sampled requests share a batch, so a seed cannot make one reproducible; greedy ones already are."""
        if self.seed is not None and self.temperature > 0:
            raise PydanticCustomError(
                "unsupported_parameter",
                "{param}: reproducible sampling is not supported; temperature 0 (the default) gives the same reply "
                "to the same request",
                {"param": "seed"},
            )
        return self

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
