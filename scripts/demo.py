"""Configures a demo municipality on a local chain: gemeente Arnhem (GM0202) with wijk Geitenkamp.

    brownie run scripts/deploy.py --network socialcoin-local
    brownie run scripts/demo.py --network socialcoin-local

It uses the local node's unlocked development accounts (well-known test keys, never for real money),
creates a wijk coin and a debt coin, registers the municipality, residents, merchants and an
organisation with a verifier, gives the backend's minter key a budget, mints a few verified
activities and makes a payment and a debt settlement, then adds it all to the deployment file.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from brownie import ActivityIssuer, CoinFactory, ParticipantRegistry, SocialCoin, accounts, network, web3
from eth_utils import keccak

from socialcoin.areas import to_bytes8
from socialcoin.chain.constants import CENTS_PER_EURO, Kind, Purpose, purpose_set
from socialcoin.chain.typed_data import ISSUER_DOMAIN_NAME, Domain, sign

DEPLOYMENTS = Path(__file__).resolve().parent.parent / "deployments"
# anvil's default test mnemonic: its keys are public, so they only ever serve a local demo.
TEST_MNEMONIC = "test test test test test test test test test test test junk"

GEMEENTE = "GM0202"  # Arnhem
GEITENKAMP = "WK020201"  # the wijk of this demo

COINS = {
    "GKW": ("Socialcoin Geitenkamp - Wijkmunt", Purpose.LOCAL_SPENDING, GEITENKAMP, False),
    "ARS": ("Socialcoin Arnhem - Schulden", Purpose.DEBT_SETTLEMENT, GEMEENTE, False),
    "ASC": ("Socialcoin Arnhem - Sport en cultuur", Purpose.SPORT_CULTURE, GEMEENTE, False),
}


def record_hash(label: str) -> bytes:
    """Stands in for the backend's salted hash of an off-chain record: never a name on chain."""
    return keccak(text=f"demo record salt|{label}")


def demo_accounts() -> dict[str, object]:
    """Named demo roles on the node's development accounts (which carry their test keys)."""
    local = [accounts.from_mnemonic(TEST_MNEMONIC, offset=i) for i in range(13)]
    names = [
        "admin",
        "minter",
        "municipality",
        "bakery",
        "sportclub",
        "organisation",
        "verifier",
        "resident_anna",
        "resident_bram",
        "resident_chaima",
        "resident_dirk",
        "relayer",
        "backend_registrar",
    ]
    return dict(zip(names, local, strict=True))


def main():
    path = DEPLOYMENTS / f"{network.show_active()}.json"
    deployment = json.loads(path.read_text())
    contracts = deployment["contracts"]
    registry = ParticipantRegistry.at(contracts["ParticipantRegistry"])
    issuer = ActivityIssuer.at(contracts["ActivityIssuer"])
    factory = CoinFactory.at(contracts["CoinFactory"])
    people = demo_accounts()
    admin = people["admin"]
    tx = {"from": admin}

    for role in ("REGISTRAR_ROLE", "PAUSER_ROLE", "COMPLIANCE_ROLE"):
        registry.grantRole(getattr(registry, role)(), admin, tx)
    issuer.grantRole(issuer.MASTER_MINTER_ROLE(), admin, tx)
    issuer.grantRole(issuer.REGISTRAR_ROLE(), admin, tx)
    issuer.increaseMinterAllowance(people["minter"], 50_000 * CENTS_PER_EURO, tx)
    # The backend admits residents and authorises verifiers with a key of its own.
    registry.grantRole(registry.REGISTRAR_ROLE(), people["backend_registrar"], tx)
    issuer.grantRole(issuer.REGISTRAR_ROLE(), people["backend_registrar"], tx)

    coins = {}
    for symbol, (name, purpose, area, person_to_person) in COINS.items():
        spec = (name, symbol, int(purpose), to_bytes8(area), 0, person_to_person, 0, 0)
        created = factory.createCoin(spec, tx)
        coins[symbol] = SocialCoin.at(created.return_value)

    participants = [
        ("municipality", Kind.MUNICIPALITY, GEMEENTE, 0),
        ("bakery", Kind.MERCHANT, GEITENKAMP, purpose_set(Purpose.LOCAL_SPENDING)),
        ("sportclub", Kind.MERCHANT, GEMEENTE, purpose_set(Purpose.SPORT_CULTURE)),
        ("organisation", Kind.ORGANISATION, GEMEENTE, 0),
        ("resident_anna", Kind.RESIDENT, "BU02020101", 0),
        ("resident_bram", Kind.RESIDENT, "BU02020102", 0),
        ("resident_chaima", Kind.RESIDENT, "BU02020103", 0),
        ("resident_dirk", Kind.RESIDENT, "WK020202", 0),
    ]
    registry.registerBatch(
        [
            (people[label].address, int(kind), to_bytes8(area), purposes, record_hash(label))
            for label, kind, area, purposes in participants
        ],
        tx,
    )
    for symbol in ("GKW", "ARS", "ASC"):
        issuer.setVerifier(coins[symbol], people["verifier"], True, tx)

    rewards = [
        ("resident_anna", "GKW", 25_00, "buurtmoestuin", "claim-0001"),
        ("resident_anna", "ARS", 40_00, "taalcursus", "claim-0002"),
        ("resident_bram", "GKW", 15_00, "boodschappen voor buren", "claim-0003"),
        ("resident_chaima", "ASC", 20_00, "sportclub vrijwilliger", "claim-0004"),
        ("resident_dirk", "ARS", 30_00, "mantelzorg", "claim-0005"),
    ]
    domain = Domain(name=ISSUER_DOMAIN_NAME, chain_id=web3.eth.chain_id, verifying_contract=issuer.address)
    deadline = int(time.time()) + 3600
    attestations, signatures = [], []
    for resident, symbol, amount, activity, claim in rewards:
        attestation = {
            "resident": people[resident].address,
            "coin": coins[symbol].address,
            "amount": amount,
            "activityId": keccak(text=f"activity|{activity}"),
            "claimId": keccak(text=f"demo|{claim}"),
            "evidenceHash": keccak(text=f"evidence|{claim}"),
            "deadline": deadline,
        }
        signature = sign(people["verifier"].private_key, domain, "Attestation", attestation)
        attestations.append(tuple(attestation.values()))
        signatures.append(signature.packed)
    issuer.mintBatch(attestations, signatures, {"from": people["minter"]})

    coins["GKW"].pay(people["bakery"], 7_50, keccak(text="demo sale 1"), {"from": people["resident_anna"]})
    coins["ARS"].settleDebt(10_00, keccak(text="demo debt case 1"), {"from": people["resident_dirk"]})

    deployment["coins"] = {symbol: coin.address for symbol, coin in coins.items()}
    deployment["demo"] = {label: account.address for label, account in people.items()}
    path.write_text(json.dumps(deployment, indent=2) + "\n")

    print("\nDemo municipality: gemeente Arnhem (GM0202), wijk Geitenkamp (WK020201)")
    for symbol, coin in coins.items():
        print(f"  {symbol}  {coin.address}  {coin.name()}  supply EUR {coin.totalSupply() / 100:.2f}")
    for label, account in people.items():
        print(f"  {label:<16} {account.address}")
    print(f"Deployment file: {path}")
