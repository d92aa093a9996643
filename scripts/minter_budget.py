"""Gives a minter (the backend's minting key) its budget, takes its role and budget away, or shows
them. The budget is in euros and replaces the earlier one (it is not added to it); every mint spends
from it. Needs MASTER_MINTER_ROLE on the ActivityIssuer (not for `show`).

    brownie run scripts/minter_budget.py configure minter=0x... euros=50000 --network <net>
    brownie run scripts/minter_budget.py remove minter=0x... --network <net>
    brownie run scripts/minter_budget.py show minter=0x... --network <net>
"""

from __future__ import annotations

from scripts._admin import Admin, Arg, Refusal, address, cents, euros, parse_args, say

USAGE = [
    "brownie run scripts/minter_budget.py configure minter=0x... euros=50000 --network <net>",
    "brownie run scripts/minter_budget.py remove minter=0x... --network <net>",
    "brownie run scripts/minter_budget.py show minter=0x... --network <net>",
]
MINTER = Arg("minter", "0x...", address)


def main(*args):
    raise Refusal(
        "kies configure (budget instellen), remove (minter weghalen) of show (tonen)",
        "choose configure (set the budget), remove (take the minter away) or show",
        usage=USAGE,
    )


def configure(*args):
    """Makes the account a minter with this budget, replacing any earlier budget."""
    admin = Admin.connect()
    values = parse_args(args, [MINTER, Arg("euros", "50000", cents)], USAGE)
    minter, budget = values["minter"], values["euros"]
    before = admin.issuer.minterAllowance(minter)
    admin.require_role("issuer", "MASTER_MINTER_ROLE")
    return admin.send(
        f"budget van minter {minter} van {euros(before)} op {euros(budget)} gezet",
        f"budget of minter {minter} set from {euros(before)} to {euros(budget)}",
        admin.issuer.configureMinter,
        minter,
        budget,
    )


def remove(*args):
    """Takes the minter's role and what is left of its budget away."""
    admin = Admin.connect()
    minter = parse_args(args, [MINTER], USAGE)["minter"]
    if not is_minter(admin, minter):
        raise Refusal(f"{minter} is geen minter", f"{minter} is not a minter")
    left = admin.issuer.minterAllowance(minter)
    admin.require_role("issuer", "MASTER_MINTER_ROLE")
    return admin.send(
        f"minter {minter} weggehaald (met een resterend budget van {euros(left)})",
        f"minter {minter} removed (with {euros(left)} of budget left)",
        admin.issuer.removeMinter,
        minter,
    )


def show(*args):
    """Says whether the account is a minter and what is left of its budget."""
    admin = Admin.connect()
    minter = parse_args(args, [MINTER], USAGE)["minter"]
    budget, minting = admin.issuer.minterAllowance(minter), is_minter(admin, minter)
    say(
        f"{minter}: {'minter' if minting else 'geen minter'}, budget {euros(budget)}",
        f"{minter}: {'a minter' if minting else 'not a minter'}, budget {euros(budget)}",
    )
    return budget


def is_minter(admin: Admin, account: str) -> bool:
    return admin.issuer.hasRole(admin.issuer.MINTER_ROLE(), account)
