"""Authorises an organisation's verifier key to attest activities paid in a coin, or stops it.
Needs REGISTRAR_ROLE on the ActivityIssuer.

    brownie run scripts/verifiers.py add coin=GKW verifier=0x... --network <net>
    brownie run scripts/verifiers.py remove coin=GKW verifier=0x... --network <net>

`coin` is a coin's symbol or address. A verifier that already is (or is not) authorised is left as
it is, without a transaction.
"""

from __future__ import annotations

from scripts._admin import Admin, Arg, Refusal, address, parse_args, say

USAGE = [
    "brownie run scripts/verifiers.py add coin=GKW verifier=0x... --network <net>",
    "brownie run scripts/verifiers.py remove coin=GKW verifier=0x... --network <net>",
]


def main(*args):
    raise Refusal(
        "kies add (machtigen) of remove (intrekken)", "choose add (authorise) or remove (revoke)", usage=USAGE
    )


def add(*args):
    """Authorises the verifier for the coin."""
    return set_verifier(args, authorized=True)


def remove(*args):
    """Stops authorising the verifier for the coin."""
    return set_verifier(args, authorized=False)


def set_verifier(args, authorized: bool):
    admin = Admin.connect()
    values = parse_args(args, [Arg("coin", "GKW", admin.coin), Arg("verifier", "0x...", address)], USAGE)
    coin, verifier = values["coin"], values["verifier"]
    state_nl, state_en = ("gemachtigd", "authorised") if authorized else ("niet gemachtigd", "not authorised")
    if admin.issuer.isVerifier(coin.address, verifier) == authorized:
        say(
            f"Niets te doen: {verifier} is al {state_nl} voor {coin.label()}.",
            f"Nothing to do: {verifier} is {state_en} for {coin.label()} already.",
        )
        return None
    admin.require_role("issuer", "REGISTRAR_ROLE")
    return admin.send(
        f"{verifier} {state_nl} voor {coin.label()}",
        f"{verifier} {state_en} for {coin.label()}",
        admin.issuer.setVerifier,
        coin.address,
        verifier,
        authorized,
    )
