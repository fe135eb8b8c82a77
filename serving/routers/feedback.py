"""POST /feedback: a rating or a correction of a served answer, by its request id (x-request-id); also an MLflow
assessment on the request's trace (serving/tracing.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from serving.dependencies import CallerDep, ServiceDep
from serving.errors import ApiError
from serving.schemas import FeedbackRequest
from serving.tracing import Feedback
from tasks.monitoring.request_log import UnknownRequestError

router = APIRouter()


@router.post("/feedback")
async def feedback(body: FeedbackRequest, kid: CallerDep,
                   service: ServiceDep) -> dict[str, Any]:  # fmt: skip
    try:
        fid = await run_in_threadpool(service.log.add_feedback, body.request_id, body.rating, body.correction,
                                      body.comment)  # fmt: skip
    except UnknownRequestError as err:
        raise ApiError(404, str(err), "request_not_found", "request_id") from None
    service.metrics.feedback.labels(str(body.rating)).inc()
    if service.tracer:  # also an assessment on the request's trace, by whoever holds the key
        service.tracer.feedback(Feedback(body.request_id, kid, body.rating, body.correction, body.comment, fid))
    return {"object": "feedback", "id": fid, "request_id": body.request_id}
