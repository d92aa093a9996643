"""Tasks: an activity assigned to a resident, started, and finished with proof.

A task's time frame runs from `opens_at` (the assignment, or the activity's start if that is later) to
`due_at` (`task_days` later, but never after the activity ends). A task not started when 75% of that
time has passed gets one reminder (`send_reminders`, which the worker runs periodically).

Proof is a photo or a PDF, kept off chain under `settings.evidence_dir`, named by its SHA-256; that
hash is what the verifier's attestation puts on chain.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import BinaryIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ..areas import is_within
from ..db.base import lock, transaction, writing
from ..db.enums import ActivityStatus, RewardStatus, TaskStatus
from ..db.models import Activity, Resident, Reward, Task
from ..db.types import utcnow
from .activities import get_activity, terms_of
from .batch import chunks
from .errors import Conflict, InvalidInput, NotFound, not_found
from .notifications import Kind, notify

LOCAL_TIME: tzinfo
try:
    LOCAL_TIME = ZoneInfo("Europe/Amsterdam")
except ZoneInfoNotFoundError:  # pragma: no cover - a system without a time zone database
    LOCAL_TIME = UTC

REMINDER_AT = 0.75  # of a task's time frame
MAX_EVIDENCE_BYTES = 10 * 1024 * 1024
_CHUNK = 64 * 1024


OPEN = (TaskStatus.ASSIGNED, TaskStatus.STARTED)
# Tasks whose units count towards the cap per resident per month.
COUNTED = (TaskStatus.FINISHED, TaskStatus.ATTESTED, TaskStatus.APPROVED, TaskStatus.MINTED)


def local(moment: datetime) -> str:
    """A moment as the residents read it: 31-03-2026 17:00 (Amsterdam time)."""
    return moment.astimezone(LOCAL_TIME).strftime("%d-%m-%Y %H:%M")


def reward_cents(task: Task, activity: Activity) -> int | None:
    """What a finished task earns: units done times the activity's value per unit (None before)."""
    return task.units * terms_of(activity).value_cents_per_unit if task.units else None


def remaining_seconds(task: Task, now: datetime | None = None) -> int:
    """Seconds left until the task is due (0 when it is due)."""
    return max(0, int((task.due_at - (now or utcnow())).total_seconds()))


# --------------------------------------------------------------------------------------------------
# Assigning (the municipality)
# --------------------------------------------------------------------------------------------------


def time_frame(activity: Activity, now: datetime) -> tuple[datetime, datetime, datetime]:
    """(opens_at, due_at, remind_at) of a task assigned now."""
    terms = terms_of(activity)
    opens_at = max(now, terms.starts_on)
    due_at = min(opens_at + timedelta(days=terms.task_days), terms.ends_on)
    return opens_at, due_at, opens_at + (due_at - opens_at) * REMINDER_AT


def assign(
    session: Session, activity_id: int, resident_ids: list[int], now: datetime | None = None
) -> list[Task]:
    """Gives an activity to residents, one task each; all of them or, when one cannot, none."""
    now = now or utcnow()
    activity = get_activity(session, activity_id)
    if activity.status != ActivityStatus.ACTIVE:
        raise Conflict(
            "activity_not_active",
            f"Activiteit {activity.id} staat niet open (status: {activity.status}).",
            f"Activity {activity.id} is not open (status: {activity.status}).",
            field="activity_id",
        )
    opens_at, due_at, remind_at = time_frame(activity, now)
    if due_at <= opens_at:
        raise Conflict(
            "activity_ended",
            f"Activiteit '{activity.title}' is voorbij: er kan geen taak meer bij.",
            f"Activity '{activity.title}' has ended: no more tasks can be given.",
            field="activity_id",
        )
    if not resident_ids:
        raise InvalidInput(
            "residents_missing",
            "Kies minstens één inwoner.",
            "Choose at least one resident.",
            field="resident_ids",
        )
    tasks = []
    for resident_id in dict.fromkeys(resident_ids):
        resident = session.get(Resident, resident_id)
        if resident is None:
            error = not_found("Inwoner", "resident", resident_id)
            error.field = "resident_ids"
            raise error
        if not is_within(resident.area, activity.area):
            raise InvalidInput(
                "resident_outside_area",
                f"Inwoner {resident.id} woont in {resident.area}, buiten het gebied van deze activiteit"
                f" ({activity.area}).",
                f"Resident {resident.id} lives in {resident.area}, outside this activity's area"
                f" ({activity.area}).",
                field="resident_ids",
                resident_id=resident.id,
            )
        lock(session, "assign", activity.id, resident.id)  # two assignments at once make one task
        open_task = session.scalar(
            select(Task.id).where(
                Task.activity_id == activity.id, Task.resident_id == resident.id, Task.status.in_(OPEN)
            )
        )
        if open_task is not None:
            raise Conflict(
                "task_already_assigned",
                f"Inwoner {resident.id} heeft deze activiteit al als open taak ({open_task}).",
                f"Resident {resident.id} already has this activity as an open task ({open_task}).",
                field="resident_ids",
                resident_id=resident.id,
                task_id=open_task,
            )
        task = Task(
            activity_id=activity.id,
            resident_id=resident.id,
            status=TaskStatus.ASSIGNED,
            opens_at=opens_at,
            due_at=due_at,
            remind_at=remind_at,
        )
        session.add(task)
        session.flush()
        notify(
            session,
            resident.id,
            Kind.TASK_ASSIGNED,
            f"U heeft een nieuwe taak: '{activity.title}'. U kunt eraan werken tot {local(due_at)}.",
            f"You have a new task: '{activity.title}'. You can work on it until {local(due_at)}.",
            task_id=task.id,
            activity_id=activity.id,
        )
        tasks.append(task)
    return tasks


def list_tasks(
    session: Session,
    *,
    resident_id: int | None = None,
    activity_id: int | None = None,
    organisation_id: int | None = None,
    status: str | None = None,
) -> list[Task]:
    query = select(Task).order_by(Task.id)
    if resident_id is not None:
        query = query.where(Task.resident_id == resident_id)
    if activity_id is not None:
        query = query.where(Task.activity_id == activity_id)
    if organisation_id is not None:
        query = query.join(Activity, Activity.id == Task.activity_id).where(
            Activity.organisation_id == organisation_id
        )
    if status is not None:
        query = query.where(Task.status == status)
    return list(session.scalars(query))


def get_task(session: Session, task_id: int, *, lock: bool = False) -> Task:
    task = session.get(Task, task_id, with_for_update=lock)
    if task is None:
        raise not_found("Taak", "task", task_id)
    return task


def task_of_resident(session: Session, resident_id: int, task_id: int, *, lock: bool = False) -> Task:
    """The resident's own task; another resident's task is answered as not found."""
    task = session.get(Task, task_id, with_for_update=lock)
    if task is None or task.resident_id != resident_id:
        raise not_found("Taak", "task", task_id)
    return task


def task_of_organisation(session: Session, organisation_id: int, task_id: int, *, lock: bool = False) -> Task:
    """A task of an activity the organisation verifies; any other is answered as not found."""
    task = session.get(Task, task_id, with_for_update=lock)
    if task is None or session.get_one(Activity, task.activity_id).organisation_id != organisation_id:
        raise not_found("Taak", "task", task_id)
    return task


# --------------------------------------------------------------------------------------------------
# Starting and finishing (the resident)
# --------------------------------------------------------------------------------------------------


def start(session: Session, resident_id: int, task_id: int, now: datetime | None = None) -> Task:
    now = now or utcnow()
    task = task_of_resident(session, resident_id, task_id, lock=True)
    if task.status != TaskStatus.ASSIGNED:
        raise Conflict(
            "task_not_startable",
            f"Deze taak kan niet (opnieuw) beginnen: hij is al {task.status}.",
            f"This task cannot be started (again): it is already {task.status}.",
            status_now=task.status,
        )
    if now < task.opens_at:
        raise Conflict(
            "task_not_open_yet",
            f"Deze taak begint pas op {local(task.opens_at)}.",
            f"This task only opens on {local(task.opens_at)}.",
            opens_at=task.opens_at.isoformat(),
        )
    if now >= task.due_at:
        raise Conflict(
            "task_overdue",
            f"De tijd voor deze taak is voorbij (tot {local(task.due_at)}).",
            f"The time for this task is over (it was due {local(task.due_at)}).",
            due_at=task.due_at.isoformat(),
        )
    task.status = TaskStatus.STARTED
    task.started_at = now
    return task


def month_bounds(moment: datetime) -> tuple[datetime, datetime]:
    """The calendar month (Amsterdam time) around `moment`, as UTC bounds [start, end)."""
    here = moment.astimezone(LOCAL_TIME)
    first = here.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    following = (first + timedelta(days=32)).replace(day=1)
    return first.astimezone(UTC), following.astimezone(UTC)


def units_used_this_month(
    session: Session,
    pairs: Iterable[tuple[int, int]],
    moment: datetime,
    *,
    statuses: tuple[str, ...] = COUNTED,
    exclude_task_id: int | None = None,
) -> dict[tuple[int, int], int]:
    """Units that count against the cap, per (activity id, resident id), in the month of `moment`: tasks
    finished in it (in `statuses`) and the municipality's rewards granted in it (unless their mint
    failed). A few queries for any number of pairs."""
    wanted = set(pairs)
    used = dict.fromkeys(wanted, 0)
    start_at, end_at = month_bounds(moment)
    activity_ids = sorted({activity_id for activity_id, _ in wanted})
    resident_ids = sorted({resident_id for _, resident_id in wanted})
    for residents in chunks(resident_ids):
        task_units = (
            select(Task.activity_id, Task.resident_id, func.sum(Task.units))
            .where(
                Task.activity_id.in_(activity_ids),
                Task.resident_id.in_(residents),
                Task.status.in_(statuses),
                Task.finished_at >= start_at,
                Task.finished_at < end_at,
            )
            .group_by(Task.activity_id, Task.resident_id)
        )
        if exclude_task_id is not None:
            task_units = task_units.where(Task.id != exclude_task_id)
        reward_units = (
            select(Reward.activity_id, Reward.resident_id, func.sum(Reward.units))
            .where(
                Reward.activity_id.in_(activity_ids),
                Reward.resident_id.in_(residents),
                Reward.status != RewardStatus.FAILED,
                Reward.created_at >= start_at,
                Reward.created_at < end_at,
            )
            .group_by(Reward.activity_id, Reward.resident_id)
        )
        for query in (task_units, reward_units):
            for activity_id, resident_id, units in session.execute(query):
                if (activity_id, resident_id) in used:
                    used[(activity_id, resident_id)] += int(units or 0)
    return used


def units_this_month(
    session: Session,
    activity_id: int,
    resident_id: int,
    moment: datetime,
    *,
    statuses: tuple[str, ...] = COUNTED,
    exclude_task_id: int | None = None,
) -> int:
    pair = (activity_id, resident_id)
    used = units_used_this_month(session, [pair], moment, statuses=statuses, exclude_task_id=exclude_task_id)
    return used[pair]


def cap_exceeded(activity: Activity, used: int, units: int) -> Conflict | None:
    """The refusal when `units` more, after `used` this month, pass the activity's cap per resident."""
    cap = terms_of(activity).cap_units_per_month
    if used + units <= cap:
        return None
    left = max(cap - used, 0)
    return Conflict(
        "cap_exceeded",
        f"Dit is meer dan het maximum van {cap} per maand voor '{activity.title}': deze maand kan er nog"
        f" {left} bij.",
        f"This is more than the cap of {cap} per month for '{activity.title}': {left} more fit this month.",
        field="units",
        cap=cap,
        used=used,
        requested=units,
    )


def ensure_within_cap(
    session: Session,
    task: Task,
    activity: Activity,
    units: int,
    moment: datetime,
    *,
    statuses: tuple[str, ...] = COUNTED,
) -> None:
    """Refuses units beyond the activity's cap per resident per month (the month of `moment`)."""
    used = units_this_month(
        session, activity.id, task.resident_id, moment, statuses=statuses, exclude_task_id=task.id
    )
    refusal = cap_exceeded(activity, used, units)
    if refusal is not None:
        raise refusal


@dataclass(frozen=True)
class Evidence:
    name: str
    path: str  # relative to the evidence folder
    sha256: str  # 0x-prefixed
    media_type: str


# Leading bytes of the files we take as proof: photos and PDF.
_SIGNATURES = (
    (b"\xff\xd8\xff", ".jpg", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", ".png", "image/png"),
    (b"%PDF-", ".pdf", "application/pdf"),
)
MEDIA_TYPES = {
    ".jpg": "image/jpeg",
    ".png": "image/png",
    ".pdf": "application/pdf",
    ".heic": "image/heic",
    ".webp": "image/webp",
}


def _sniff(head: bytes) -> tuple[str, str] | None:
    for magic, suffix, media in _SIGNATURES:
        if head.startswith(magic):
            return suffix, media
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return ".webp", "image/webp"
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"heif"):
        return ".heic", "image/heic"
    return None


def _bad_file() -> InvalidInput:
    return InvalidInput(
        "evidence_type",
        "Het bewijs moet een foto (JPEG, PNG, HEIC, WebP) of een PDF zijn.",
        "The proof must be a photo (JPEG, PNG, HEIC, WebP) or a PDF.",
        field="evidence",
    )


def store_evidence(folder: Path, stream: BinaryIO, filename: str | None) -> Evidence:
    """Streams an upload to `folder`, named by its SHA-256; refuses anything but a photo or a PDF."""
    folder.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".upload-")
    try:
        with os.fdopen(handle, "wb") as out:
            head = stream.read(_CHUNK)
            kind = _sniff(head)
            if kind is None:
                raise _bad_file()
            chunk = head
            while chunk:
                size += len(chunk)
                if size > MAX_EVIDENCE_BYTES:
                    raise InvalidInput(
                        "evidence_too_large",
                        f"Het bestand is te groot: hoogstens {MAX_EVIDENCE_BYTES // (1024 * 1024)} MB.",
                        f"The file is too large: at most {MAX_EVIDENCE_BYTES // (1024 * 1024)} MB.",
                        field="evidence",
                        limit=MAX_EVIDENCE_BYTES,
                    )
                digest.update(chunk)
                out.write(chunk)
                chunk = stream.read(_CHUNK)
        sha = digest.hexdigest()
        suffix, media = kind
        relative = Path(sha[:2]) / f"{sha}{suffix}"
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        os.replace(temporary, folder / relative)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    name = re.sub(r"[^\w.\- ]", "_", Path(filename or f"bewijs{suffix}").name)[:200] or f"bewijs{suffix}"
    return Evidence(name=name, path=relative.as_posix(), sha256="0x" + sha, media_type=media)


def _finishable(task: Task, now: datetime, units: int) -> None:
    if task.status == TaskStatus.ASSIGNED:
        raise Conflict(
            "task_not_started",
            "Begin eerst aan de taak; daarna kunt u hem afronden.",
            "Start the task first; then you can finish it.",
            status_now=str(task.status),
        )
    if task.status != TaskStatus.STARTED:
        raise Conflict(
            "task_already_finished",
            f"Deze taak is al afgerond (status: {task.status}).",
            f"This task has already been finished (status: {task.status}).",
            status_now=str(task.status),
        )
    if now > task.due_at:
        raise Conflict(
            "task_overdue",
            f"De tijd voor deze taak is voorbij (tot {local(task.due_at)}).",
            f"The time for this task is over (it was due {local(task.due_at)}).",
            due_at=task.due_at.isoformat(),
        )
    if units < 1:
        raise InvalidInput(
            "units_invalid",
            "Vul in hoeveel u deed: minstens 1.",
            "Say how much you did: at least 1.",
            field="units",
        )


def finish(
    session: Session,
    evidence_dir: Path,
    resident_id: int,
    task_id: int,
    *,
    units: int,
    evidence: BinaryIO,
    filename: str | None,
    now: datetime | None = None,
) -> Task:
    """Marks the resident's started task as done, with how much they did and the proof. The proof is
    stored first (named by its hash: a file nobody uses is harmless); then the checks and the change run
    in a write transaction of their own."""
    now = now or utcnow()
    task = task_of_resident(session, resident_id, task_id)
    _finishable(task, now, units)
    stored = store_evidence(evidence_dir, evidence, filename)
    with writing(session):
        task = task_of_resident(session, resident_id, task_id, lock=True)
        _finishable(task, now, units)
        activity = session.get_one(Activity, task.activity_id)
        lock(session, "cap", activity.id, resident_id)
        ensure_within_cap(session, task, activity, units, now)
        task.status = TaskStatus.FINISHED
        task.finished_at = now
        task.units = units
        task.evidence_name = stored.name
        task.evidence_path = stored.path
        task.evidence_hash = stored.sha256
    return task


def evidence_file(evidence_dir: Path, task: Task) -> tuple[Path, str, str]:
    """(path, media type, file name) of a task's proof."""
    if task.evidence_path is None:
        raise NotFound(
            "evidence_not_found", "Bij deze taak is (nog) geen bewijs.", "This task has no proof (yet)."
        )
    path = (evidence_dir / task.evidence_path).resolve()
    if evidence_dir.resolve() not in path.parents or not path.is_file():
        raise NotFound(
            "evidence_not_found",
            "Het bewijsbestand is niet (meer) te vinden.",
            "The proof file cannot be found (any more).",
        )
    return path, MEDIA_TYPES.get(path.suffix, "application/octet-stream"), task.evidence_name or path.name


# --------------------------------------------------------------------------------------------------
# Reminders (the worker)
# --------------------------------------------------------------------------------------------------


def send_reminders(session: Session, now: datetime | None = None) -> int:
    """One reminder for every task not started at 75% of its time frame; returns how many were sent."""
    now = now or utcnow()
    due = session.scalars(
        select(Task)
        .where(
            Task.status == TaskStatus.ASSIGNED,
            Task.reminder_sent_at.is_(None),
            Task.remind_at <= now,
            Task.due_at > now,
        )
        .order_by(Task.id)
        .with_for_update()
    ).all()
    for task in due:
        activity = session.get_one(Activity, task.activity_id)
        notify(
            session,
            task.resident_id,
            Kind.TASK_REMINDER,
            f"Herinnering: u bent nog niet begonnen aan '{activity.title}'. U heeft nog tot"
            f" {local(task.due_at)}.",
            f"Reminder: you have not yet started '{activity.title}'. You have until {local(task.due_at)}.",
            task_id=task.id,
            activity_id=activity.id,
        )
        task.reminder_sent_at = now
    return len(due)


def run_reminders(sessions: sessionmaker[Session], now: datetime | None = None) -> int:
    """`send_reminders` in a transaction of its own: what the worker calls periodically."""
    with transaction(sessions) as session:
        return send_reminders(session, now)
