"""Pauses the whole system: no coin moves until it is unpaused, except the municipality's
corrective actions (recovering a lost wallet, reclaiming expired coins). Needs PAUSER_ROLE on the
ParticipantRegistry. scripts/unpause.py lets coins move again.

    brownie run scripts/pause.py --network <net>
"""

from __future__ import annotations

from scripts._admin import Admin, parse_args, say


def main(*args):
    return set_paused(args, paused=True, usage="brownie run scripts/pause.py --network <net>")


def set_paused(args, paused: bool, usage: str):
    """Pauses or unpauses; when the system already is in that state, sends nothing."""
    admin = Admin.connect()
    parse_args(args, [], [usage])
    state_nl, state_en = ("gepauzeerd", "paused") if paused else ("niet gepauzeerd", "not paused")
    if admin.registry.paused() == paused:
        say(
            f"Niets te doen: het systeem is al {state_nl}.",
            f"Nothing to do: the system is {state_en} already.",
        )
        return None
    admin.require_role("registry", "PAUSER_ROLE")
    function = admin.registry.pause if paused else admin.registry.unpause
    what_nl = "systeem gepauzeerd: geen munt beweegt" if paused else "systeem hervat: munten bewegen weer"
    what_en = "system paused: no coin moves" if paused else "system unpaused: coins move again"
    return admin.send(what_nl, what_en, function)
