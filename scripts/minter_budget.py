"""Raises or lowers a minter's budget (the backend's minting key), takes its role and budget away, or
shows them. Every change is relative (it adds or subtracts): a change never overwrites what an expiry
reclaim credited back meanwhile. `increase` makes the account a minter if it is not one yet; `decrease`
lowers the budget to 0 at most. Needs MASTER_MINTER_ROLE on the ActivityIssuer (not for `show`).

    brownie run scripts/minter_budget.py increase minter=0x... euros=50000 --network <net>
    brownie run scripts/minter_budget.py decrease minter=0x... euros=10000 --network <net>
    brownie run scripts/minter_budget.py remove minter=0x... --network <net>
    brownie run scripts/minter_budget.py show minter=0x... --network <net>
"""

from __future__ import annotations

from scripts._admin import Admin, Arg, BadValue, Refusal, address, cents, euros, parse_args, say

USAGE = [
    "brownie run scripts/minter_budget.py increase minter=0x... euros=50000 --network <net>",
    "brownie run scripts/minter_budget.py decrease minter=0x... euros=10000 --network <net>",
    "brownie run scripts/minter_budget.py remove minter=0x... --network <net>",
    "brownie run scripts/minter_budget.py show minter=0x... --network <net>",
]
MINTER = Arg("minter", "0x...", address)


def main(*args):
    raise Refusal(
        "kies increase (budget verhogen), decrease (verlagen), remove (minter weghalen) of show (tonen)",
        "choose increase (raise the budget), decrease (lower it), remove (take the minter away) or show",
        usage=USAGE,
    )


def positive_cents(text: str) -> int:
    amount = cents(text)
    if amount == 0:
        raise BadValue("moet meer dan 0 zijn", "must be more than 0")
    return amount


def increase(*args):
    """Adds to the account's budget, and makes it a minter if it is not one."""
    return change(args, raise_budget=True)


def decrease(*args):
    """Subtracts from the minter's budget (down to 0 at most)."""
    return change(args, raise_budget=False)


def change(args, raise_budget: bool):
    admin = Admin.connect()
    values = parse_args(args, [MINTER, Arg("euros", "50000", positive_cents)], USAGE)
    minter, amount = values["minter"], values["euros"]
    if not raise_budget and not is_minter(admin, minter):
        raise Refusal(
            f"{minter} is geen minter; er is geen budget om te verlagen",
            f"{minter} is not a minter; there is no budget to lower",
        )
    before = admin.issuer.minterAllowance(minter)
    admin.require_role("issuer", "MASTER_MINTER_ROLE")
    verb_nl, verb_en = ("verhoogd", "raised") if raise_budget else ("verlaagd", "lowered")
    function = admin.issuer.increaseMinterAllowance if raise_budget else admin.issuer.decreaseMinterAllowance
    tx = admin.send(
        f"budget van minter {minter} met {euros(amount)} {verb_nl}",
        f"budget of minter {minter} {verb_en} by {euros(amount)}",
        function,
        minter,
        amount,
    )
    changed = tx.events["MinterAllowanceChanged"]
    say(
        f"  Budget was {euros(changed['oldAllowance'])}, is nu {euros(changed['newAllowance'])}"
        f" (voor deze opdracht zag het script {euros(before)}).",
        f"  The budget was {euros(changed['oldAllowance'])}, is now {euros(changed['newAllowance'])}"
        f" (before this the script saw {euros(before)}).",
    )
    return tx


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
