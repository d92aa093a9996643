"""Loads the backend's demo data (`make run`): residents, a merchant, an organisation with its
verifier, programmes, activities, tasks, a debt and a service, on top of scripts/demo.py's chain.

    python -m socialcoin.demo [--history-months N]

With --history-months, months of a simulated economy come first (socialcoin.simulation, DEMO_ECONOMY),
so that the dashboards have a history to show: the chain's clock must then stand that many months in the
past (`make run` starts anvil with --timestamp). The named demo people are loaded after it, today.

Settings come from SOCIALCOIN_* variables, as for the server. The demo verifier's key is anvil's
well-known test account 6, so that the whole flow can be tried by hand; never use it elsewhere.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from eth_account import Account
from eth_typing import HexStr
from eth_utils import keccak

from .bootstrap import bootstrap
from .chain.contracts import Contract
from .chain.outbox import Outbox
from .chain.payloads import ContractCall
from .db.base import transaction
from .db.enums import Origin
from .db.types import utcnow
from .domain import activities, debts, programmes, services, tasks
from .domain.access import Role, issue_token
from .domain.admission import admit_resident, authorise_verifier, register_merchant, register_organisation
from .runtime import Runtime
from .settings import ROOT, settings_or_exit
from .simulation import Config, first_morning, run

# The history `make run` shows: two wijken with enough residents per wijk and month for the public
# dashboard's k-anonymity (research/privacy.py: figures rest on at least 10 residents), kept small enough
# that `make run` stays quick (docs/research.md, "Simulation", has its timing).
DEMO_ECONOMY = Config(residents=60, merchants=8, organisations=2, months=6)

RESIDENTS = [
    ("Anna de Vries", "DEMO-0001", "BU02020101", "38271"),
    ("Bram Jansen", "DEMO-0002", "BU02020102", "49382"),
    ("Chaima El Amrani", "DEMO-0003", "BU02020103", "50493"),
]
MERCHANT_PIN = "61504"


# The demo verifier's key: account 6 of anvil's public test mnemonic (README), for the local chain only.
DEMO_VERIFIER_KEY = "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e"
DEMO_KEYSTORE_PASSWORD = "demo-verifier"


@dataclass(frozen=True)
class Loaded:
    residents: list[tuple[str, str, str]]  # (name, case number, PIN), to sign in with
    merchant_id: int
    organisation_id: int


def load(runtime: Runtime) -> Loaded:
    deployment = json.loads(runtime.settings.deployment_file.read_text())
    coins, people = deployment["coins"], deployment["demo"]
    chain, settings = runtime.chain, runtime.settings
    now = utcnow()
    runtime.indexer.run_until_caught_up()  # the coins, which the catalogue reads from the index
    with runtime.sessions() as session:  # each of these asks the chain, then writes in its own transaction
        residents = [
            admit_resident(session, settings, name=name, case_number=case, area=area, pin=pin, chain=chain)
            for name, case, area, pin in RESIDENTS
        ]
        merchant = register_merchant(
            session,
            settings,
            name="Bakkerij De Geitenkamp",
            iban="NL91ABNA0417164300",
            area="WK020201",
            purposes=["LOCAL_SPENDING"],
            pin=MERCHANT_PIN,
            chain=chain,
        )
        organisation = register_organisation(
            session,
            settings,
            name="Vrijwilligerscentrale Arnhem",
            area="GM0202",
            wallet_address=Account.create().address,
            chain=chain,
        )
        services.create_service(
            session,
            chain,
            name="Sportpas Arnhem",
            price_cents=25_00,
            purposes=["SPORT_CULTURE", "MUNICIPAL_SERVICES"],
            description="Een jaar sporten bij de gemeentelijke sportcentra.",
        )
        resident_ids = [r.id for r in residents]
        logins = [
            (r.name, r.case_number, pin) for r, (_, _, _, pin) in zip(residents, RESIDENTS, strict=True)
        ]
        merchant_id, organisation_id, anna = merchant.id, organisation.id, residents[0].wallet_address
    with transaction(runtime.sessions) as session:
        for symbol in ("GKW", "ARS"):
            authorise_verifier(session, organisation_id, people["verifier"], coins[symbol])
        wijk = programmes.create_programme(
            session, name="Wijkmunt Geitenkamp 2026", coin=coins["GKW"], budget_cents=10_000_00
        )
        debt = programmes.create_programme(
            session, name="Schuldhulp Arnhem 2026", coin=coins["ARS"], budget_cents=20_000_00
        )
        garden = activities.create_activity(
            session,
            title="Buurtmoestuin onderhouden",
            description="Wieden, water geven en oogsten in de moestuin aan de Kemperbergerweg.",
            unit="hour",
            terms=activities.Terms(
                programme_id=wijk.id,
                organisation_id=organisation_id,
                value_cents_per_unit=800,
                starts_on=now,
                ends_on=now + timedelta(days=180),
                task_days=30,
                cap_units_per_month=20,
                area="WK020201",
            ),
        )
        activities.create_activity(
            session,
            title="Taalcafé begeleiden",
            description="Nieuwe Arnhemmers helpen Nederlands te oefenen, elke dinsdagmiddag.",
            unit="hour",
            terms=activities.Terms(
                programme_id=debt.id,
                organisation_id=organisation_id,
                value_cents_per_unit=1000,
                starts_on=now,
                ends_on=now + timedelta(days=180),
                task_days=30,
                cap_units_per_month=16,
                area="GM0202",
            ),
        )
        tasks.assign(session, garden.id, resident_ids[:2])
        debts.create_case(
            session,
            resident_id=resident_ids[0],
            creditor="CJIB",
            creditor_reference="CJIB-2026-118877",
            amount_cents=120_00,
        )
        # A start bonus, so that the first resident can pay at the bakery right away.
        Outbox.enqueue(
            session,
            "demo:start-bonus",
            ContractCall(
                Contract.ISSUER,
                "adminMint",
                [coins["GKW"], anna, 15_00, "0x" + keccak(text="demo start bonus").hex()],
            ),
            signer="minter",
            origin=Origin.ADMINISTRATION,
        )
    runtime.outbox.run_until_idle()
    runtime.indexer.run_until_caught_up()
    return Loaded(logins, merchant_id, organisation_id)


def access_codes(runtime: Runtime, loaded: Loaded) -> dict[str, str]:
    """Access codes (tokens) for the demo's till, organisation and debt counsellor, to sign in at /toegang."""
    ttl = runtime.settings.token_ttl_seconds
    with transaction(runtime.sessions) as session:
        return {
            "merchant": issue_token(session, Role.MERCHANT, loaded.merchant_id, ttl, label="demo till")[1],
            "verifier": issue_token(
                session, Role.VERIFIER, loaded.organisation_id, ttl, label="demo organisation"
            )[1],
            "counsellor": issue_token(session, Role.DEBT_COUNSELLOR, None, ttl, label="demo counsellor")[1],
        }


def write_demo_keystore(path: Path) -> None:
    """The demo verifier's key as an encrypted keystore file, which the organisation portal opens in the
    browser (a light scrypt: the key is public anyway)."""
    keystore = Account.encrypt(
        HexStr(DEMO_VERIFIER_KEY), DEMO_KEYSTORE_PASSWORD, kdf="scrypt", iterations=2**14
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(keystore))


def load_history(runtime: Runtime, months: int) -> None:
    """DEMO_ECONOMY over `months`, ending before today: refused (exit 2) when the chain's clock does not
    stand far enough in the past for it."""
    config = replace(DEMO_ECONOMY, months=months)
    start = first_morning(runtime.chain.head().timestamp)
    if start + timedelta(days=config.days) > datetime.now(UTC):
        sys.exit(
            f"--history-months {months}: the chain's newest block is too recent for {months} months of "
            f"history before today (it would end after today). Start anvil with --timestamp at least "
            f"{config.days + 1} days in the past, as `make run` does, or ask for fewer months."
        )
    summary = run(runtime, config, lambda done, total: print(f"\rHistory: step {done}/{total}", end=""))
    print(f"\rHistory: {summary.transactions} transactions from {summary.started_at:%Y-%m-%d} on.")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m socialcoin.demo", description="Loads the demo data.")
    parser.add_argument("--history-months", type=int, default=0, help="months of simulated history first")
    arguments = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if arguments.history_months < 0:
        parser.error("--history-months: give 0 (no history) or more months")
    settings = settings_or_exit()
    runtime = bootstrap(settings)
    try:
        if arguments.history_months:
            load_history(runtime, arguments.history_months)
        loaded = load(runtime)
        codes = access_codes(runtime, loaded)
    finally:
        runtime.close()
    keystore = ROOT / "var" / "demo-verifier-keystore.json"
    write_demo_keystore(keystore)
    url = settings.public_url
    print(f"Where each person starts, at {url}:")
    print(f"  Residents: {url}/inloggen with case number and PIN")
    for name, case, pin in loaded.residents:
        print(f"    {name:<20} {case}  PIN {pin}")
    print(f"  The till of Bakkerij De Geitenkamp: {url}/toegang with access code {codes['merchant']}")
    print(f"    (PIN {MERCHANT_PIN} for refunds and payouts)")
    print(f"  Vrijwilligerscentrale Arnhem: {url}/toegang with access code {codes['verifier']}")
    print(f"    (signs with the keystore file {keystore}, password {DEMO_KEYSTORE_PASSWORD})")
    print(f"  A debt counsellor: {url}/toegang with access code {codes['counsellor']}")
    print(f"  Researchers, and anyone: {url}/openbaar (the public figures; no sign-in)")


if __name__ == "__main__":
    main()
