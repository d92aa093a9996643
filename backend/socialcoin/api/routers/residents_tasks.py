"""A resident's tasks: what the municipality gave them, starting and finishing with proof, and
suggesting new activities. Every route reads the resident from the token; another resident's task
is answered as not found."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from ...domain import activities, tasks
from ...domain.tasks import MAX_EVIDENCE_BYTES
from ..deps import ResidentUser, RuntimeDep, SessionDep, WriteSessionDep
from ..problems import PROBLEM_RESPONSES
from ..schemas.activities import MySuggestion, SuggestionCreate
from ..schemas.tasks import FINISH_FORM, MyTask, TaskId, finished_form

router = APIRouter(prefix="/residents/me", tags=["residents"], responses=PROBLEM_RESPONSES)


@router.get("/tasks", response_model=list[MyTask], summary="My tasks, with the time left for each")
def my_tasks(principal: ResidentUser, session: SessionDep) -> list[MyTask]:
    return MyTask.many(session, tasks.list_tasks(session, resident_id=principal.subject))


@router.get("/tasks/{task_id}", response_model=MyTask, summary="One of my tasks")
def my_task(task_id: TaskId, principal: ResidentUser, session: SessionDep) -> MyTask:
    return MyTask.of(session, tasks.task_of_resident(session, principal.subject, task_id))


@router.post(
    "/tasks/{task_id}/start",
    response_model=MyTask,
    summary="Start one of my tasks",
    description="Only between the task's opens_at and due_at, and only once.",
)
def start_task(task_id: TaskId, principal: ResidentUser, session: WriteSessionDep) -> MyTask:
    return MyTask.of(session, tasks.start(session, principal.subject, task_id))


@router.post(
    "/tasks/{task_id}/finish",
    response_model=MyTask,
    summary="Finish a started task, with proof",
    description="A multipart form: how much was done (`units`: hours or tasks) and the proof (`evidence`: "
    f"a photo (JPEG, PNG, HEIC, WebP) or a PDF, at most {MAX_EVIDENCE_BYTES // (1024 * 1024)} MB). The form "
    "is read only after the token is checked, and no further than its limit (413 body_too_large). The proof "
    "stays off chain; its SHA-256 goes on chain with the attestation. Refused beyond the activity's cap per "
    "month.",
    openapi_extra=FINISH_FORM,
)
async def finish_task(
    task_id: TaskId, principal: ResidentUser, session: SessionDep, runtime: RuntimeDep, request: Request
) -> MyTask:
    units, evidence, form = await finished_form(request)
    try:
        task = await run_in_threadpool(
            tasks.finish,
            session,
            runtime.settings.evidence_dir,
            principal.subject,
            task_id,
            units=units,
            evidence=evidence.file,
            filename=evidence.filename,
        )
        return await run_in_threadpool(MyTask.of, session, task)
    finally:
        await form.close()


@router.post(
    "/activity-suggestions",
    status_code=201,
    response_model=MySuggestion,
    summary="Suggest a new activity for my area",
    description="The municipality takes it into the catalogue or declines it with a reason; either way "
    "you get a message.",
)
def suggest(body: SuggestionCreate, principal: ResidentUser, session: WriteSessionDep) -> MySuggestion:
    suggestion = activities.suggest_activity(
        session, principal.subject, title=body.title, description=body.description, unit=body.unit
    )
    return MySuggestion.of(suggestion)


@router.get(
    "/activity-suggestions", response_model=list[MySuggestion], summary="My suggestions and their state"
)
def my_suggestions(principal: ResidentUser, session: SessionDep) -> list[MySuggestion]:
    return [MySuggestion.of(a) for a in activities.suggestions_of(session, principal.subject)]
