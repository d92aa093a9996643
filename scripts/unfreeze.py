"""Unfreezes participants' wallets that scripts/freeze.py froze. Needs COMPLIANCE_ROLE on the
ParticipantRegistry.

    brownie run scripts/unfreeze.py main addresses=0x...,0x... --network <net>
"""

from __future__ import annotations

from scripts.freeze import set_frozen


def main(*args):
    return set_frozen(
        args, frozen=False, usage="brownie run scripts/unfreeze.py main addresses=0x...,0x... --network <net>"
    )
