"""Moves a lost wallet to a new address, after the person's identity was checked again: its
registration (kind, area, purposes, frozen state, record hash) and its balance in every coin. The
lost address ends unregistered, so nothing signed with its key can move coins any more. Works while
the system is paused. Needs COMPLIANCE_ROLE on the ParticipantRegistry.

    brownie run scripts/recover.py main lost=0x... new=0x... --network <net>

The new address must not be registered yet.
"""

from __future__ import annotations

from scripts._admin import Admin, Arg, Refusal, address, euros, parse_args, say

USAGE = ["brownie run scripts/recover.py main lost=0x... new=0x... --network <net>"]


def main(*args):
    admin = Admin.connect()
    values = parse_args(args, [Arg("lost", "0x...", address), Arg("new", "0x...", address)], USAGE)
    lost, new = values["lost"], values["new"]
    if lost == new:
        raise Refusal("lost en new zijn hetzelfde adres", "lost and new are the same address", usage=USAGE)
    kind, _, _, frozen, _ = admin.registry.participant(lost)
    if kind == 0:
        raise Refusal(f"lost={lost} is niet geregistreerd", f"lost={lost} is not registered")
    if admin.registry.participant(new)[0] != 0:
        raise Refusal(
            f"new={new} is al geregistreerd; herstel naar een nieuw, ongebruikt adres",
            f"new={new} is registered already; recover to a new, unused address",
        )
    admin.require_role("registry", "COMPLIANCE_ROLE")
    held = [(coin, coin.contract.balanceOf(lost)) for coin in admin.coins()]
    tx = admin.send(
        f"wallet {lost} hersteld naar {new}",
        f"wallet {lost} recovered to {new}",
        admin.registry.recover,
        lost,
        new,
    )
    for coin, balance in held:
        if balance:
            say(f"  {coin.symbol}: {euros(balance)} verplaatst", f"  {coin.symbol}: {euros(balance)} moved")
    if not any(balance for _, balance in held):
        say("  Er stond geen saldo op de verloren wallet.", "  The lost wallet held no balance.")
    if frozen:
        say(
            f"  De verloren wallet was bevroren, dus {new} is dat ook (scripts/unfreeze.py ontdooit hem).",
            f"  The lost wallet was frozen, so {new} is frozen too (scripts/unfreeze.py unfreezes it).",
        )
    return tx
