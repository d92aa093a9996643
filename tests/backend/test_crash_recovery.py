"""Crash-and-restart during a batch of 1,000 mints: kill -9, restart, reconcile: every claim minted once.

A child process (this file, run as a script) starts a Runtime on the test's database and chain,
enqueues 1,000 attested mints (signed by the demo verifier) and runs the outbox. The test kills it
with SIGKILL: after a random delay, or at the outbox's test-only crash points (right after a signed
transaction is stored and before it is sent; right after it is sent and before that is noted),
sometimes twice in a row (a crash while recovering from a crash). Then the test starts a Runtime of
its own, enqueues the same claims again (as a retrying caller would) and runs the outbox until idle.
On chain, every claim must be used and minted exactly once (ActivityMinted logs), the minter's
allowance must drop by exactly the sum, and every outbox item must be done.

    python tests/backend/test_crash_recovery.py child CLAIMS.json   (settings from SOCIALCOIN_*)
"""

from __future__ import annotations

import json
import os
import random
import selectors
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import requests
from eth_account import Account
from eth_keys import keys
from eth_utils import event_abi_to_log_topic, keccak

from contracts import Contracts, contracts

CLAIMS = 1_000
BATCH_SIZE = 50  # 20 mint transactions per run: many places for a crash to land
RESIDENTS = ("resident_anna", "resident_bram", "resident_chaima")
COINS = ("GKW", "ARS", "ASC")
TEST_MNEMONIC = "test test test test test test test test test test test junk"
VERIFIER_PATH = "m/44'/60'/0'/0/6"
ISSUER_FUNCTIONS = {"claimUsed": keccak(text="claimUsed(bytes32)")[:4]}


# --------------------------------------------------------------------------------------------------
# The child process
# --------------------------------------------------------------------------------------------------


def child(claims_file: str) -> None:
    """Starts a Runtime from SOCIALCOIN_* settings, enqueues the claims in chunks and runs the outbox,
    saying on stdout how far it got ("ready", "enqueued", "idle")."""
    from queueing import queue_attested
    from socialcoin.bootstrap import bootstrap
    from socialcoin.db.base import transaction
    from socialcoin.settings import Settings

    claims = json.loads(Path(claims_file).read_text())
    runtime = bootstrap(Settings.from_env())
    print("ready", flush=True)
    for start in range(0, len(claims), 100):
        with transaction(runtime.sessions) as session:
            queue_attested(session, claims[start : start + 100])
    print("enqueued", flush=True)
    runtime.outbox.run_until_idle()
    print("idle", flush=True)
    runtime.close()


# --------------------------------------------------------------------------------------------------
# Fixtures and helpers
# --------------------------------------------------------------------------------------------------


def sign_claims(demo: dict, count: int, prefix: str, signer=None) -> list[tuple[str, dict]]:
    """`count` attestations by the demo verifier (or `signer`) for demo residents, as outbox payloads."""
    from socialcoin.chain.typed_data import ISSUER_DOMAIN_NAME, Domain, sign

    Account.enable_unaudited_hdwallet_features()
    verifier = signer or Account.from_mnemonic(TEST_MNEMONIC, account_path=VERIFIER_PATH)
    assert signer is not None or verifier.address == demo["demo"]["verifier"]
    key = keys.PrivateKey(verifier.key)  # derives the public key once, not once per signature
    domain = Domain(ISSUER_DOMAIN_NAME, int(demo["chain_id"]), demo["contracts"]["ActivityIssuer"])
    deadline = int(time.time()) + 7 * 86400
    claims = []
    for i in range(count):
        attestation = {
            "resident": demo["demo"][RESIDENTS[i % len(RESIDENTS)]],
            "coin": demo["coins"][COINS[(i // len(RESIDENTS)) % len(COINS)]],
            "amount": 1 + i % 5,
            "activityId": "0x" + keccak(text=f"{prefix}|activity|{i % 7}").hex(),
            "claimId": "0x" + keccak(text=f"{prefix}|claim|{i}").hex(),
            "evidenceHash": "0x" + keccak(text=f"{prefix}|evidence|{i}").hex(),
            "deadline": deadline,
        }
        signature = sign(key, domain, "Attestation", attestation)
        claims.append(
            (f"{prefix}:claim:{i}", {"attestation": attestation, "signature": "0x" + signature.packed.hex()})
        )
    return claims


@pytest.fixture(scope="module")
def claims(demo, tmp_path_factory) -> tuple[list[tuple[str, dict]], Path]:
    """1,000 signed claims (the chain reverts after each test, so every test can mint them again)."""
    signed = sign_claims(demo, CLAIMS, "crash")
    path = tmp_path_factory.mktemp("claims") / "claims.json"
    path.write_text(json.dumps(signed))
    return signed, path


@pytest.fixture
def prepared_settings(settings):
    """The test's settings with small batches, on a database whose tables exist (as `runtime` makes them)."""
    from sqlalchemy import create_engine

    from socialcoin.db.base import Base
    from socialcoin.db.migrate import stamp_head

    engine = create_engine(settings.database_url)
    Base.metadata.create_all(engine)
    engine.dispose()
    stamp_head(settings.database_url)
    return settings.model_copy(update={"mint_batch_size": BATCH_SIZE})


def child_env(settings, crash_at: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOCIALCOIN_")}
    env.update(
        SOCIALCOIN_ENVIRONMENT="test",
        SOCIALCOIN_DATABASE_URL=settings.database_url,
        SOCIALCOIN_RPC_URL=settings.rpc_url,
        SOCIALCOIN_DEPLOYMENT_FILE=str(settings.deployment_file),
        SOCIALCOIN_EVIDENCE_DIR=str(settings.evidence_dir),
        SOCIALCOIN_MINT_BATCH_SIZE=str(settings.mint_batch_size),
        PYTHONUNBUFFERED="1",
    )
    if crash_at:
        env["SOCIALCOIN_TEST_CRASH_AT"] = crash_at
    return env


class Child:
    """The child process, with its progress lines."""

    def __init__(self, settings, claims_file: Path, crash_at: str | None, log_file: Path):
        self.log = log_file.open("a")
        self.process = subprocess.Popen(
            [sys.executable, __file__, "child", str(claims_file)],
            env=child_env(settings, crash_at),
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )
        self.lines: list[str] = []

    def wait_for(self, line: str, timeout: float = 60) -> bool:
        """Reads progress until `line` (True) or the child's end (False)."""
        selector = selectors.DefaultSelector()
        selector.register(self.process.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        try:
            while line not in self.lines:
                if not selector.select(timeout=max(0.0, deadline - time.monotonic())):
                    raise TimeoutError(f"child said {self.lines}, not {line!r}")
                got = self.process.stdout.readline()
                if not got:
                    return False
                self.lines.append(got.strip())
            return True
        finally:
            selector.close()

    def kill(self) -> None:
        self.process.kill()  # SIGKILL, by the pid we started

    def end(self, timeout: float = 60) -> int:
        code = self.process.wait(timeout=timeout)
        self.process.stdout.close()
        self.log.close()
        return code


def rpc(url: str, calls: list[tuple[str, list]]) -> list:
    """One JSON-RPC batch request; the answers in order."""
    body = [{"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in enumerate(calls)]
    answers = {a["id"]: a for a in requests.post(url, json=body, timeout=60).json()}
    for answer in answers.values():
        assert "error" not in answer, answer
    return [answers[i]["result"] for i in range(len(calls))]


def activity_minted(gateway, from_block: int) -> list[tuple[str, int]]:
    """(claimId, amount) of every ActivityMinted log since `from_block`, raw from eth_getLogs."""
    abi = next(e for e in gateway.abis["ActivityIssuer"] if e.get("name") == "ActivityMinted")
    (logs,) = rpc(
        gateway.web3.provider.endpoint_uri,
        [
            (
                "eth_getLogs",
                [
                    {
                        "address": gateway.deployment.issuer,
                        "fromBlock": hex(from_block),
                        "toBlock": "latest",
                        "topics": ["0x" + event_abi_to_log_topic(abi).hex()],
                    }
                ],
            )
        ],
    )
    return [(entry["topics"][3], int(entry["data"][2:66], 16)) for entry in logs]


def chain_state(gateway, demo: dict) -> dict:
    minter = demo["demo"]["minter"]
    balances = {
        (resident, coin): gateway.coin(demo["coins"][coin]).functions.balanceOf(demo["demo"][resident]).call()
        for resident in RESIDENTS
        for coin in COINS
    }
    return {
        "block": gateway.web3.eth.block_number,
        "allowance": gateway.issuer.functions.minterAllowance(minter).call(),
        "balances": balances,
    }


def assert_minted_exactly_once(runtime, demo, claims, before) -> None:
    from sqlalchemy import func, select

    from socialcoin.db.models import ChainTx, OutboxItem

    gateway = contracts(runtime)
    wanted = {payload["attestation"]["claimId"]: payload["attestation"] for _, payload in claims}

    minted = activity_minted(gateway, before["block"] + 1)
    counts = Counter(claim for claim, _ in minted)
    assert set(counts) == set(wanted), "claims minted that were not asked for, or asked for and not minted"
    assert max(counts.values()) == 1, f"minted twice: {[c for c, n in counts.items() if n > 1][:5]}"
    assert all(amount == wanted[claim]["amount"] for claim, amount in minted)

    used = rpc(
        gateway.web3.provider.endpoint_uri,
        [
            (
                "eth_call",
                [
                    {
                        "to": gateway.deployment.issuer,
                        "data": "0x" + (ISSUER_FUNCTIONS["claimUsed"] + bytes.fromhex(claim[2:])).hex(),
                    },
                    "latest",
                ],
            )
            for claim in wanted
        ],
    )
    assert all(int(answer, 16) == 1 for answer in used)

    total = sum(a["amount"] for a in wanted.values())
    after = chain_state(gateway, demo)
    assert before["allowance"] - after["allowance"] == total
    expected = Counter()
    for a in wanted.values():
        resident = next(r for r in RESIDENTS if demo["demo"][r] == a["resident"])
        coin = next(c for c in COINS if demo["coins"][c] == a["coin"])
        expected[(resident, coin)] += a["amount"]
    assert {k: after["balances"][k] - before["balances"][k] for k in after["balances"]} == {
        k: expected[k] for k in after["balances"]
    }

    with runtime.sessions() as session:
        statuses = dict(
            session.execute(select(OutboxItem.status, func.count()).group_by(OutboxItem.status)).all()
        )
        assert statuses == {"done": len(claims)}
        tx_statuses = set(session.scalars(select(ChainTx.status)).all())
        assert tx_statuses == {"confirmed"}


def recover(settings, demo, claims):
    """The restarted service: enqueue the same claims again (idempotent) and work until idle."""
    from queueing import queue_attested
    from socialcoin.bootstrap import bootstrap
    from socialcoin.db.base import transaction

    runtime = bootstrap(settings)
    with transaction(runtime.sessions) as session:
        queue_attested(session, claims)
    runtime.outbox.run_until_idle()
    return runtime


def open_transactions(settings) -> list:
    from sqlalchemy import create_engine, select
    from sqlalchemy.orm import Session

    from socialcoin.db.models import ChainTx

    engine = create_engine(settings.database_url)
    with Session(engine) as session:
        found = session.scalars(
            select(ChainTx).where(ChainTx.status == "signed").order_by(ChainTx.nonce)
        ).all()
    engine.dispose()
    return found


# --------------------------------------------------------------------------------------------------
# The tests
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "crash_points",
    [
        pytest.param(["stored:3"], id="after-storing-before-sending"),
        pytest.param(["sent:3"], id="after-sending-before-noting"),
        pytest.param(["stored:5", "sent:1"], id="crash-again-while-re-sending"),
    ],
)
def test_a_crash_at_a_critical_point_mints_every_claim_exactly_once(
    chain, demo, claims, prepared_settings, tmp_path, crash_points
):
    signed, claims_file = claims
    before = chain_state(_gateway(prepared_settings), demo)
    for crash_at in crash_points:
        child = Child(prepared_settings, claims_file, crash_at, tmp_path / "child.log")
        code = child.end()
        assert code == -signal.SIGKILL, (
            f"child ended with {code}, said {child.lines}: see {tmp_path / 'child.log'}"
        )
        stranded = open_transactions(prepared_settings)
        assert len(stranded) == 1, "the crash left one transaction stored but not noted as sent"
        known = _gateway(prepared_settings).web3.provider.make_request(
            "eth_getTransactionByHash", [stranded[0].tx_hash]
        )["result"]
        if crash_at.startswith("stored"):
            assert known is None, "killed before sending: the node must not know the transaction yet"
        else:
            assert known is not None, "killed after sending: the node knows the transaction"

    runtime = recover(prepared_settings, demo, signed)
    try:
        assert_minted_exactly_once(runtime, demo, signed, before)
    finally:
        runtime.close()


@pytest.mark.parametrize("phase", ["enqueueing", "sending"])
def test_a_kill_after_a_random_delay_mints_every_claim_exactly_once(
    chain, demo, claims, prepared_settings, tmp_path, phase
):
    signed, claims_file = claims
    seed = int(os.environ.get("SOCIALCOIN_TEST_SEED", time.time_ns() % 1_000_000))
    delay = random.Random(seed).uniform(0.0, 0.4 if phase == "enqueueing" else 0.3)
    before = chain_state(_gateway(prepared_settings), demo)

    child = Child(prepared_settings, claims_file, None, tmp_path / "child.log")
    assert child.wait_for("ready"), f"child did not start: see {tmp_path / 'child.log'}"
    if phase == "sending":
        assert child.wait_for("enqueued")
    time.sleep(delay)
    child.kill()
    code = child.end()
    context = f"seed {seed}, delay {delay:.3f}s, child said {child.lines}"
    assert code == -signal.SIGKILL, context
    if "idle" in child.lines:
        pytest.skip(f"the child finished before the kill ({context})")

    runtime = recover(prepared_settings, demo, signed)
    try:
        assert_minted_exactly_once(runtime, demo, signed, before)
    finally:
        runtime.close()


def test_a_batch_whose_gas_bound_is_too_small_still_goes_through(runtime, demo, monkeypatch):
    """The outbox signs a batch with a per-item gas bound only when the simulation ran within it; when it
    did not (out of gas), eth_estimateGas decides."""
    from queueing import queue_attested
    from socialcoin.chain import payloads
    from socialcoin.db.base import transaction

    monkeypatch.setattr(payloads.MintAttestedKind, "gas_per_item", 1_000)
    signed = sign_claims(demo, 5, "tight-gas")
    before = chain_state(contracts(runtime), demo)
    with transaction(runtime.sessions) as session:
        queue_attested(session, signed)
    runtime.outbox.run_until_idle()
    assert_minted_exactly_once(runtime, demo, signed, before)


def _gateway(settings):
    from socialcoin.chain.gateway import Chain

    chain = Chain.connect(settings.rpc_url, settings.deployment_file, settings.build_dir, timeout=30)
    return Contracts(settings.rpc_url, chain)


if __name__ == "__main__":
    if sys.argv[1:2] == ["child"]:
        child(sys.argv[2])
    else:
        raise SystemExit(__doc__)
