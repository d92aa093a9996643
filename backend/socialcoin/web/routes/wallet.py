"""A resident's wallet (phone first): balances, history and statements, tasks, where to pay; installable,
and readable offline.

Every page reads the resident from the session (`ResidentPage`) and calls the same domain functions as the
resident's API routes (residents_money, residents_tasks, residents_profile). The statement's texts (CSV
and PDF) come from the catalogue like every page's; amounts and dates are written by `Formats`.

The service worker (`/portemonnee/sw.js`, a file under static/js) controls `/portemonnee` and what lies
under it; it keeps the app's own files and the last home page, so the wallet opens without a network and
shows the balances of the time it was last loaded.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from fastapi import Form, Request, Response
from fastapi.responses import FileResponse
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from ...api.deps import RuntimeDep, SessionDep
from ...api.schemas.notifications import NotificationId
from ...api.schemas.tasks import MyTask, TaskId
from ...areas import is_within
from ...db.base import writing
from ...db.enums import TaskStatus
from ...db.models import Resident
from ...db.types import utcnow
from ...domain import activities, people, services, tasks, wallet_moves
from ...domain.coins import CoinInfo, catalogue
from ...domain.errors import DomainError
from ...domain.payments import BalanceView, HistoryEntry, balances, history
from ...domain.reports import report_fonts
from .. import pages
from ..i18n import TIME_ZONE, Formats, translations

router = pages.page_router()

STATIC = Path(__file__).resolve().parents[1] / "static"
SERVICE_WORKER = STATIC / "js" / "wallet-sw.js"
HOME = "/portemonnee"
# A history page or a statement holds at most this many entries (newest first); the index is read in
# pages of HISTORY_PAGE.
PERIOD_MAX_ENTRIES = 2000
HISTORY_PAGE = 200
DEFAULT_PERIOD_DAYS = 90
FIRST_YEAR, LAST_YEAR = 2000, 2999  # a period's dates lie between (year 1 or 9999 would overflow)
NOTIFICATIONS_ON_HOME = 5
TITLE_MAX, DESCRIPTION_MAX = 200, 5000  # as the API's SuggestionCreate
OPEN = (TaskStatus.ASSIGNED, TaskStatus.STARTED)


def _zone() -> ZoneInfo:
    return ZoneInfo(TIME_ZONE)


def gettext_of(request: Request) -> Callable[..., str]:
    """`_` for texts written outside a template (the statement, the manifest), in the visitor's language."""
    catalogue_ = translations(pages.language_of(request))

    def _(text: str, **values: Any) -> str:
        translated = catalogue_.gettext(text)
        return translated % values if values else translated

    return _


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    """A wallet page: `now` (when it was made: the copy kept for offline use shows it), and the words for
    places (`within`, `area_kind`) that wallet/words.html uses."""
    context.setdefault("now", utcnow())
    return pages.render(
        request, template, status_code=status_code, within=is_within, area_kind=area_kind, **context
    )


def _resident(session: Session, principal: pages.Principal) -> Resident:
    return people.get_resident(session, principal.subject)


# --------------------------------------------------------------------------------------------------
# Home: balances first, then messages and open tasks
# --------------------------------------------------------------------------------------------------


@dataclass
class CoinCard:
    """One coin on the home page: held, or to be earned with an open task."""

    coin: CoinInfo
    amount_cents: int = 0
    pending_out_cents: int = 0
    earn_with: list[str] = field(default_factory=list)  # titles of open tasks that pay in this coin

    def expires_on(self) -> datetime | None:
        return datetime.fromtimestamp(self.coin.expiry, UTC) if self.coin.expiry else None

    def expired(self, now: datetime) -> bool:
        return not self.coin.live(int(now.timestamp()))

    @property
    def may_still_receive_cents(self) -> int | None:
        return self.coin.room_for(self.amount_cents)


def area_kind(area: str) -> str:
    """nl (the whole country), gemeente, wijk or buurt: how the page names an area by its CBS code."""
    return {"NL": "nl", "GM": "gemeente", "WK": "wijk", "BU": "buurt"}.get(area[:2], "area")


def coin_cards(session: Session, held: list[BalanceView], open_tasks: list[MyTask]) -> list[CoinCard]:
    """A card per coin the resident holds, then per coin an open task pays in (an amount of € 0,00)."""
    cards = {
        view.coin.address: CoinCard(view.coin, view.amount_cents, view.pending_out_cents) for view in held
    }
    coins = catalogue(session)
    for task in open_tasks:
        coin = coins.get(task.activity.coin)
        if coin is None:
            continue
        card = cards.setdefault(coin.address, CoinCard(coin))
        if task.activity.title not in card.earn_with:
            card.earn_with.append(task.activity.title)
    return list(cards.values())


def my_tasks(session: Session, resident_id: int) -> list[MyTask]:
    return MyTask.many(session, tasks.list_tasks(session, resident_id=resident_id))


@router.get("/portemonnee")
def home(request: Request, principal: pages.ResidentPage, session: SessionDep) -> Response:
    resident = _resident(session, principal)
    found = my_tasks(session, resident.id)
    open_tasks = [t for t in found if t.status in OPEN]
    cards = coin_cards(session, balances(session, resident.wallet_address), open_tasks)
    messages = people.notifications_of(session, resident.id, limit=NOTIFICATIONS_ON_HOME)
    unread = len(people.notifications_of(session, resident.id, unread_only=True, limit=500))
    moving = wallet_moves.open_reset(session, resident.id) is not None  # a PIN reset: paying waits
    return render(
        request,
        "wallet/home.html",
        resident=resident,
        moving=pages.message(wallet_moves.moving(), pages.language_of(request)) if moving else None,
        cards=cards,
        messages=messages,
        unread=unread,
        open_tasks=sorted(open_tasks, key=lambda t: t.due_at),
    )


@router.post("/portemonnee/berichten/{notification_id}/gelezen")
def mark_read(
    notification_id: NotificationId, request: Request, principal: pages.ResidentPage, session: SessionDep
) -> Response:
    with writing(session):
        people.mark_notification_read(session, principal.subject, notification_id)
    return pages.redirect(request, f"{HOME}#berichten")


# --------------------------------------------------------------------------------------------------
# History and statements
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    @property
    def since(self) -> datetime:
        return datetime.combine(self.start, time(), _zone()).astimezone(UTC)

    @property
    def until(self) -> datetime:
        """The first moment after the period (its last day included)."""
        return datetime.combine(self.end + timedelta(days=1), time(), _zone()).astimezone(UTC)

    def query(self) -> str:
        return f"van={self.start.isoformat()}&tot={self.end.isoformat()}"


def _typed_date(value: str) -> date | None:
    """A date as a date field sends it (2026-12-31), or as people type it (31-12-2026, 31/12/2026)."""
    text = value.strip()
    try:
        found = date.fromisoformat(text)
    except ValueError:
        try:
            found = datetime.strptime(text.replace("/", "-"), "%d-%m-%Y").date()
        except ValueError:
            return None
    return found if FIRST_YEAR <= found.year <= LAST_YEAR else None


def period_of(van: str | None, tot: str | None, today: date) -> tuple[Period, str | None, str | None]:
    """(the period, the field at fault, the fault: "date" or "order") from the form's dates; a field left
    empty takes the default (the last DEFAULT_PERIOD_DAYS days), a wrong one too, with the fault named."""
    start, end = today - timedelta(days=DEFAULT_PERIOD_DAYS), today
    fault_field, fault = None, None
    for name, value in (("van", van), ("tot", tot)):
        if not value:
            continue
        parsed = _typed_date(value)
        if parsed is None:
            fault_field, fault = fault_field or name, fault or "date"
            continue
        if name == "van":
            start = parsed
        else:
            end = parsed
    if fault is None and start > end:
        fault_field, fault = "tot", "order"
        start, end = end, start
    return Period(start, end), fault_field, fault


def entries_in(session: Session, wallet: str, period: Period) -> tuple[list[HistoryEntry], bool]:
    """The wallet's history within the period, newest first (payments.history as the resident sees it,
    read page by page), and whether there was more than PERIOD_MAX_ENTRIES."""
    found: list[HistoryEntry] = []
    before: int | None = None
    while True:
        page = history(session, wallet, viewer="resident", limit=HISTORY_PAGE, before_id=before)
        for entry in page:
            if entry.time >= period.until:
                continue
            if entry.time < period.since:
                return found, False
            if len(found) == PERIOD_MAX_ENTRIES:
                return found, True
            found.append(entry)
        if len(page) < HISTORY_PAGE:
            return found, False
        before = page[-1].id


@dataclass
class CoinTotal:
    symbol: str
    name: str
    received_cents: int = 0
    spent_cents: int = 0

    @property
    def net_cents(self) -> int:
        return self.received_cents - self.spent_cents


def totals_of(session: Session, entries: list[HistoryEntry]) -> list[CoinTotal]:
    coins = catalogue(session)
    totals: dict[str, CoinTotal] = {}
    for entry in entries:
        coin = coins.get(entry.coin)
        total = totals.setdefault(entry.coin, CoinTotal(entry.symbol, coin.name if coin else entry.symbol))
        if entry.amount_cents >= 0:
            total.received_cents += entry.amount_cents
        else:
            total.spent_cents -= entry.amount_cents
    return sorted(totals.values(), key=lambda t: t.symbol)


def _today() -> date:
    return utcnow().astimezone(_zone()).date()


@router.get("/portemonnee/geschiedenis")
def history_page(
    request: Request,
    principal: pages.ResidentPage,
    session: SessionDep,
    van: str | None = None,
    tot: str | None = None,
) -> Response:
    resident = _resident(session, principal)
    period, fault_field, fault = period_of(van, tot, _today())
    entries, more = entries_in(session, resident.wallet_address, period)
    return render(
        request,
        "wallet/history.html",
        status_code=422 if fault else 200,
        period=period,
        # A wrong date stays as typed, to correct; dates the wrong way round are shown swapped, as used.
        typed={
            "van": van if fault == "date" and van else period.start.isoformat(),
            "tot": tot if fault == "date" and tot else period.end.isoformat(),
        },
        fault_field=fault_field,
        fault=fault,
        entries=entries,
        more=more,
        totals=totals_of(session, entries),
        names=dict((c.address, c.name) for c in catalogue(session)),
    )


def _cell(value: str) -> str:
    """Text that a spreadsheet shows as text, never runs as a formula (as domain/reports.py)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _describe(entry: HistoryEntry, language: str) -> str:
    return entry.description_nl if language == "nl" else entry.description_en


def statement_csv(
    entries: list[HistoryEntry], names: dict[str, str], fmt: Formats, _: Callable[..., str]
) -> str:
    """The statement for a spreadsheet: one line per entry, oldest first. Semicolons and decimal commas
    in both languages, as Dutch spreadsheets read them (a resident's Excel is set to Dutch whichever
    language the page is in), and UTF-8 with a byte order mark so that Excel reads the characters right."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(
        [_("Date"), _("Time"), _("What"), _("Who"), _("Coin"), _("Coin name"), _("Amount"), _("Reference"),
         _("Check code")]
    )  # fmt: skip
    for entry in reversed(entries):
        moment = entry.time.astimezone(_zone())
        writer.writerow(
            [
                moment.date().isoformat(),
                moment.strftime("%H:%M"),
                _cell(_describe(entry, fmt.language)),
                _cell(entry.counterparty_name or ""),
                entry.symbol,
                _cell(names.get(entry.coin, entry.symbol)),
                _amount_cell(entry.amount_cents),
                _cell(entry.reference or ""),
                entry.tx_hash,
            ]
        )
    return "\ufeff" + out.getvalue()


def _amount_cell(cents: int) -> str:
    """-750 -> "-7,50": a number that a Dutch spreadsheet reads as one (no euro sign, no thousands)."""
    whole, part = divmod(abs(cents), 100)
    return f"{'-' if cents < 0 else ''}{whole},{part:02d}"


def statement_pdf(
    resident: Resident,
    period: Period,
    entries: list[HistoryEntry],
    totals: list[CoinTotal],
    fmt: Formats,
    _: Callable[..., str],
) -> bytes:
    """The statement to print or keep: who, which period, each entry, the totals per coin."""
    regular, bold = report_fonts()
    styles = getSampleStyleSheet()
    body = styles["BodyText"].clone("statement", fontName=regular)
    small = body.clone("small", fontSize=8.5, leading=10.5)
    heading = styles["Heading2"].clone("statement-heading", fontName=bold)
    table_style = TableStyle(
        [
            ("FONT", (0, 0), (-1, 0), bold, 9),
            ("FONT", (0, 1), (-1, -1), regular, 9),
            ("ALIGN", (-1, 0), (-1, -1), "RIGHT"),
            ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
            ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.9, 0.93, 0.97)),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ]
    )
    out = io.BytesIO()
    title = _("Statement of your coins")
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=title,
        author="Socialcoin",
    )
    story: list[Any] = [
        Paragraph(escape(title), styles["Title"].clone("statement-title", fontName=bold)),
        Paragraph(escape(_("Name: %(name)s", name=resident.name)), body),
        Paragraph(escape(_("Case number: %(case)s", case=resident.case_number)), body),
        Paragraph(
            escape(_("Period: %(start)s to %(end)s", start=fmt.date(period.start), end=fmt.date(period.end))),
            body,
        ),
        Paragraph(escape(_("Made on %(moment)s", moment=fmt.date_time(utcnow()))), small),
        Spacer(1, 5 * mm),
    ]
    rows: list[list[Any]] = [[_("Date"), _("What"), _("Coin"), _("Amount")]]
    for entry in reversed(entries):
        what = _describe(entry, fmt.language)
        if entry.reference:
            what += f" ({entry.reference})"
        rows.append(
            [
                fmt.date_time(entry.time, "short"),
                Paragraph(escape(what), small),
                entry.symbol,
                fmt.euro(entry.amount_cents),
            ]
        )
    if not entries:
        rows.append([_("Nothing came in or went out in this period."), "", "", ""])
    table = Table(rows, colWidths=[32 * mm, 98 * mm, 18 * mm, 32 * mm], repeatRows=1)
    table.setStyle(table_style)
    story += [table, Spacer(1, 6 * mm), Paragraph(escape(_("Totals per coin")), heading)]
    total_rows: list[list[Any]] = [[_("Coin"), _("Received"), _("Spent"), _("Difference")]]
    for total in totals:
        total_rows.append(
            [
                Paragraph(escape(f"{total.name} ({total.symbol})"), small),
                fmt.euro(total.received_cents),
                fmt.euro(total.spent_cents),
                fmt.euro(total.net_cents),
            ]
        )
    if not totals:
        total_rows.append([_("No coins moved in this period."), "", "", ""])
    totals_table = Table(total_rows, colWidths=[80 * mm, 33 * mm, 33 * mm, 34 * mm], repeatRows=1)
    totals_table.setStyle(table_style)
    story.append(totals_table)
    doc.build(story)
    return out.getvalue()


@dataclass(frozen=True)
class Statement:
    resident: Resident
    period: Period
    entries: list[HistoryEntry]

    @property
    def file_name(self) -> str:
        name = f"afschrift-{self.resident.case_number}-{self.period.start}-{self.period.end}"
        return "".join(c if c.isalnum() or c in "-_" else "-" for c in name)


def _statement(
    principal: pages.Principal, session: Session, van: str | None, tot: str | None
) -> Statement | None:
    """The statement for the period; None when the dates are not a period (the history page says why)."""
    resident = _resident(session, principal)
    period, fault_field, _fault = period_of(van, tot, _today())
    if fault_field is not None:
        return None
    entries, _more = entries_in(session, resident.wallet_address, period)
    return Statement(resident, period, entries)


def _back_to_history(request: Request) -> Response:
    return pages.redirect(request, f"/portemonnee/geschiedenis?{request.url.query}")


@router.get("/portemonnee/afschrift.csv")
def statement_as_csv(
    request: Request,
    principal: pages.ResidentPage,
    session: SessionDep,
    van: str | None = None,
    tot: str | None = None,
) -> Response:
    statement = _statement(principal, session, van, tot)
    if statement is None:
        return _back_to_history(request)
    fmt = Formats(pages.language_of(request))
    names = {c.address: c.name for c in catalogue(session)}
    text = statement_csv(statement.entries, names, fmt, gettext_of(request))
    return pages.with_page_headers(
        request,
        Response(
            text.encode("utf-8"),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{statement.file_name}.csv"'},
        ),
    )


@router.get("/portemonnee/afschrift.pdf")
def statement_as_pdf(
    request: Request,
    principal: pages.ResidentPage,
    session: SessionDep,
    van: str | None = None,
    tot: str | None = None,
) -> Response:
    statement = _statement(principal, session, van, tot)
    if statement is None:
        return _back_to_history(request)
    fmt = Formats(pages.language_of(request))
    totals = totals_of(session, statement.entries)
    pdf = statement_pdf(
        statement.resident, statement.period, statement.entries, totals, fmt, gettext_of(request)
    )
    return pages.with_page_headers(
        request,
        Response(
            pdf,
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{statement.file_name}.pdf"'},
        ),
    )


# --------------------------------------------------------------------------------------------------
# Tasks: start, finish with a photo, suggest an activity
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FormError:
    """What the tasks page shows when a form was refused: which form, which field, what."""

    form: str  # "task-<id>" or "suggestion"
    field: str | None
    message: str


def tasks_page(
    request: Request,
    session: Session,
    principal: pages.Principal,
    *,
    error: FormError | None = None,
    typed: dict[str, str] | None = None,
    status_code: int = 200,
    done: str | None = None,
) -> Response:
    found = my_tasks(session, principal.subject)
    open_tasks = sorted((t for t in found if t.status in OPEN), key=lambda t: t.due_at)
    other = sorted((t for t in found if t.status not in OPEN), key=lambda t: -t.id)
    return render(
        request,
        "wallet/tasks.html",
        status_code=status_code,
        open_tasks=open_tasks,
        other_tasks=other,
        suggestions=activities.suggestions_of(session, principal.subject),
        error=error,
        typed=typed or {},
        done=done,
        max_title=TITLE_MAX,
        max_description=DESCRIPTION_MAX,
    )


DONE = {"begonnen", "afgerond", "voorgesteld"}


@router.get("/portemonnee/taken")
def tasks_overview(
    request: Request, principal: pages.ResidentPage, session: SessionDep, gedaan: str | None = None
) -> Response:
    return tasks_page(request, session, principal, done=gedaan if gedaan in DONE else None)


def _refused(
    request: Request,
    session: Session,
    principal: pages.Principal,
    form: str,
    error: DomainError | FormError,
    typed: dict[str, str] | None = None,
) -> Response:
    """The tasks page again, with the refused form's error named and what was typed kept (422 for the
    page's own checks, the domain's status for its refusals)."""
    status_code = 422
    if isinstance(error, DomainError):
        status_code = error.status
        error = FormError(form, error.field, pages.message(error, pages.language_of(request)))
    return tasks_page(request, session, principal, error=error, typed=typed, status_code=status_code)


@router.post("/portemonnee/taken/{task_id}/beginnen")
def start_task(
    task_id: TaskId, request: Request, principal: pages.ResidentPage, session: SessionDep
) -> Response:
    try:
        with writing(session):
            tasks.start(session, principal.subject, task_id)
    except DomainError as error:
        return _refused(request, session, principal, f"task-{task_id}", error)
    return pages.redirect(request, f"/portemonnee/taken?gedaan=begonnen#taak-{task_id}")


def _finish_form_error(request: Request, form: str, units: str, evidence: Any) -> FormError | None:
    """What the page itself checks of the finish form before the domain does: a whole number and a
    photo (the domain checks the rest: the kind of file, its size, the task's state and cap)."""
    _ = gettext_of(request)
    if not units.isdigit() or int(units) < 1:
        return FormError(form, "units", _("Fill in how much you did: a whole number, at least 1."))
    if not isinstance(evidence, UploadFile) or not evidence.filename or not evidence.size:
        return FormError(
            form, "evidence", _("Add a photo of your work. Take it with the camera of your phone.")
        )
    return None


@router.post("/portemonnee/taken/{task_id}/afronden")
async def finish_task(
    task_id: TaskId, request: Request, principal: pages.ResidentPage, session: SessionDep, runtime: RuntimeDep
) -> Response:
    """The finish form (multipart: units and the photo): the same domain function, with the same rules for
    the proof, as POST /residents/me/tasks/{id}/finish. Its body may be as large as the API's
    (api/bodies.py)."""
    form = await request.form()  # parsed already by the CSRF check: the same form
    name = f"task-{task_id}"
    try:
        units, evidence = form.get("units"), form.get("evidence")
        typed = units.strip() if isinstance(units, str) else ""
        fault = _finish_form_error(request, name, typed, evidence)
        if fault is not None:
            return await run_in_threadpool(
                _refused, request, session, principal, name, fault, {"units": typed}
            )
        assert isinstance(evidence, UploadFile)
        try:
            await run_in_threadpool(
                tasks.finish,
                session,
                runtime.settings.evidence_dir,
                principal.subject,
                task_id,
                units=int(typed),
                evidence=evidence.file,
                filename=evidence.filename,
            )
        except DomainError as error:
            return await run_in_threadpool(
                _refused, request, session, principal, name, error, {"units": typed}
            )
    finally:
        await form.close()
    return pages.redirect(request, f"/portemonnee/taken?gedaan=afgerond#taak-{task_id}")


@router.get("/portemonnee/taken/{task_id}/beginnen")
@router.get("/portemonnee/taken/{task_id}/afronden")
def back_to_the_task(task_id: TaskId, request: Request, principal: pages.ResidentPage) -> Response:
    """A form's address asked with GET (the language switch or a reload after a refused form): the task."""
    return pages.redirect(request, f"/portemonnee/taken#taak-{task_id}")


@router.get("/portemonnee/taken/voorstellen")
def back_to_suggestions(request: Request, principal: pages.ResidentPage) -> Response:
    return pages.redirect(request, "/portemonnee/taken#voorstellen")


@router.post("/portemonnee/taken/voorstellen")
def suggest(
    request: Request,
    principal: pages.ResidentPage,
    session: SessionDep,
    title: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    unit: Annotated[str, Form()] = "",
) -> Response:
    typed = {"title": title, "description": description, "unit": unit}
    _ = gettext_of(request)
    for name, limit in (("title", TITLE_MAX), ("description", DESCRIPTION_MAX)):
        if len(typed[name].strip()) > limit:
            too_long = FormError(
                "suggestion", name, _("This is too long: write at most %(limit)s characters.", limit=limit)
            )
            return _refused(request, session, principal, "suggestion", too_long, typed)
    if unit not in ("hour", "task"):
        choose = FormError("suggestion", "unit", _("Choose whether it is paid per hour or per task."))
        return _refused(request, session, principal, "suggestion", choose, typed)
    try:
        with writing(session):
            activities.suggest_activity(
                session, principal.subject, title=title, description=description, unit=unit
            )
    except DomainError as error:
        return _refused(request, session, principal, "suggestion", error, typed)
    return pages.redirect(request, "/portemonnee/taken?gedaan=voorgesteld#voorstellen")


# --------------------------------------------------------------------------------------------------
# Where can I pay
# --------------------------------------------------------------------------------------------------


@router.get("/portemonnee/winkels")
def shops(request: Request, principal: pages.ResidentPage, session: SessionDep) -> Response:
    resident = _resident(session, principal)
    held = [view.coin for view in balances(session, resident.wallet_address)]
    accepting = people.merchants_accepting(session, held)
    offered = services.list_services(session, active_only=True)
    return render(
        request,
        "wallet/shops.html",
        resident=resident,
        coins=held,
        merchants=accepting,
        # A service takes the coins of the purposes it accepts (as services.OrderFlow checks).
        services={coin.address: [s for s in offered if s.purposes & (1 << coin.purpose)] for coin in held},
    )


# --------------------------------------------------------------------------------------------------
# How the wallet is kept
# --------------------------------------------------------------------------------------------------


@router.get("/portemonnee/sleutels")
def keys(request: Request, principal: pages.ResidentPage, session: SessionDep) -> Response:
    resident = _resident(session, principal)
    return render(request, "wallet/keys.html", resident=resident)


# --------------------------------------------------------------------------------------------------
# Installable and offline
# --------------------------------------------------------------------------------------------------


@router.get("/portemonnee/manifest.webmanifest")
async def manifest(request: Request) -> Response:
    """The web app manifest (browsers fetch it without cookies: it needs no sign-in)."""
    _ = gettext_of(request)
    body = {
        "name": _("Socialcoin wallet"),
        "short_name": _("Wallet"),
        "description": _("Your coins, your tasks and paying in your neighbourhood"),
        "lang": pages.language_of(request),
        "start_url": HOME,
        "scope": HOME,
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#084683",
        "icons": [
            {"src": "/static/img/wallet-icon.svg", "sizes": "any", "type": "image/svg+xml"},
            {"src": "/static/img/wallet-icon-192.png", "sizes": "192x192", "type": "image/png"},
            {"src": "/static/img/wallet-icon-512.png", "sizes": "512x512", "type": "image/png"},
        ],
    }
    response = Response(
        json.dumps(body, ensure_ascii=False), media_type="application/manifest+json; charset=utf-8"
    )
    pages.with_page_headers(request, response)
    response.headers["Cache-Control"] = "no-cache"
    return response


@router.get("/portemonnee/sw.js")
async def service_worker(request: Request) -> Response:
    """The service worker: a file under static/js, served here so that it may control `/portemonnee` (the
    home page has no trailing slash, so its scope is `/portemonnee`, one level above the script's own
    folder: Service-Worker-Allowed says so). Browsers check it for a new version on every visit."""
    response = FileResponse(SERVICE_WORKER, media_type="text/javascript")
    pages.with_page_headers(request, response)
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = HOME
    return response
