"""POST /v1/completions: OpenAI's legacy text completions (several prompts, or one streamed)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from serving.completion_call import CompletionCall
from serving.dependencies import CallerDep, ServiceDep
from serving.engine import encode_text
from serving.errors import ApiError
from serving.schemas import CompletionRequest

router = APIRouter()


@router.post("/v1/completions")
async def completions(body: CompletionRequest, request: Request, kid: CallerDep,
                      service: ServiceDep) -> Response:  # fmt: skip
    prompts = body.prompts()
    if body.stream and len(prompts) > 1:
        raise ApiError(400, "stream supports one prompt per request", "invalid_request", "prompt")
    messages = [{"role": "user", "content": p} for p in prompts]
    call = CompletionCall(service, body, request, kid, "completions", messages)
    jobs = await call.admit(lambda tok, msgs: [encode_text(tok, x["content"]) for x in msgs], None)
    if body.stream:
        return await call.stream(jobs[0])
    return await call.respond(jobs)
