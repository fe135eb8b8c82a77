"""POST /v1/chat/completions: OpenAI's chat API, plain or streamed (SSE)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from serving.completion_call import CompletionCall
from serving.dependencies import CallerDep, ServiceDep
from serving.engine import encode_chat
from serving.schemas import ChatCompletionRequest

router = APIRouter()


@router.post("/v1/chat/completions")
async def chat(body: ChatCompletionRequest, request: Request, kid: CallerDep,
               service: ServiceDep) -> Response:  # fmt: skip
    messages = [{"role": "system" if x.role == "developer" else x.role, "content": x.text()} for x in body.messages]
    call = CompletionCall(service, body, request, kid, "chat", messages)
    jobs = await call.admit(lambda tok, msgs: [encode_chat(tok, msgs)], body.max_completion_tokens)
    if call.cache_hit is not None:
        return call.from_cache()
    if body.stream:
        return await call.stream(jobs[0])
    return await call.respond(jobs)
