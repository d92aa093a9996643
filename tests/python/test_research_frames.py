"""The research ledger without a chain: the classification table on hand-made events, the frames built from
a small hand-made ledger whose answer is known by construction, and its exports read back by pandas and
by pyarrow with the documented schema."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest

from socialcoin.areas import to_bytes8
from socialcoin.chain.constants import ZERO_ADDRESS, Kind
from socialcoin.research.exports import FORMATS, read_frame, write_exports
from socialcoin.research.ledger import TRANSFER_COLUMNS, Event, build_ledger, classify
from socialcoin.research.rebuild import OutputRefused, check_output
from socialcoin.research.schema import FRAMES, SARAFU, SarafuSubtype, Subtype

RESIDENT, MERCHANT = "resident", "merchant"


@pytest.mark.parametrize(
    ("companion", "payee_kind", "subtype", "sarafu"),
    [
        ("ActivityMinted", RESIDENT, Subtype.ACTIVITY_REWARD, SarafuSubtype.DISBURSEMENT),
        ("RewardGranted", RESIDENT, Subtype.REWARD_GRANT, SarafuSubtype.DISBURSEMENT),
        ("AdminMinted", RESIDENT, Subtype.ADMIN_MINT, SarafuSubtype.DISBURSEMENT),
        ("PaymentMade", MERCHANT, Subtype.PAYMENT, SarafuSubtype.STANDARD),
        ("PaymentMade", "organisation", Subtype.PAYMENT, SarafuSubtype.STANDARD),
        ("PaymentMade", "municipality", Subtype.PAYMENT, SarafuSubtype.STANDARD),
        ("PaymentMade", RESIDENT, Subtype.PERSON_TO_PERSON, SarafuSubtype.STANDARD),
        ("PaymentRefunded", RESIDENT, Subtype.REFUND, SarafuSubtype.STANDARD),
        ("DebtSettled", None, Subtype.DEBT_SETTLEMENT, SarafuSubtype.RECLAMATION),
        ("ServiceRedeemed", None, Subtype.SERVICE_REDEMPTION, SarafuSubtype.RECLAMATION),
        ("PayoutRedeemed", None, Subtype.MERCHANT_PAYOUT, SarafuSubtype.AGENT_OUT),
        ("ExpiredReclaimed", None, Subtype.EXPIRY_RECLAIM, SarafuSubtype.RECLAMATION),
        ("BalanceRecovered", RESIDENT, Subtype.RECOVERY, None),
        (None, MERCHANT, Subtype.OTHER, None),
        ("Approval", MERCHANT, Subtype.OTHER, None),
    ],
)
def test_each_companion_event_names_its_transfer(companion, payee_kind, subtype, sarafu):
    assert classify(companion, payee_kind) is subtype
    assert SARAFU[subtype] is sarafu


# --------------------------------------------------------------------------------------------------
# A hand-made ledger
# --------------------------------------------------------------------------------------------------

ANNA, BEN, SHOP, NEW = (f"0x{digit * 40}" for digit in "abcd")
COIN = "0x" + "e" * 40
T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)


def at(block: int) -> datetime:
    return T0.replace(minute=block)


def hex_of(raw: bytes) -> str:
    return "0x" + raw.hex()


def registered(
    block: int, log: int, account: str, kind: Kind, area: str, name="ParticipantRegistered"
) -> Event:
    args = {"account": account, "kind": int(kind), "area": hex_of(to_bytes8(area))}
    return Event(block, log, at(block), name, args)


EVENTS = [
    Event(1, 0, at(1), "PurposeAdded", {"id": 0, "code": hex_of(b"DEBT_SETTLEMENT".ljust(32, b"\0"))}),
    Event(1, 1, at(1), "PurposeAdded", {"id": 1, "code": hex_of(b"LOCAL_SPENDING".ljust(32, b"\0"))}),
    Event(
        2,
        0,
        at(2),
        "CoinCreated",
        {
            "coin": COIN,
            "purposeId": 1,
            "area": hex_of(to_bytes8("WK020201")),
            "expiry": int(datetime(2027, 1, 1, tzinfo=UTC).timestamp()),
            "personToPerson": True,
            "name": "Wijkmunt",
            "symbol": "GKW",
            "redemptionGrace": 0,
            "holdingCap": 50_000,
        },
    ),
    Event(2, 1, at(2), "CoinAdded", {"coin": COIN}),
    registered(3, 0, ANNA, Kind.RESIDENT, "BU02020101"),
    registered(3, 1, BEN, Kind.MERCHANT, "WK020201"),
    registered(3, 2, SHOP, Kind.MERCHANT, "WK020201"),
    # Ben turns out to be a resident (block 6): payments to him from then on are person to person.
    registered(6, 0, BEN, Kind.RESIDENT, "BU02020102", name="ParticipantUpdated"),
    Event(8, 0, at(8), "ParticipantRecovered", {"lost": ANNA, "replacement": NEW, "caseReference": "0x01"}),
]

REF = "0x" + "12" * 32
# (block, log, source, target, value, companion event, reference, activity id): what each should become.
TRANSFERS = [
    (4, 1, ZERO_ADDRESS, ANNA, 5000, "ActivityMinted", REF, "0x" + "34" * 32, Subtype.ACTIVITY_REWARD),
    (5, 0, ANNA, BEN, 700, "PaymentMade", REF, None, Subtype.PAYMENT),
    (5, 2, ANNA, SHOP, 900, "PaymentMade", REF, None, Subtype.PAYMENT),
    (7, 0, ANNA, BEN, 300, "PaymentMade", REF, None, Subtype.PERSON_TO_PERSON),
    (7, 2, SHOP, ANNA, 100, "PaymentRefunded", REF, None, Subtype.REFUND),
    (7, 4, SHOP, ZERO_ADDRESS, 800, "PayoutRedeemed", REF, None, Subtype.MERCHANT_PAYOUT),
    (8, 1, ANNA, NEW, 3200, "BalanceRecovered", None, None, Subtype.RECOVERY),
]


@pytest.fixture
def ledger():
    rows = [
        (block, at(block), f"0x{block:064x}", log, COIN, source, target, value, event, ref, activity)
        for block, log, source, target, value, event, ref, activity, _ in reversed(TRANSFERS)  # any order
    ]
    raw = pd.DataFrame(rows, columns=TRANSFER_COLUMNS)
    return build_ledger(raw, reversed(EVENTS), chain_id=31337, first_block=1, last_block=8)


def test_the_frames_of_a_hand_made_ledger(ledger):
    transfers = ledger.transfers
    assert [c.name for c in FRAMES["transfers"]] == list(transfers.columns)
    assert list(zip(transfers["block_number"], transfers["log_index"], strict=True)) == [
        t[:2] for t in TRANSFERS
    ]
    assert list(transfers["subtype"]) == [t[-1].value for t in TRANSFERS]
    assert [None if pd.isna(v) else v for v in transfers["transfer_subtype"]] == [
        None if SARAFU[t[-1]] is None else SARAFU[t[-1]].value for t in TRANSFERS
    ]
    assert transfers["reference"].isna().tolist() == [t[6] is None for t in TRANSFERS]
    assert transfers["activity_id"].notna().tolist() == [True] + [False] * 6
    assert transfers["block_time"].iloc[0] == pd.Timestamp(at(4))

    people = ledger.participants
    assert list(people["address"]) == [ANNA, BEN, SHOP, NEW]
    assert list(people["kind"]) == [RESIDENT, RESIDENT, MERCHANT, RESIDENT]
    assert list(people["area"]) == ["BU02020101", "BU02020102", "WK020201", "BU02020101"]
    assert people["replaced_by"].tolist() == [NEW, pd.NA, pd.NA, pd.NA]
    assert list(people["registered_at"]) == [pd.Timestamp(at(b)) for b in (3, 3, 3, 8)]

    (coin,) = ledger.coins.to_dict("records")
    assert (coin["symbol"], coin["purpose"], coin["area"], coin["holding_cap"]) == (
        "GKW",
        "LOCAL_SPENDING",
        "WK020201",
        50_000,
    )
    assert coin["expiry"] == pd.Timestamp("2027-01-01", tz="UTC") and coin["person_to_person"]
    assert list(ledger.coins["purpose"].cat.categories) == ["DEBT_SETTLEMENT", "LOCAL_SPENDING"]
    for name, frame in ledger.frames().items():
        assert [str(frame[c.name].dtype) for c in FRAMES[name]] == [
            str(pd.api.types.pandas_dtype(c.dtype)) if c.dtype != "category" else "category"
            for c in FRAMES[name]
        ]


def test_exports_read_back_by_pandas_and_pyarrow_with_the_documented_schema(ledger, tmp_path):
    figure = pd.DataFrame({"month": ["2026-03"], "supply_cents": [4100]})
    manifest_path = write_exports(ledger, tmp_path, {"supply": figure})

    for fmt in FORMATS:
        for name, frame in ledger.frames().items():
            pd.testing.assert_frame_equal(read_frame(tmp_path, name, fmt), frame, check_exact=True)
    arrow_types = {
        "int64": pa.int64(),
        "bool": pa.bool_(),
        "datetime64[ns, UTC]": pa.timestamp("ns", tz="UTC"),
    }
    for name, columns in FRAMES.items():
        table = pq.read_table(tmp_path / f"{name}.parquet")
        assert table.column_names == [c.name for c in columns]
        for column in columns:
            kind = table.schema.field(column.name).type
            if column.dtype == "category":
                assert pa.types.is_dictionary(kind)
            elif column.dtype == "string":
                assert pa.types.is_string(kind) or pa.types.is_large_string(kind)
            else:
                assert kind == arrow_types[column.dtype]
        from_csv = pa_csv.read_csv(tmp_path / f"{name}.csv")
        assert from_csv.column_names == [c.name for c in columns] and from_csv.num_rows == len(
            ledger.frames()[name]
        )
    values = pa_csv.read_csv(tmp_path / "transfers.csv").column("value").to_pylist()
    assert values == [t[4] for t in TRANSFERS]
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "figures" / "supply.csv"), figure)

    manifest = json.loads(manifest_path.read_text())
    assert manifest["chain_id"] == 31337 and manifest["blocks"] == {"first": 1, "last": 8}
    assert manifest["counts"] == {"transfers": 7, "participants": 4, "coins": 1}
    files = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.*")} - {"manifest.json"}
    assert set(manifest["files"]) == files
    for path, digest in manifest["files"].items():
        assert hashlib.sha256((tmp_path / path).read_bytes()).hexdigest() == digest
    dictionary = pd.read_csv(tmp_path / "data-dictionary.csv")
    assert list(zip(dictionary["frame"], dictionary["column"], dictionary["type"], strict=True)) == [
        (name, c.name, c.dtype) for name, columns in FRAMES.items() for c in columns
    ]
    assert all(
        f"| {c.name} |" in (tmp_path / "data-dictionary.md").read_text() for cs in FRAMES.values() for c in cs
    )


def test_a_rebuild_writes_only_where_nothing_else_would_be_lost(ledger, tmp_path):
    check_output(tmp_path / "new")
    (tmp_path / "empty").mkdir()
    check_output(tmp_path / "empty")
    write_exports(ledger, tmp_path / "earlier")
    check_output(tmp_path / "earlier")
    (tmp_path / "papers").mkdir()
    (tmp_path / "papers" / "thesis.tex").write_text("mine")
    with pytest.raises(OutputRefused, match="not an earlier export"):
        check_output(tmp_path / "papers")
