"""Freezes participants' wallets (they can neither send nor receive coins) after fraud or theft, or
while a case is looked into, and before a lost wallet's recovery (scripts/recover.py). Needs
COMPLIANCE_ROLE on the ParticipantRegistry (the registrar, whose key the backend uses for admission,
cannot freeze). scripts/unfreeze.py undoes it.

    brownie run scripts/freeze.py main addresses=0x...,0x... --network <net>

Addresses that are frozen already are left as they are; an address that is not registered is refused.
"""

from __future__ import annotations

from scripts._admin import Admin, Arg, Problem, Refusal, address_list, parse_args, say


def main(*args):
    return set_frozen(
        args, frozen=True, usage="brownie run scripts/freeze.py main addresses=0x...,0x... --network <net>"
    )


def set_frozen(args, frozen: bool, usage: str):
    """Freezes or unfreezes the listed participants in one transaction."""
    admin = Admin.connect()
    addresses = parse_args(args, [Arg("addresses", "0x...,0x...", address_list)], [usage])["addresses"]
    state_nl, state_en = ("bevroren", "frozen") if frozen else ("niet bevroren", "not frozen")
    problems, change = [], []
    for account in addresses:
        kind, _, _, is_frozen, _ = admin.registry.participant(account)
        if kind == 0:
            problems.append(Problem("niet geregistreerd", "not registered", where=account))
        elif is_frozen == frozen:
            say(f"Overgeslagen: {account} is al {state_nl}.", f"Skipped: {account} is {state_en} already.")
        else:
            change.append(account)
    if problems:
        raise Refusal(
            "niet alle adressen zijn deelnemers; er is niets verstuurd",
            "not every address is a participant; nothing was sent",
            problems,
        )
    if not change:
        return None
    admin.require_role("registry", "COMPLIANCE_ROLE")
    function = admin.registry.freeze if frozen else admin.registry.unfreeze
    verb_nl, verb_en = ("bevroren", "frozen") if frozen else ("ontdooid", "unfrozen")
    return admin.send(
        f"{len(change)} wallet(s) {verb_nl}: {', '.join(change)}",
        f"{len(change)} wallet(s) {verb_en}: {', '.join(change)}",
        function,
        change,
    )
