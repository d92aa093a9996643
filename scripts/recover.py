"""Moves a lost wallet to a new address, after the person's identity was checked again, in two steps:
its registration (kind, area, purposes, record hash) and its balance in every coin. The lost address
ends unregistered for good, so nothing signed with its key can move coins any more.

    brownie run scripts/recover.py request lost=0x... new=0x... case=Z-2026-0042 --network <net>
    brownie run scripts/recover.py execute lost=0x... --network <net>
    brownie run scripts/recover.py cancel lost=0x... --network <net>
    brownie run scripts/recover.py show lost=0x... --network <net>

`request` needs the lost wallet frozen first (scripts/freeze.py), a new address that was never
registered, and the municipality's case number: only a keyed hash of it goes on chain (with
SOCIALCOIN_SECRET_KEY, the backend's secret, when set). `execute` works once the registry's recovery
delay has passed since the request. Both need COMPLIANCE_ROLE on the ParticipantRegistry and refuse
while the system is paused. `cancel` withdraws a pending request: the admin's key, or the lost key
itself, can do that, also while paused.
"""

from __future__ import annotations

import os

from scripts._admin import (
    DEFAULT_ADMIN_ROLE,
    Admin,
    Arg,
    Refusal,
    address,
    euros,
    nonempty,
    parse_args,
    say,
    when,
)
from socialcoin.domain.admission import case_reference

USAGE = [
    "brownie run scripts/recover.py request lost=0x... new=0x... case=Z-2026-0042 --network <net>",
    "brownie run scripts/recover.py execute lost=0x... --network <net>",
    "brownie run scripts/recover.py cancel lost=0x... --network <net>",
    "brownie run scripts/recover.py show lost=0x... --network <net>",
]
LOST = Arg("lost", "0x...", address)
ZERO = "0x" + "00" * 20


def main(*args):
    raise Refusal(
        "kies request (aanvragen), execute (uitvoeren na de wachttijd), cancel (intrekken) of show (tonen)",
        "choose request, execute (after the delay), cancel (withdraw) or show",
        usage=USAGE,
    )


def pending(admin: Admin, lost: str) -> tuple[str, int, bytes] | None:
    """The lost wallet's pending request (replacement, executable at, case reference), if any."""
    replacement, executable_at, case = admin.registry.recoveryRequest(lost)
    return None if replacement == ZERO else (replacement, int(executable_at), bytes(case))


def refuse_while_paused(admin: Admin) -> None:
    if admin.registry.paused():
        raise Refusal(
            "Socialcoin staat stil (gepauzeerd); herstellen kan pas na de pauze (scripts/unpause.py)",
            "Socialcoin is paused; a recovery waits until the pause ends (scripts/unpause.py)",
        )


def request(*args):
    """Records the request; it can be executed after the recovery delay."""
    admin = Admin.connect()
    values = parse_args(
        args, [LOST, Arg("new", "0x...", address), Arg("case", "Z-2026-0042", nonempty)], USAGE
    )
    lost, new = values["lost"], values["new"]
    if lost == new:
        raise Refusal("lost en new zijn hetzelfde adres", "lost and new are the same address", usage=USAGE)
    kind, _, _, frozen, _ = admin.registry.participant(lost)
    if kind == 0:
        raise Refusal(f"lost={lost} is niet geregistreerd", f"lost={lost} is not registered")
    if not frozen:
        raise Refusal(
            f"lost={lost} is niet bevroren; bevries de wallet eerst: brownie run scripts/freeze.py main "
            f"addresses={lost}",
            f"lost={lost} is not frozen; freeze the wallet first: brownie run scripts/freeze.py main "
            f"addresses={lost}",
        )
    if admin.registry.participant(new)[0] != 0 or admin.registry.isLost(new):
        raise Refusal(
            f"new={new} is al geregistreerd (of was een verloren wallet); herstel naar een nieuw, "
            "ongebruikt adres",
            f"new={new} is registered already (or was a lost wallet); recover to a new, unused address",
        )
    if (earlier := pending(admin, lost)) is not None:
        raise Refusal(
            f"voor lost={lost} loopt al een aanvraag (naar {earlier[0]}); trek die eerst in met cancel",
            f"lost={lost} already has a pending request (to {earlier[0]}); cancel that first",
        )
    refuse_while_paused(admin)
    admin.require_role("registry", "COMPLIANCE_ROLE")
    reference = case_reference(
        os.environ.get("SOCIALCOIN_SECRET_KEY") or os.urandom(32).hex(), values["case"]
    )
    tx = admin.send(
        f"herstel van wallet {lost} naar {new} aangevraagd",
        f"recovery of wallet {lost} to {new} requested",
        admin.registry.requestRecovery,
        lost,
        new,
        reference,
    )
    executable_at = tx.events["RecoveryRequested"]["executableAt"]
    say(
        f"  Zaakkenmerk op de keten: {reference} (bewaar het bij het dossier).",
        f"  Case reference on chain: {reference} (keep it with the case file).",
    )
    say(
        f"  Uitvoeren kan vanaf {when(executable_at)}: scripts/recover.py execute lost={lost}. Tot dan kan "
        "de beheerder of de verloren sleutel zelf de aanvraag intrekken.",
        f"  It can be executed from {when(executable_at)}: scripts/recover.py execute lost={lost}. Until "
        "then the admin or the lost key itself can cancel it.",
    )
    return tx


def execute(*args):
    """Moves the registration and every balance, once the delay has passed."""
    admin = Admin.connect()
    lost = parse_args(args, [LOST], USAGE)["lost"]
    found = pending(admin, lost)
    if found is None:
        raise Refusal(
            f"voor lost={lost} loopt geen aanvraag; eerst scripts/recover.py request",
            f"lost={lost} has no pending request; first scripts/recover.py request",
        )
    new, executable_at, _case = found
    if admin.chain_time() < executable_at:
        raise Refusal(
            f"de wachttijd loopt nog: uitvoeren kan vanaf {when(executable_at)}",
            f"the delay has not passed: it can be executed from {when(executable_at)}",
        )
    if not admin.registry.participant(lost)[3]:
        raise Refusal(
            f"lost={lost} is intussen ontdooid; bevries hem opnieuw, of trek de aanvraag in",
            f"lost={lost} was unfrozen meanwhile; freeze it again, or cancel the request",
        )
    if admin.registry.participant(new)[0] != 0:
        raise Refusal(
            f"het nieuwe adres {new} is intussen geregistreerd; trek de aanvraag in en vraag opnieuw aan",
            f"the new address {new} was registered meanwhile; cancel the request and request again",
        )
    refuse_while_paused(admin)
    admin.require_role("registry", "COMPLIANCE_ROLE")
    held = [(coin, coin.contract.balanceOf(lost)) for coin in admin.coins()]
    tx = admin.send(
        f"wallet {lost} hersteld naar {new}",
        f"wallet {lost} recovered to {new}",
        admin.registry.executeRecovery,
        lost,
    )
    for coin, balance in held:
        if balance:
            say(f"  {coin.symbol}: {euros(balance)} verplaatst", f"  {coin.symbol}: {euros(balance)} moved")
    if not any(balance for _, balance in held):
        say("  Er stond geen saldo op de verloren wallet.", "  The lost wallet held no balance.")
    return tx


def cancel(*args):
    """Withdraws the pending request: the admin's key, or the lost key itself."""
    admin = Admin.connect()
    lost = parse_args(args, [LOST], USAGE)["lost"]
    if pending(admin, lost) is None:
        raise Refusal(f"voor lost={lost} loopt geen aanvraag", f"lost={lost} has no pending request")
    if admin.sender.address != lost:
        admin.require_role("registry", DEFAULT_ADMIN_ROLE)
    return admin.send(
        f"herstelaanvraag voor wallet {lost} ingetrokken",
        f"recovery request for wallet {lost} cancelled",
        admin.registry.cancelRecovery,
        lost,
    )


def show(*args):
    """Says whether a request is pending for the wallet, and from when it can be executed."""
    admin = Admin.connect()
    lost = parse_args(args, [LOST], USAGE)["lost"]
    found = pending(admin, lost)
    if found is None:
        if admin.registry.isLost(lost):
            say(
                f"{lost}: geen aanvraag (deze wallet is al hersteld en blijft buiten gebruik)",
                f"{lost}: no request (this wallet was recovered and stays out of use)",
            )
        else:
            say(f"{lost}: geen aanvraag", f"{lost}: no request")
        return None
    new, executable_at, case = found
    say(
        f"{lost}: aanvraag naar {new}, zaakkenmerk 0x{case.hex()}, uit te voeren vanaf {when(executable_at)}",
        f"{lost}: request to {new}, case reference 0x{case.hex()}, executable from {when(executable_at)}",
    )
    return found
