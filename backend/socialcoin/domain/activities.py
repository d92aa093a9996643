"""The activity catalogue: what residents can do, what it is worth, and the municipality's guidelines.

Every value an activity carries must lie within GUIDELINES (the one place for the bounds); a refusal
names the field and the bound. Residents may suggest activities; the municipality approves them
(filling in programme, organisation, value and time frame, under the same rules) or rejects them
with a reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..areas import is_within
from ..db.enums import ActivityStatus
from ..db.models import Activity, Organisation, Resident
from ..db.types import utcnow
from ..formats import euro
from .coins import catalogue
from .errors import Conflict, InvalidInput, not_found
from .fields import checked_area
from .notifications import Kind, notify
from .programmes import get_programme


class Unit(StrEnum):
    HOUR = "hour"
    TASK = "task"


@dataclass(frozen=True)
class Guideline:
    """The municipality's bounds for activities paid per `unit`."""

    min_value_cents: int
    max_value_cents: int
    max_units_per_month: int
    nl: str  # the unit in Dutch
    en: str


# The municipality's guidelines for social value, per unit. Change them here, and only here.
GUIDELINES: dict[Unit, Guideline] = {
    Unit.HOUR: Guideline(
        min_value_cents=500, max_value_cents=2500, max_units_per_month=40, nl="uur", en="hour"
    ),
    Unit.TASK: Guideline(
        min_value_cents=100, max_value_cents=5000, max_units_per_month=20, nl="taak", en="task"
    ),
}
# Days a resident has for a task, counted from assignment (or the activity's start, if later).
MIN_TASK_DAYS, MAX_TASK_DAYS = 1, 90
MIN_REASON_LENGTH = 3


def checked_unit(unit: str) -> Unit:
    try:
        return Unit(unit)
    except ValueError:
        raise InvalidInput(
            "unit_unknown",
            f"Eenheid '{unit}' bestaat niet; kies 'hour' (uur) of 'task' (taak).",
            f"Unit '{unit}' does not exist; choose 'hour' or 'task'.",
            field="unit",
            known=[u.value for u in Unit],
        ) from None


def check_guidelines(unit: Unit, value_cents_per_unit: int, cap_units_per_month: int, task_days: int) -> None:
    """Refuses values outside the municipality's guidelines, naming the field and the bound."""
    rule = GUIDELINES[unit]
    if value_cents_per_unit < rule.min_value_cents:
        raise InvalidInput(
            "value_below_guideline",
            f"De sociale waarde per {rule.nl} is te laag: de richtlijn van de gemeente is minstens"
            f" {euro(rule.min_value_cents)} per {rule.nl}.",
            f"The social value per {rule.en} is too low: the municipality's guideline is at least"
            f" {euro(rule.min_value_cents)} per {rule.en}.",
            field="value_cents_per_unit",
            bound="minimum",
            limit=rule.min_value_cents,
            unit=unit.value,
        )
    if value_cents_per_unit > rule.max_value_cents:
        raise InvalidInput(
            "value_above_guideline",
            f"De sociale waarde per {rule.nl} is te hoog: de richtlijn van de gemeente is hoogstens"
            f" {euro(rule.max_value_cents)} per {rule.nl}.",
            f"The social value per {rule.en} is too high: the municipality's guideline is at most"
            f" {euro(rule.max_value_cents)} per {rule.en}.",
            field="value_cents_per_unit",
            bound="maximum",
            limit=rule.max_value_cents,
            unit=unit.value,
        )
    if cap_units_per_month < 1:
        raise InvalidInput(
            "cap_below_guideline",
            "Het maximum per inwoner per maand moet minstens 1 zijn.",
            "The cap per resident per month must be at least 1.",
            field="cap_units_per_month",
            bound="minimum",
            limit=1,
            unit=unit.value,
        )
    if cap_units_per_month > rule.max_units_per_month:
        raise InvalidInput(
            "cap_above_guideline",
            "Het maximum per inwoner per maand is te hoog: de richtlijn is hoogstens"
            f" {rule.max_units_per_month} keer per {rule.nl}.",
            f"The cap per resident per month is too high: the guideline is at most {rule.max_units_per_month}"
            f" {rule.en}s.",
            field="cap_units_per_month",
            bound="maximum",
            limit=rule.max_units_per_month,
            unit=unit.value,
        )
    if not MIN_TASK_DAYS <= task_days <= MAX_TASK_DAYS:
        raise InvalidInput(
            "task_days_outside_guideline",
            f"Het aantal dagen voor een taak moet tussen {MIN_TASK_DAYS} en {MAX_TASK_DAYS} liggen.",
            f"The number of days for a task must be between {MIN_TASK_DAYS} and {MAX_TASK_DAYS}.",
            field="task_days",
            bound="minimum" if task_days < MIN_TASK_DAYS else "maximum",
            limit=MIN_TASK_DAYS if task_days < MIN_TASK_DAYS else MAX_TASK_DAYS,
        )


def _checked_text(value: str, field: str, nl: str, en: str, minimum: int = 3) -> str:
    value = value.strip()
    if len(value) < minimum:
        raise InvalidInput(
            f"{field}_too_short",
            f"{nl} is te kort: schrijf minstens {minimum} tekens.",
            f"{en} is too short: write at least {minimum} characters.",
            field=field,
            limit=minimum,
        )
    return value


@dataclass(frozen=True)
class Terms:
    """What the municipality decides for an activity: everything but its title, description and unit."""

    programme_id: int
    organisation_id: int
    value_cents_per_unit: int
    starts_on: datetime
    ends_on: datetime
    task_days: int
    cap_units_per_month: int
    area: str | None = None  # None: keep the suggestion's area


def terms_of(activity: Activity) -> Terms:
    """The terms of an activity of the catalogue; a suggestion not taken in (or declined) has none."""
    terms = (
        activity.programme_id,
        activity.organisation_id,
        activity.value_cents_per_unit,
        activity.starts_on,
        activity.ends_on,
        activity.task_days,
        activity.cap_units_per_month,
    )
    if activity.status != ActivityStatus.ACTIVE or any(term is None for term in terms):
        raise Conflict(
            "activity_not_active",
            f"Activiteit {activity.id} ('{activity.title}') staat niet open (status: {activity.status}).",
            f"Activity {activity.id} ('{activity.title}') is not open (status: {activity.status}).",
            field="activity_id",
        )
    programme_id, organisation_id, value, starts_on, ends_on, task_days, cap = terms
    assert programme_id is not None and organisation_id is not None and value is not None
    assert starts_on is not None and ends_on is not None and task_days is not None and cap is not None
    return Terms(programme_id, organisation_id, value, starts_on, ends_on, task_days, cap, activity.area)


def _apply_terms(session: Session, activity: Activity, terms: Terms, now: datetime) -> None:
    """Checks the terms against the guidelines, the programme's coin and the calendar, then sets them."""
    unit = checked_unit(activity.unit)
    check_guidelines(unit, terms.value_cents_per_unit, terms.cap_units_per_month, terms.task_days)
    programme = get_programme(session, terms.programme_id)
    if session.get(Organisation, terms.organisation_id) is None:
        error = not_found("Organisatie", "organisation", terms.organisation_id)
        error.field = "organisation_id"
        raise error
    if terms.starts_on.tzinfo is None or terms.ends_on.tzinfo is None:
        raise InvalidInput(
            "time_without_zone",
            "Geef tijden met een tijdzone (zoals 2026-03-01T09:00:00+01:00).",
            "Give times with a time zone (such as 2026-03-01T09:00:00+01:00).",
            field="starts_on",
        )
    if terms.ends_on <= terms.starts_on:
        raise InvalidInput(
            "time_frame_invalid",
            "Het einde van de activiteit moet na het begin liggen.",
            "The activity must end after it starts.",
            field="ends_on",
        )
    if terms.ends_on <= now:
        raise InvalidInput(
            "time_frame_past",
            "Het einde van de activiteit ligt in het verleden.",
            "The activity's end lies in the past.",
            field="ends_on",
        )
    area = checked_area(terms.area if terms.area is not None else activity.area)
    coin = catalogue(session).resolve(programme.coin, field="programme_id")
    if not is_within(area, coin.area):
        raise InvalidInput(
            "area_outside_coin",
            f"Gebied {area} ligt buiten het gebied van munt {coin.symbol} ({coin.area}): daar kan deze munt"
            " niet worden uitgegeven.",
            f"Area {area} lies outside the area of coin {coin.symbol} ({coin.area}): the coin cannot be paid"
            " there.",
            field="area",
            coin_area=coin.area,
        )
    if coin.expiry and terms.ends_on.timestamp() > coin.expiry:
        raise InvalidInput(
            "ends_after_coin_expiry",
            f"De activiteit loopt langer dan munt {coin.symbol} geldig is; kies een eerder einde.",
            f"The activity runs past the expiry of coin {coin.symbol}; choose an earlier end.",
            field="ends_on",
            coin_expiry=coin.expiry,
        )
    activity.programme_id = programme.id
    activity.organisation_id = terms.organisation_id
    activity.value_cents_per_unit = terms.value_cents_per_unit
    activity.starts_on = terms.starts_on
    activity.ends_on = terms.ends_on
    activity.task_days = terms.task_days
    activity.cap_units_per_month = terms.cap_units_per_month
    activity.area = area


def create_activity(
    session: Session,
    *,
    title: str,
    description: str,
    unit: str,
    terms: Terms,
    now: datetime | None = None,
) -> Activity:
    """Adds an activity to the catalogue (the municipality)."""
    if terms.area is None:
        raise InvalidInput(
            "area_missing",
            "Kies een gebied voor de activiteit.",
            "Choose an area for the activity.",
            field="area",
        )
    activity = Activity(
        title=_checked_text(title, "title", "De titel", "The title"),
        description=_checked_text(description, "description", "De beschrijving", "The description"),
        unit=checked_unit(unit).value,
        area=terms.area,
        status=ActivityStatus.ACTIVE,
    )
    _apply_terms(session, activity, terms, now or utcnow())
    session.add(activity)
    session.flush()
    return activity


def get_activity(session: Session, activity_id: int, field: str | None = "activity_id") -> Activity:
    activity = session.get(Activity, activity_id)
    if activity is None:
        error = not_found("Activiteit", "activity", activity_id)
        error.field = field
        raise error
    return activity


def list_activities(
    session: Session, status: str | None = None, *, organisation_id: int | None = None
) -> list[Activity]:
    """The catalogue (with `organisation_id`: the activities that organisation verifies)."""
    query = select(Activity).order_by(Activity.id)
    if status is not None:
        query = query.where(Activity.status == status)
    if organisation_id is not None:
        query = query.where(Activity.organisation_id == organisation_id)
    return list(session.scalars(query))


# --------------------------------------------------------------------------------------------------
# Suggestions by residents
# --------------------------------------------------------------------------------------------------


def suggest_activity(
    session: Session, resident_id: int, *, title: str, description: str, unit: str
) -> Activity:
    """A resident proposes an activity for their own area; the municipality decides on it."""
    resident = session.get(Resident, resident_id)
    if resident is None:
        raise not_found("Inwoner", "resident", resident_id)
    suggestion = Activity(
        title=_checked_text(title, "title", "De titel", "The title"),
        description=_checked_text(
            description, "description", "De beschrijving", "The description", minimum=10
        ),
        unit=checked_unit(unit).value,
        area=resident.area,
        status=ActivityStatus.SUGGESTED,
        suggested_by=resident.id,
    )
    session.add(suggestion)
    session.flush()
    return suggestion


def suggestions_of(session: Session, resident_id: int) -> list[Activity]:
    return list(
        session.scalars(select(Activity).where(Activity.suggested_by == resident_id).order_by(Activity.id))
    )


def _open_suggestion(session: Session, activity_id: int) -> tuple[Activity, int]:
    """A suggestion not decided on yet, and the resident who made it."""
    suggestion = get_activity(session, activity_id)
    if suggestion.status != ActivityStatus.SUGGESTED or suggestion.suggested_by is None:
        raise Conflict(
            "suggestion_already_decided",
            f"Over dit voorstel is al besloten (status: {suggestion.status}).",
            f"This suggestion has already been decided on (status: {suggestion.status}).",
            status_now=str(suggestion.status),
        )
    return suggestion, suggestion.suggested_by


def approve_suggestion(
    session: Session,
    activity_id: int,
    terms: Terms,
    *,
    title: str | None = None,
    description: str | None = None,
    now: datetime | None = None,
) -> Activity:
    """Takes a suggestion into the catalogue, on the municipality's terms; tells the resident."""
    suggestion, resident_id = _open_suggestion(session, activity_id)
    title = suggestion.title if title is None else _checked_text(title, "title", "De titel", "The title")
    if description is not None:
        description = _checked_text(description, "description", "De beschrijving", "The description")
    _apply_terms(session, suggestion, terms, now or utcnow())
    suggestion.title = title
    suggestion.description = description or suggestion.description
    suggestion.status = ActivityStatus.ACTIVE
    suggestion.decision_reason = None
    notify(
        session,
        resident_id,
        Kind.SUGGESTION_APPROVED,
        f"Goed nieuws: uw voorstel '{suggestion.title}' staat nu in de lijst met activiteiten.",
        f"Good news: your suggestion '{suggestion.title}' is now in the list of activities.",
        activity_id=suggestion.id,
    )
    return suggestion


def reject_suggestion(session: Session, activity_id: int, reason: str) -> Activity:
    """Declines a suggestion with a reason the resident reads."""
    suggestion, resident_id = _open_suggestion(session, activity_id)
    reason = _checked_text(reason, "reason", "De reden", "The reason", minimum=MIN_REASON_LENGTH)
    suggestion.status = ActivityStatus.REJECTED
    suggestion.decision_reason = reason
    notify(
        session,
        resident_id,
        Kind.SUGGESTION_REJECTED,
        f"Uw voorstel '{suggestion.title}' is niet overgenomen. De reden: {reason}",
        f"Your suggestion '{suggestion.title}' was not taken up. The reason: {reason}",
        activity_id=suggestion.id,
    )
    return suggestion
