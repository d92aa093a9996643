"""Checks of single input fields, each returning the cleaned value or raising InvalidInput that names
the field: areas, addresses, texts, case numbers, e-mail, phone, PINs, IBAN and BIC. One place for each
rule; the service and its batch endpoints use the same checks."""

from __future__ import annotations

import re

from eth_utils import is_hex_address, to_checksum_address

from ..areas import InvalidAreaCode, to_bytes8
from .errors import InvalidInput


def is_checked_address(address: str) -> bool:
    """A 0x address of 40 hex digits whose mixed case, if any, is a correct checksum (eth_utils.is_address
    accepts a wrong checksum: a mistyped address would then pass)."""
    if not isinstance(address, str) or not is_hex_address(address):
        return False
    digits = address[2:]
    return digits in (digits.lower(), digits.upper()) or to_checksum_address(address) == address


def checked_area(area: str, field: str = "area") -> str:
    try:
        to_bytes8(area)
    except InvalidAreaCode as exc:
        raise InvalidInput(
            "area_invalid",
            f"Gebied '{area}' is geen CBS-code (zoals WK020201).",
            f"Area '{area}' is not a CBS code (such as WK020201).",
            field=field,
        ) from exc
    return area.strip().upper()


def checked_address(address: str, field: str) -> str:
    if not is_checked_address(address):
        raise InvalidInput(
            "address_invalid",
            f"'{address}' is geen geldig walletadres.",
            f"'{address}' is not a valid wallet address.",
            field=field,
        )
    return to_checksum_address(address)


def checked_text(
    value: str | None, field: str, what_nl: str, what_en: str, longest: int | None = None
) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidInput(f"{field}_missing", f"Vul {what_nl} in.", f"Fill in {what_en}.", field=field)
    if longest is not None and len(value) > longest:
        raise InvalidInput(
            f"{field}_too_long",
            f"{what_nl[0].upper() + what_nl[1:]} is te lang: hoogstens {longest} tekens.",
            f"{what_en[0].upper() + what_en[1:]} is too long: at most {longest} characters.",
            field=field,
        )
    return value


def _elfproef(digits: str) -> bool:
    """The check every BSN passes (9 digits; weights 9..2 and -1 for the last)."""
    digits = digits.zfill(9)
    total = sum(int(d) * w for d, w in zip(digits[:8], range(9, 1, -1), strict=True)) - int(digits[8])
    return total % 11 == 0 and int(digits) != 0


def checked_case_number(case_number: str | None) -> str:
    """The municipality's case number. A BSN must never be used in its place: a run of 8 or 9 digits
    that passes the BSN check (elfproef) is refused."""
    case_number = checked_text(case_number, "case_number", "het dossiernummer", "the case number", longest=60)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9./_ -]*", case_number):
        raise InvalidInput(
            "case_number_invalid",
            "Een dossiernummer bestaat uit letters, cijfers en - . / _ (zoals 2026-0042).",
            "A case number has letters, digits and - . / _ (such as 2026-0042).",
            field="case_number",
        )
    if any(_elfproef(run) for run in re.findall(r"(?<!\d)\d{8,9}(?!\d)", case_number)):
        raise InvalidInput(
            "case_number_looks_like_bsn",
            "Dit lijkt op een BSN. Gebruik het dossiernummer van de gemeente, nooit een BSN.",
            "This looks like a BSN (citizen service number). Use the municipal case number, never a BSN.",
            field="case_number",
        )
    return case_number


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ()-]{5,18}[0-9]$")


def checked_email(email: str | None) -> str | None:
    if email is None or not email.strip():
        return None
    email = email.strip()
    if len(email) > 200 or not _EMAIL.match(email):
        raise InvalidInput(
            "email_invalid",
            f"'{email}' is geen geldig e-mailadres.",
            f"'{email}' is not a valid email address.",
            field="email",
        )
    return email


def checked_phone(phone: str | None) -> str | None:
    if phone is None or not phone.strip():
        return None
    phone = phone.strip()
    if not _PHONE.match(phone):
        raise InvalidInput(
            "phone_invalid",
            f"'{phone}' is geen geldig telefoonnummer (zoals 06 12345678).",
            f"'{phone}' is not a valid phone number (such as +31 6 12345678).",
            field="phone",
        )
    return phone


def checked_new_pin(pin: str, field: str = "pin") -> str:
    """A PIN someone chooses: 5 to 8 digits, not all the same and not a simple sequence."""
    if not (isinstance(pin, str) and pin.isascii() and pin.isdigit() and 5 <= len(pin) <= 8):
        raise InvalidInput(
            "pin_invalid", "Een pincode bestaat uit 5 tot 8 cijfers.", "A PIN has 5 to 8 digits.", field=field
        )
    steps = {(int(b) - int(a)) % 10 for a, b in zip(pin, pin[1:], strict=False)}
    if steps in ({0}, {1}, {9}):
        raise InvalidInput(
            "pin_weak",
            "Deze pincode is te makkelijk te raden. Kies een andere, dus niet zoals 11111 of 12345.",
            "This PIN is too easy to guess. Choose another, not like 11111 or 12345.",
            field=field,
        )
    return pin


# IBAN lengths of the SEPA countries: only these can be paid out with a SEPA credit transfer.
SEPA_IBAN_LENGTHS = {
    "AD": 24, "AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "EE": 20,
    "ES": 24, "FI": 18, "FR": 27, "GB": 22, "GI": 23, "GR": 27, "HR": 21, "HU": 28, "IE": 22, "IS": 26,
    "IT": 27, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MT": 31, "NL": 18, "NO": 15, "PL": 28,
    "PT": 25, "RO": 24, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "VA": 22,
}  # fmt: skip
IBAN = re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$")


def checked_iban(iban: str) -> str:
    compact = re.sub(r"[\s-]", "", iban).upper()
    if not IBAN.match(compact):
        raise InvalidInput(
            "iban_invalid",
            "Dit IBAN heeft niet de goede vorm (zoals NL91ABNA0417164300).",
            "This IBAN is not well formed (such as NL91ABNA0417164300).",
            field="iban",
        )
    length = SEPA_IBAN_LENGTHS.get(compact[:2])
    if length is None:
        raise InvalidInput(
            "iban_not_sepa",
            f"Naar een IBAN uit {compact[:2]} kunnen we niet uitbetalen. Kies een rekening in een SEPA-land.",
            f"We cannot pay out to an IBAN from {compact[:2]}: choose an account in a SEPA country.",
            field="iban",
        )
    if len(compact) != length or (compact[:2] == "NL" and not re.fullmatch(r"[A-Z]{4}\d{10}", compact[4:])):
        raise InvalidInput(
            "iban_invalid",
            f"Een IBAN uit {compact[:2]} heeft {length} tekens. Controleer het nummer.",
            f"An IBAN from {compact[:2]} has {length} characters. Check the number.",
            field="iban",
        )
    rearranged = compact[4:] + compact[:4]
    number = int("".join(str(int(ch, 36)) for ch in rearranged))
    if number % 97 != 1:
        raise InvalidInput(
            "iban_invalid",
            "Dit IBAN klopt niet: controleer de cijfers.",
            "This IBAN's check digits do not match: check the number.",
            field="iban",
        )
    return compact


_BIC = re.compile(r"^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$")


def checked_bic(bic: str | None) -> str | None:
    if bic is None or not bic.strip():
        return None
    compact = bic.replace(" ", "").upper()
    if not _BIC.match(compact):
        raise InvalidInput(
            "bic_invalid",
            "Deze BIC heeft niet de goede vorm (8 of 11 tekens, zoals ABNANL2A).",
            "This BIC is not well formed (8 or 11 characters, such as ABNANL2A).",
            field="bic",
        )
    return compact
