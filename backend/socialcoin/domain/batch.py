"""Batch requests (rows read from a spreadsheet): every row is checked before anything changes, every
fault of every row is collected, and one 422 `batch_invalid` answer names them all by line and field.

Use:

    errors = RowErrors()
    for row in rows:
        with errors.row(row.line):          # a DomainError raised inside is recorded for this line
            name = checked_text(row.name, ...)
        errors.add(row.line, Conflict(...))  # or record one directly (several per line are fine)
    errors.raise_if_any()                    # BatchInvalid when any row is at fault; else nothing

The API renders BatchInvalid as a problem whose `errors` list holds
{line, field, code, detail (Dutch), detail_en} per fault, in line order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import insert, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..db.base import Base
from ..db.types import utcnow
from .errors import Conflict, DomainError, InvalidInput

MAX_ROWS = 10_000  # rows in one batch request
CHUNK = 1_000  # values in one SQL IN (...): well below every database's limit on parameters

T = TypeVar("T")


def chunks(values: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    """`values` in slices of at most `size`: for IN (...) queries over a whole batch."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def status_counts(statuses: Iterable[str]) -> dict[str, int]:
    """How many rows ended in each status: the `counts` of a batch answer."""
    return dict(Counter(statuses))


@dataclass(frozen=True)
class RowError:
    line: int
    field: str | None
    code: str
    nl: str
    en: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "field": self.field,
            "code": self.code,
            "detail": self.nl,
            "detail_en": self.en,
        }


class BatchInvalid(InvalidInput):
    """Some rows of a batch are at fault: nothing of the batch was applied. `errors` lists them."""

    def __init__(self, errors: list[RowError]):
        lines = sorted({error.line for error in errors})
        shown = ", ".join(map(str, lines[:10])) + (" ..." if len(lines) > 10 else "")
        super().__init__(
            "batch_invalid",
            f"{len(lines)} {'regel klopt' if len(lines) == 1 else 'regels kloppen'} niet (regel {shown}). "
            "Er is niets veranderd: verbeter de regels en stuur het bestand opnieuw.",
            f"{len(lines)} {'line is' if len(lines) == 1 else 'lines are'} invalid (line {shown}). "
            "Nothing was changed: correct them and send the file again.",
        )
        self.errors = sorted(errors, key=lambda error: error.line)


def applied_meanwhile(code: str) -> Conflict:
    """A unique constraint met while applying: another request applied some of the same rows between
    this one's checks and its insert. Nothing of this one was applied; sending it again skips them."""
    return Conflict(
        code,
        "Een deel van deze regels is net tegelijk door een ander verzoek verwerkt. Er is niets veranderd: "
        "stuur het bestand opnieuw, dan wordt wat er al is overgeslagen.",
        "Some of these rows were applied by another request at the same moment. Nothing was changed: send "
        "the file again and what exists is skipped.",
    )


def insert_rows(
    session: Session, model: type[Base], columns: list[dict[str, Any]], key: str, conflict_code: str
) -> dict[Any, int]:
    """Inserts the new rows of a batch (stamped created/updated now) in one executemany, and returns their
    ids by the value of `key`, a unique column. (Not INSERT ... RETURNING: with a binary column SQLAlchemy
    sends that one row at a time and sorts the answers in quadratic time, 15 s for 10,000 rows.)
    A unique constraint met means another request applied some of the same rows meanwhile:
    `applied_meanwhile(conflict_code)`."""
    now = utcnow()
    try:
        session.execute(insert(model), [{"created_at": now, "updated_at": now, **row} for row in columns])
    except IntegrityError as exc:
        raise applied_meanwhile(conflict_code) from exc
    column = getattr(model, key)
    (primary_key,) = inspect(model).primary_key
    ids: dict[Any, int] = {}
    for chunk in chunks([row[key] for row in columns]):
        ids.update(session.execute(select(column, primary_key).where(column.in_(chunk))).all())
    return ids


class RowErrors:
    """Collects the faults of a batch's rows, so that all of them are reported at once."""

    def __init__(self) -> None:
        self._errors: list[RowError] = []
        self._lines: set[int] = set()

    def add(self, line: int, error: DomainError, field: str | None = None) -> None:
        """Records `error` against `line` (and `field`, when the error names none or another)."""
        self._errors.append(
            RowError(line, field or error.field, error.code, error.message_nl, error.message_en)
        )
        self._lines.add(line)

    @contextmanager
    def row(self, line: int, field: str | None = None) -> Iterator[None]:
        """Records a DomainError raised inside the block against `line` instead of letting it through."""
        try:
            yield
        except DomainError as error:
            self.add(line, error, field)

    def __contains__(self, line: int) -> bool:
        """Whether `line` has a fault already (to skip checks that need its earlier fields)."""
        return line in self._lines

    def __len__(self) -> int:
        return len(self._errors)

    def raise_if_any(self) -> None:
        if self._errors:
            raise BatchInvalid(list(self._errors))
