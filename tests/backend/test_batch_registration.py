"""Registering merchants and organisations from a spreadsheet through the HTTP API
(POST /municipality/merchants/batch and /organisations/batch), their registration on the anvil chain and
polling it (POST /municipality/merchants/lookup and /organisations/lookup): the same flow as residents'
batch admission (test_batch_admission), with each kind's own natural key and fields."""

from __future__ import annotations

import pytest
from eth_account import Account
from sqlalchemy import func, select

from contracts import contracts
from serving import at_once, served
from socialcoin.areas import to_bytes8
from socialcoin.chain.constants import Kind, Purpose
from socialcoin.db.models import Merchant, Organisation, OutboxItem, Resident, Verifier
from socialcoin.domain.access import Role
from test_batch_admission import admitted as residents_admitted
from test_batch_admission import row as resident_row
from test_batch_admission import row_errors
from test_payments import PIN, drive, iban, key, merchant, mint, on_chain, sign_typed_data
from test_payouts import DEBTOR

MERCHANTS, ORGANISATIONS = "/municipality/merchants/batch", "/municipality/organisations/batch"
PARALLEL = 8


@pytest.fixture
def admin(auth) -> dict[str, str]:
    return auth(Role.ADMIN)


def shop(line: int, name: str, wallet: str | None, **changes) -> dict:
    body = {
        "line": line,
        "name": name,
        "iban": iban("ABNA", f"{line:010d}"),
        "bic": "ABNANL2A",
        "area": "WK020201",
        "purposes": ["LOCAL_SPENDING"],
        "wallet_address": wallet,
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not ...}


def organisation(line: int, name: str, wallet: str | None, **changes) -> dict:
    body = {"line": line, "name": name, "area": "WK020201", "wallet_address": wallet}
    body.update(changes)
    return {k: v for k, v in body.items() if v is not ...}


def post(client, headers, path: str, rows: list[dict], dry_run: bool = False):
    return client.post(path, headers=headers, json={"dry_run": dry_run, "rows": rows})


def registered(client, headers, path: str, rows: list[dict]) -> list[dict]:
    answer = post(client, headers, path, rows)
    assert answer.status_code == 200, answer.text
    return answer.json()["results"]


def counts(runtime) -> dict[str, int]:
    with runtime.sessions() as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model))
            for model in (Merchant, Organisation, Resident, Verifier, OutboxItem)
        }


def participant(runtime, address: str) -> tuple:
    return tuple(contracts(runtime).registry.functions.participant(address).call())


def bits(*purposes: Purpose) -> int:
    return sum(1 << purpose for purpose in purposes)


# --------------------------------------------------------------------------------------------------
# Merchants
# --------------------------------------------------------------------------------------------------


def test_merchants_from_a_file_are_registered_on_chain_and_are_paid_out_in_euros(
    client, runtime, admin, auth, demo
):
    bakery, club = Account.create(), Account.create()
    rows = [
        shop(2, "Bakkerij Batch", bakery.address.lower()),
        shop(
            3,
            "Sportclub Batch",
            club.address,
            bic=None,
            area="GM0202",
            purposes=["sport_culture", " LOCAL_SPENDING "],
        ),
    ]
    answer = post(client, admin, MERCHANTS, rows)
    assert answer.status_code == 200, answer.text
    first = answer.json()
    assert first["counts"] == {"registered": 2}
    results = first["results"]
    assert [(r["line"], r["status"], r["name"], r["wallet_address"], r["onchain"]) for r in results] == [
        (2, "registered", "Bakkerij Batch", bakery.address, "pending"),
        (3, "registered", "Sportclub Batch", club.address, "pending"),
    ]
    bakery_id = results[0]["merchant_id"]
    shown = client.get(f"/municipality/merchants/{results[1]['merchant_id']}", headers=admin).json()
    assert (shown["iban"], shown["bic"], shown["area"], shown["wallet_custody"]) == (
        iban("ABNA", "0000000003"),
        None,
        "GM0202",
        "own",
    )
    assert sorted(shown["purposes"]) == ["LOCAL_SPENDING", "SPORT_CULTURE"]

    drive(runtime)
    unknown = Account.create().address
    polled = client.post(
        "/municipality/merchants/lookup",
        headers=admin,
        json={"wallet_addresses": [club.address.lower(), bakery.address, unknown]},
    )
    assert polled.status_code == 200, polled.text
    assert [(p["wallet_address"], p["merchant_id"], p["onchain"]) for p in polled.json()] == [
        (club.address, results[1]["merchant_id"], "done"),
        (bakery.address, bakery_id, "done"),
        (unknown, None, None),
    ]
    kind, area, purposes, frozen, _hash = participant(runtime, club.address)
    assert (kind, area, purposes, frozen) == (
        Kind.MERCHANT,
        to_bytes8("GM0202"),
        bits(Purpose.LOCAL_SPENDING, Purpose.SPORT_CULTURE),
        False,
    )
    assert participant(runtime, bakery.address)[:3] == (
        Kind.MERCHANT,
        to_bytes8("WK020201"),
        bits(Purpose.LOCAL_SPENDING),
    )

    # The service knows the merchant and its IBAN: the merchant redeems coins, and the euros go out in
    # the municipality's next SEPA file to the IBAN from the spreadsheet.
    mint(runtime, demo, "GKW", bakery.address, 1500)
    drive(runtime)
    headers = {**auth(Role.MERCHANT, bakery_id), **key()}
    typed = client.get(
        "/merchants/me/payouts/typed-data", headers=headers, params={"coin": "GKW", "amount_cents": 1200}
    ).json()
    payout = client.post(
        "/merchants/me/payouts",
        headers=headers,
        json={
            "coin": "GKW",
            "amount_cents": 1200,
            "authorization": {
                "valid_after": typed["valid_after"],
                "valid_before": typed["valid_before"],
                "nonce": typed["nonce"],
                "signature": sign_typed_data(bakery.key, typed["typed_data"]),
            },
        },
    )
    assert payout.status_code == 202, payout.text
    drive(runtime)
    assert on_chain(runtime, demo, "GKW", bakery.address) == 300
    batch = client.post("/municipality/payout-batches", headers=admin, json=DEBTOR)
    assert batch.status_code == 201, batch.text
    assert (batch.json()["total_cents"], batch.json()["payout_count"]) == (1200, 1)
    xml = client.get(f"/municipality/payout-batches/{batch.json()['id']}/pain.001.xml", headers=admin).text
    assert iban("ABNA", "0000000002") in xml and "Bakkerij Batch" in xml and "12.00" in xml

    # The same file again (after an interruption, say): every row exists, and nothing changes.
    before = counts(runtime)
    again = post(client, admin, MERCHANTS, rows).json()
    assert again["counts"] == {"exists": 2}
    assert [{**r, "status": "registered", "onchain": "pending"} for r in again["results"]] == results
    assert {r["onchain"] for r in again["results"]} == {"done"}
    assert counts(runtime) == before


def test_every_kind_of_invalid_merchant_row_is_reported_by_line_and_field_and_nothing_changes(
    client, runtime, admin, demo
):
    known, other_known = Account.create().address, Account.create().address
    resident_wallet, shared = Account.create().address, Account.create().address
    registered(
        client, admin, MERCHANTS, [shop(2, "Bakkerij Bekend", known), shop(3, "Slager Bekend", other_known)]
    )
    residents_admitted(client, admin, [resident_row(2, "M-0001", wallet_address=resident_wallet)])
    before = counts(runtime)
    rows = [
        shop(2, "Goede Winkel", Account.create().address),  # a good row: not registered either
        shop(3, "  ", Account.create().address, area="Geitenkamp"),  # two faults on one line
        shop(4, "Winkel IBAN", Account.create().address, iban="NL00ABNA0123456789"),
        shop(5, "Winkel VS", Account.create().address, iban="US64SVBKUS6S3300958879"),
        shop(6, "Winkel BIC", Account.create().address, bic="ABN"),
        shop(7, "Winkel Doel", Account.create().address, purposes=["LOCAL_SPENDING", "BOODSCHAPPEN"]),
        shop(8, "Winkel Geen Doel", Account.create().address, purposes=[]),
        shop(9, "Winkel Adres", "0x1234"),
        shop(10, "Winkel Zonder Wallet", None),  # a new merchant in a file needs its own wallet
        shop(11, "Winkel Een", shared),
        shop(12, "Winkel Twee", shared),  # the wallet of line 11 again
        shop(13, "Winkel Van Inwoner", resident_wallet),  # a resident's wallet
        shop(14, "Winkel Op Chain", demo["demo"]["bakery"]),  # registered on chain already
        shop(15, "Bakkerij Bekend", known, iban=iban("ABNA", "0000000099")),  # registered, other IBAN
        shop(16, "Slager Bekend", other_known, iban=iban("ABNA", "0000000003"), purposes=["SPORT_CULTURE"]),
        shop(17, "W" * 201, Account.create().address),
        {**shop(18, "Winkel Leeg", Account.create().address), "iban": None, "area": None, "purposes": None},
    ]
    answer = post(client, admin, MERCHANTS, rows)
    assert row_errors(answer) == {
        (3, "name", "name_missing"),
        (3, "area", "area_invalid"),
        (4, "iban", "iban_invalid"),
        (5, "iban", "iban_not_sepa"),
        (6, "bic", "bic_invalid"),
        (7, "purposes", "purpose_unknown"),
        (8, "purposes", "purposes_empty"),
        (9, "wallet_address", "address_invalid"),
        (10, "wallet_address", "wallet_required"),
        (12, "wallet_address", "wallet_address_duplicate"),
        (13, "wallet_address", "wallet_in_use"),
        (14, "wallet_address", "wallet_registered"),
        (15, "iban", "merchant_exists"),
        (16, "purposes", "merchant_exists"),
        (17, "name", "name_too_long"),
        (18, "iban", "iban_missing"),
        (18, "area", "area_missing"),
        (18, "purposes", "purposes_empty"),
    }
    errors = answer.json()["errors"]
    required = next(e for e in errors if e["line"] == 10)
    assert "pincode" in required["detail"] and "PIN" in required["detail_en"]  # says why, and what to do
    assert "POST /municipality/merchants" in required["detail_en"]
    other_iban = next(e for e in errors if e["line"] == 15)
    assert iban("ABNA", "0000000002") in other_iban["detail"]
    assert iban("ABNA", "0000000099") in other_iban["detail_en"]
    other_purposes = next(e for e in errors if e["line"] == 16)
    assert "LOCAL_SPENDING" in other_purposes["detail"] and "SPORT_CULTURE" in other_purposes["detail_en"]
    assert "regel 11" in next(e for e in errors if e["line"] == 12)["detail"]
    assert counts(runtime) == before

    # A dry run checks the same, and changes nothing either.
    assert row_errors(post(client, admin, MERCHANTS, rows, dry_run=True)) == row_errors(answer)
    assert counts(runtime) == before


def test_a_merchant_listed_without_a_wallet_is_found_by_name_and_iban(client, runtime, admin):
    # Registered one at a time with a wallet the municipality keeps under a PIN: a file that lists the
    # merchant by name and IBAN (no wallet address) finds it and changes nothing.
    merchant_id, wallet = merchant(runtime, "Kapper Custodial", pin=PIN, account="0000000002")
    before = counts(runtime)
    found = post(
        client, admin, MERCHANTS, [shop(2, "kapper custodial", None, bic=None), shop(3, "Nieuw", None)]
    )
    assert row_errors(found) == {(2, "name", "merchant_exists"), (3, "wallet_address", "wallet_required")}
    answer = post(client, admin, MERCHANTS, [shop(2, "Kapper Custodial", None, bic=None)])
    assert answer.status_code == 200, answer.text
    (result,) = answer.json()["results"]
    assert (result["status"], result["merchant_id"], result["wallet_address"]) == (
        "exists",
        merchant_id,
        wallet,
    )
    same_wallet = post(client, admin, MERCHANTS, [shop(2, "Kapper Custodial", wallet, bic=None)]).json()
    assert same_wallet["counts"] == {"exists": 1}
    assert counts(runtime) == before


def test_a_merchants_dry_run_answers_what_would_happen_and_changes_nothing(client, runtime, admin):
    known, new = Account.create().address, Account.create().address
    registered(client, admin, MERCHANTS, [shop(2, "Bakkerij Droog", known)])
    before = counts(runtime)
    answer = post(client, admin, MERCHANTS, [shop(2, "Bakkerij Droog", known), shop(3, "Nieuw", new)], True)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["counts"] == {"exists": 1, "registered": 1}
    assert [
        (r["status"], r["merchant_id"] is None, r["wallet_address"], r["onchain"]) for r in body["results"]
    ] == [
        ("exists", False, known, "pending"),
        ("registered", True, new, None),
    ]
    assert counts(runtime) == before


# --------------------------------------------------------------------------------------------------
# Organisations
# --------------------------------------------------------------------------------------------------


def test_organisations_from_a_file_are_registered_on_chain_and_can_get_verifier_keys(
    client, runtime, admin, demo
):
    centre, club = Account.create().address, Account.create().address
    rows = [
        organisation(2, "Buurtcentrum Batch", centre),
        organisation(3, "Sportvereniging Batch", club, area="GM0202"),
    ]
    answer = post(client, admin, ORGANISATIONS, rows)
    assert answer.status_code == 200, answer.text
    first = answer.json()
    assert first["counts"] == {"registered": 2}
    results = first["results"]
    assert [(r["line"], r["status"], r["name"], r["wallet_address"], r["onchain"]) for r in results] == [
        (2, "registered", "Buurtcentrum Batch", centre, "pending"),
        (3, "registered", "Sportvereniging Batch", club, "pending"),
    ]
    drive(runtime)
    polled = client.post(
        "/municipality/organisations/lookup",
        headers=admin,
        json={"names": ["sportvereniging batch", "Buurtcentrum Batch ", "Onbekend"]},
    )
    assert polled.status_code == 200, polled.text
    assert [(p["organisation_id"], p["onchain"]) for p in polled.json()] == [
        (results[1]["organisation_id"], "done"),
        (results[0]["organisation_id"], "done"),
        (None, None),
    ]
    assert participant(runtime, club)[:3] == (Kind.ORGANISATION, to_bytes8("GM0202"), 0)

    # Verifier keys stay one at a time, for an organisation from a file as for any other.
    verifier = client.post(
        f"/municipality/organisations/{results[0]['organisation_id']}/verifiers",
        headers=admin,
        json={"address": Account.create().address, "coin": "GKW"},
    )
    assert verifier.status_code == 201, verifier.text
    drive(runtime)

    before = counts(runtime)
    again = post(client, admin, ORGANISATIONS, rows).json()
    assert again["counts"] == {"exists": 2}
    assert [{**r, "status": "registered", "onchain": "pending"} for r in again["results"]] == results
    assert counts(runtime) == before


def test_every_kind_of_invalid_organisation_row_is_reported_by_line_and_field_and_nothing_changes(
    client, runtime, admin, demo
):
    known, second, third, shared = (Account.create().address for _ in range(4))
    registered(
        client,
        admin,
        ORGANISATIONS,
        [
            organisation(2, "Stichting Bekend", known),
            organisation(3, "Stichting Twee", second),
            organisation(4, "Stichting Drie", third),
        ],
    )
    shop_wallet = Account.create().address
    registered(client, admin, MERCHANTS, [shop(2, "Winkel", shop_wallet)])
    before = counts(runtime)
    rows = [
        organisation(2, "Goede Stichting", Account.create().address),
        organisation(3, "", Account.create().address, area="WK99"),
        organisation(4, "Zonder Wallet", None),
        organisation(5, "Fout Adres", "0xABC"),
        organisation(6, "Dubbel", Account.create().address),
        organisation(7, "DUBBEL", Account.create().address),  # the name of line 6 again
        organisation(8, "Een", shared),
        organisation(9, "Twee", shared),  # the wallet of line 8 again
        organisation(10, "Winkelwallet", shop_wallet),  # a merchant's wallet
        organisation(11, "Op Chain", demo["demo"]["organisation"]),  # registered on chain already
        organisation(12, "Stichting Bekend", known, area="GM0202"),  # registered, in another area
        organisation(13, "Stichting Twee", Account.create().address),  # registered, another wallet
        organisation(14, "stichting drie", third),  # registered as 'Stichting Drie'
    ]
    answer = post(client, admin, ORGANISATIONS, rows)
    assert row_errors(answer) == {
        (3, "name", "name_missing"),
        (3, "area", "area_invalid"),
        (4, "wallet_address", "wallet_required"),
        (5, "wallet_address", "address_invalid"),
        (7, "name", "name_duplicate"),
        (9, "wallet_address", "wallet_address_duplicate"),
        (10, "wallet_address", "wallet_in_use"),
        (11, "wallet_address", "wallet_registered"),
        (12, "area", "organisation_exists"),
        (13, "wallet_address", "organisation_exists"),
        (14, "name", "organisation_exists"),
    }
    errors = answer.json()["errors"]
    other_area = next(e for e in errors if e["line"] == 12)
    assert "'WK020201'" in other_area["detail"] and "'GM0202'" in other_area["detail_en"]
    other_name = next(e for e in errors if e["line"] == 14)
    assert "'Stichting Drie'" in other_name["detail"] and "'stichting drie'" in other_name["detail_en"]
    assert counts(runtime) == before
    assert row_errors(post(client, admin, ORGANISATIONS, rows, dry_run=True)) == row_errors(answer)
    assert counts(runtime) == before


def test_an_organisations_dry_run_answers_what_would_happen_and_changes_nothing(client, runtime, admin):
    before = counts(runtime)
    answer = post(client, admin, ORGANISATIONS, [organisation(2, "Nieuw", Account.create().address)], True)
    assert answer.status_code == 200, answer.text
    (result,) = answer.json()["results"]
    assert (result["status"], result["organisation_id"], result["onchain"]) == ("registered", None, None)
    assert counts(runtime) == before


# --------------------------------------------------------------------------------------------------
# Both
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "make"),
    [
        (MERCHANTS, lambda line: shop(line, f"Winkel {line}", Account.create().address)),
        (ORGANISATIONS, lambda line: organisation(line, f"Stichting {line}", Account.create().address)),
    ],
    ids=["merchants", "organisations"],
)
def test_a_batch_is_for_the_municipality_and_has_1_to_10000_rows(client, auth, admin, path, make):
    assert post(client, auth(Role.DEBT_COUNSELLOR), path, [make(2)]).status_code == 403
    assert post(client, auth(Role.MERCHANT, 1), path, [make(2)]).status_code == 403
    assert post(client, admin, path, []).json()["code"] == "invalid_field"
    assert post(client, admin, path, [make(2)] * 10_001).json()["code"] == "invalid_field"
    assert post(client, admin, path, [{**make(2), "kvk": "12345678"}]).json()["code"] == "invalid_field"


@pytest.mark.parametrize(
    ("path", "make", "model", "id_field"),
    [
        (
            MERCHANTS,
            lambda n: shop(n, f"Gelijktijdig {n}", Account.create().address),
            Merchant,
            "merchant_id",
        ),
        (
            ORGANISATIONS,
            lambda n: organisation(n, f"Gelijktijdig {n}", Account.create().address),
            Organisation,
            "organisation_id",
        ),
    ],
    ids=["merchants", "organisations"],
)
def test_the_same_file_sent_at_once_registers_each_row_once(runtime, admin, path, make, model, id_field):
    rows = [make(line) for line in range(2, 7)]
    with served(runtime) as base:
        answers = at_once(
            PARALLEL, lambda client, _: client.post(f"{base}{path}", headers=admin, json={"rows": rows})
        )
    assert [a.status_code for a in answers] == [200] * PARALLEL, [a.text for a in answers]
    # One request registered every row; every other one found them there, under the same ids.
    assert sorted(a.json()["counts"].get("registered", 0) for a in answers) == [0] * (PARALLEL - 1) + [5]
    assert len({tuple(r[id_field] for r in a.json()["results"]) for a in answers}) == 1
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(model)) == len(rows)
        assert session.scalar(select(func.count()).select_from(OutboxItem)) == len(rows)
    drive(runtime)
    with runtime.sessions() as session:
        assert {str(s) for s in session.scalars(select(OutboxItem.status))} == {"done"}
