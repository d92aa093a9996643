"""Domain errors: one root, a machine code, a message in Dutch and in English, the field at fault.

The API turns them into application/problem+json answers; nothing is changed when one is raised.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status = 400

    def __init__(
        self,
        code: str,
        nl: str,
        en: str,
        *,
        field: str | None = None,
        status: int | None = None,
        **details: Any,
    ):
        super().__init__(en)
        self.code = code
        self.message_nl = nl
        self.message_en = en
        self.field = field
        self.details = details
        if status is not None:
            self.status = status


class InvalidInput(DomainError):
    status = 422


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    status = 409


class NotAllowed(DomainError):
    status = 403


class NotAuthenticated(DomainError):
    status = 401


def not_found(what_nl: str, what_en: str, ident: Any) -> NotFound:
    return NotFound(
        f"{what_en.replace(' ', '_')}_not_found",
        f"{what_nl} {ident} bestaat niet.",
        f"{what_en.capitalize()} {ident} does not exist.",
        id=ident,
    )
