"""The public ledger for researchers: every kind of flow the backend makes reaches the frames with its
subtype, payer, payee and amount; the chain's logs alone give exactly the frames the backend's index gives
(on SQLite and PostgreSQL alike); `socialcoin research rebuild` writes files that read back as those
frames, and refuses a wrong node or address without writing anything."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd
import pytest
import requests
from click.testing import CliRunner
from eth_account import Account
from eth_utils import keccak
from sqlalchemy import create_engine

from queueing import queue
from socialcoin.chain.constants import ZERO_ADDRESS
from socialcoin.chain.contracts import Contract
from socialcoin.chain.payloads import ContractCall
from socialcoin.cli.main import cli
from socialcoin.db.base import transaction
from socialcoin.domain.access import Role
from socialcoin.research.charts import CHART_BY_NAME, NETWORK
from socialcoin.research.exports import CHARTS_DIR, FORMATS, MANIFEST, read_frame
from socialcoin.research.ledger import Ledger, NotARegistry
from socialcoin.research.schema import Subtype
from test_debts import record
from test_operations import CHAIN, accepted, finished, let_time_pass
from test_payments import PIN, drive, key, merchant, mint, resident_with_coins
from test_services import offer
from test_transfers import code_of, p2p_coin, resident

DEMO_ACTIVITY_REWARDS = 5  # scripts/demo.py mints five attested activities


def grant(runtime, coin: str, to: str, amount: int) -> None:
    """A row of a month's rewards file, as the issuer's grantBatch mints it."""
    claim = "0x" + keccak(text=f"grant {uuid.uuid4()}").hex()
    with transaction(runtime.sessions) as session:
        queue(
            session,
            f"test-grant:{claim}",
            ContractCall(Contract.ISSUER, "grantBatch", [[[coin, to, amount, claim]]]),
        )


def every_kind_of_flow(client, runtime, demo, auth) -> set[tuple[str, str, str, int]]:
    """Drives one of each flow through the backend; returns (subtype, source, target, value) of each."""
    coins = demo["coins"]
    bakery_id, bakery = merchant(runtime, "Bakkerij De Geit")
    resident_id, wallet, headers = resident_with_coins(runtime, demo, auth, "2026-L001", "GKW", 3000)
    mint(runtime, demo, "ARS", wallet, 2500)
    mint(runtime, demo, "ASC", wallet, 2000)
    grant(runtime, coins["GKW"], wallet, 400)
    drive(runtime)

    paid = client.post(
        "/residents/me/payments",
        headers={**headers, **key()},
        json={"merchant_id": bakery_id, "coin": "GKW", "amount_cents": 750, "reference": "bon 1", "pin": PIN},
    )
    drive(runtime)
    payment = client.get(f"/residents/me/payments/{accepted(paid)['id']}", headers=headers).json()
    bakery_headers = auth(Role.MERCHANT, bakery_id)
    refund = {"payment_tx_hash": payment["tx_hash"], "amount_cents": 250, "pin": PIN}
    accepted(client.post("/merchants/me/refunds", headers={**bakery_headers, **key()}, json=refund))
    case = record(client, auth, resident_id, amount=5000)
    settle = {"coin": "ARS", "amount_cents": 2000, "pin": PIN}
    accepted(
        client.post(
            f"/residents/me/debts/{case['id']}/settlements", headers={**headers, **key()}, json=settle
        )
    )
    order = {"service_id": offer(client, auth)["id"], "coin": "ASC", "pin": PIN}
    accepted(client.post("/residents/me/orders", headers={**headers, **key()}, json=order))
    drive(runtime)
    payout = {"coin": "GKW", "amount_cents": 300, "pin": PIN}
    accepted(client.post("/merchants/me/payouts", headers={**bakery_headers, **key()}, json=payout))
    drive(runtime)

    # Person to person, with a coin that expires before the recovery below is due.
    avv = p2p_coin(client, runtime, auth, expiry=runtime.chain.now() + 600)
    _, payer, payer_headers = resident(runtime, auth, avv, "2026-L002", 2000)
    _, payee, payee_headers = resident(runtime, auth, avv, "2026-L003", area="BU02020102")
    transfer = {
        "receive_code": code_of(client, payee_headers),
        "coin": "AVV",
        "amount_cents": 500,
        "pin": PIN,
    }
    accepted(client.post("/residents/me/transfers", headers={**payer_headers, **key()}, json=transfer))
    drive(runtime)

    # A lost wallet's recovery, then what is left of the expired coin reclaimed.
    lost, new = Account.create().address, Account.create().address
    _, lost = resident_with_coins(runtime, demo, auth, "2026-L004", "GKW", 1100, wallet=lost)[:2]
    admin = auth(Role.ADMIN)
    for path, body in (
        ("freeze", {"wallet_addresses": [lost], "reason": "Telefoon kwijt"}),
        (
            "recovery/request",
            {"lost_wallet": lost, "new_wallet": new, "case_number": "Z-1", "reason": "Kwijt"},
        ),
    ):
        assert (
            finished(
                client, runtime, admin, accepted(client.post(f"{CHAIN}/{path}", headers=admin, json=body))
            )["status"]
            == "done"
        )
    let_time_pass(runtime, 3601)
    execute = {"lost_wallet": lost, "new_wallet": new}
    operation = accepted(client.post(f"{CHAIN}/recovery/execute", headers=admin, json=execute))
    assert finished(client, runtime, admin, operation)["status"] == "done"
    reclaim = {"coin": "AVV", "holders": None}
    operation = accepted(client.post(f"{CHAIN}/reclaim-expired", headers=admin, json=reclaim))
    assert finished(client, runtime, admin, operation)["status"] == "done"

    return {
        (Subtype.ADMIN_MINT, ZERO_ADDRESS, wallet, 3000),
        (Subtype.REWARD_GRANT, ZERO_ADDRESS, wallet, 400),
        (Subtype.PAYMENT, wallet, bakery, 750),
        (Subtype.REFUND, bakery, wallet, 250),
        (Subtype.DEBT_SETTLEMENT, wallet, ZERO_ADDRESS, 2000),
        (Subtype.SERVICE_REDEMPTION, wallet, ZERO_ADDRESS, 1500),
        (Subtype.MERCHANT_PAYOUT, bakery, ZERO_ADDRESS, 300),
        (Subtype.PERSON_TO_PERSON, payer, payee, 500),
        (Subtype.RECOVERY, lost, new, 1100),
        (Subtype.EXPIRY_RECLAIM, payer, ZERO_ADDRESS, 1500),
        (Subtype.EXPIRY_RECLAIM, payee, ZERO_ADDRESS, 500),
    }


def rows(transfers: pd.DataFrame) -> set[tuple[str, str, str, int]]:
    return {
        (Subtype(s), a, b, int(v))
        for s, a, b, v in transfers[["subtype", "source", "target", "value"]].itertuples(index=False)
    }


def assert_ledgers_equal(found: Ledger, expected: Ledger) -> None:
    for name, frame in expected.frames().items():
        pd.testing.assert_frame_equal(found.frames()[name], frame, check_exact=True)


def test_every_flow_is_classified_and_the_chain_alone_gives_what_the_index_gives(
    client, runtime, demo, auth, chain, tmp_path
):
    expected = every_kind_of_flow(client, runtime, demo, auth)
    with runtime.sessions() as session:
        indexed = Ledger.from_index(session, chain_id=31337)
    engine = create_engine(runtime.settings.database_url)
    assert_ledgers_equal(Ledger.from_index(engine), indexed)
    engine.dispose()
    transfers = indexed.transfers

    assert expected <= rows(transfers)
    counts = transfers["subtype"].value_counts()
    assert counts[Subtype.ACTIVITY_REWARD] == DEMO_ACTIVITY_REWARDS and counts[Subtype.OTHER] == 0
    assert {s for s in Subtype if counts[s]} == set(Subtype) - {Subtype.OTHER}
    recovery = transfers[transfers["subtype"] == Subtype.RECOVERY]
    assert recovery["transfer_subtype"].isna().all() and recovery["reference"].isna().all()
    minted = transfers[transfers["subtype"] == Subtype.ACTIVITY_REWARD]
    assert minted["activity_id"].str.match(r"^0x[0-9a-f]{64}$").all()
    assert set(transfers["transfer_subtype"].dropna()) == {
        "STANDARD",
        "DISBURSEMENT",
        "RECLAMATION",
        "AGENT_OUT",
    }
    # The recovered address names its replacement, which is a resident from the recovery on.
    (lost, new) = next((a, b) for s, a, b, _v in expected if s is Subtype.RECOVERY)
    people = indexed.participants.set_index("address")
    assert people.loc[lost, "replaced_by"] == new and people.loc[new, "kind"] == "resident"
    assert people.loc[demo["demo"]["bakery"], ["kind", "area"]].tolist() == ["merchant", "WK020201"]
    coins = indexed.coins.set_index("symbol")
    assert coins.loc["AVV", "person_to_person"] and coins.loc["AVV", "purpose"] == "MOBILITY"
    assert pd.isna(coins.loc["GKW", "expiry"]) and coins.loc["GKW", "area"] == "WK020201"

    seen: list[tuple[int, int]] = []
    from_chain = Ledger.from_rpc(
        chain.url,
        demo["contracts"]["ParticipantRegistry"],
        end_block=indexed.last_block,
        blocks_per_request=7,  # many ranges, so that coins, factory and issuer are found across them
        progress=lambda done, total: seen.append((done, total)),
    )
    assert_ledgers_equal(from_chain, indexed)
    assert seen[-1][0] == seen[-1][1] and len(seen) > 2
    assert (from_chain.first_block, from_chain.chain_id) == (indexed.first_block, 31337)

    out = tmp_path / "export"  # the node's address is all it takes: the registry is found on the chain
    command = ["research", "rebuild", "--rpc", chain.url, "--out", str(out)]
    command += ["--to-block", str(indexed.last_block)]
    result = CliRunner().invoke(cli, command)
    assert result.exit_code == 0, result.output
    for fmt in FORMATS:
        for name, frame in indexed.frames().items():
            pd.testing.assert_frame_equal(read_frame(out, name, fmt), frame, check_exact=True)
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["charts"] == sorted([*CHART_BY_NAME, NETWORK])
    for name in manifest["charts"]:
        for fmt in ("png", "svg"):
            assert f"{CHARTS_DIR}/{name}.{fmt}" in manifest["files"]


def test_a_wrong_node_or_an_address_that_is_no_registry_is_refused_and_nothing_is_written(
    node, demo, tmp_path
):
    out = tmp_path / "export"

    def rebuild(rpc: str, registry: str):
        return CliRunner().invoke(
            cli, ["research", "rebuild", "--rpc", rpc, "--registry", registry, "--out", str(out)]
        )

    registry = demo["contracts"]["ParticipantRegistry"]
    unreachable = rebuild("http://127.0.0.1:9", registry)
    assert unreachable.exit_code == 3 and "--rpc" in unreachable.output
    for address, why in (
        (
            demo["coins"]["GKW"],
            "not a ParticipantRegistry",
        ),  # a contract, but one of ours that is no registry
        (demo["demo"]["resident_anna"], "no contract"),
        ("0x1234", "not an address"),
    ):
        refused = rebuild(node.url, address)
        assert refused.exit_code == 1 and why in refused.output and "--registry" in refused.output
    assert not out.exists() and list(tmp_path.iterdir()) == []
    with pytest.raises(NotARegistry):
        Ledger.from_rpc(node.url, demo["coins"]["ARS"])
    with pytest.raises(NotARegistry, match="no contract on chain 31337 logged"):
        Ledger.from_rpc(node.url, end_block=0)  # before any deployment: no registry to find


MAX_LOG_BLOCKS = 3


@contextmanager
def capped_node(url: str, refused: list[int]) -> Iterator[str]:
    """The node behind a JSON-RPC front that refuses eth_getLogs over more than MAX_LOG_BLOCKS blocks, as
    public nodes cap it (Besu: --rpc-max-logs-range); yields its URL."""

    class Front(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            request = json.loads(body)
            if isinstance(request, dict) and request["method"] == "eth_getLogs":
                window = request["params"][0]
                blocks = int(window["toBlock"], 16) - int(window["fromBlock"], 16) + 1
                if blocks > MAX_LOG_BLOCKS:
                    refused.append(blocks)
                    error = {"code": -32005, "message": f"range exceeds {MAX_LOG_BLOCKS} blocks"}
                    answer = json.dumps({"jsonrpc": "2.0", "id": request["id"], "error": error}).encode()
                    self._answer(answer)
                    return
            self._answer(requests.post(url, data=body, headers={"Content-Type": "application/json"}).content)

        def _answer(self, answer: bytes) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *_args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Front)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_node_that_caps_the_blocks_of_a_log_request_is_read_in_smaller_ranges(node, demo):
    registry = demo["contracts"]["ParticipantRegistry"]
    direct = Ledger.from_rpc(node.url, registry)
    refused: list[int] = []
    with capped_node(node.url, refused) as url:
        capped = Ledger.from_rpc(url, registry, blocks_per_request=100)
    assert len(refused) >= 2 and min(refused) > MAX_LOG_BLOCKS  # halved until the node took it
    assert_ledgers_equal(capped, direct)
    assert len(direct.transfers) > 0 and (capped.first_block, capped.last_block) == (
        direct.first_block,
        direct.last_block,
    )
