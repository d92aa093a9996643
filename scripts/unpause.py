"""Lets coins move again after scripts/pause.py. Needs PAUSER_ROLE on the ParticipantRegistry.

brownie run scripts/unpause.py --network <net>
"""

from __future__ import annotations

from scripts.pause import set_paused


def main(*args):
    return set_paused(args, paused=False, usage="brownie run scripts/unpause.py --network <net>")
