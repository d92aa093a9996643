"""Relayed payments end to end: residents paying merchants through the API until confirmed on chain, on
SQLite and on PostgreSQL, each beside a baseline of one payment at a time from the same run.

    .venv/bin/python bench/payments.py [--clients 200] [--rounds 2] [--rate 200] [--seconds 3]
        [--baseline 20] [--pin-clients 200] [--pin-baseline 10] [--databases sqlite,postgres]

Starts an anvil of its own (port 8600, SOCIALCOIN_BENCH_PAYMENTS_CHAIN_PORT; --base-fee 0, 300M gas per
block, instant mining), deploys the contracts and the demo municipality with the project's brownie scripts
(network socialcoin-bench-payments, declared on its port by tools/networks.py) and saves that state; each
database starts from it on a fresh anvil. Per database (SQLite: a fresh file; PostgreSQL: a database of its
own on the server tools/postgres.sh starts, dropped at the end): the tables, the backend's demo data
(socialcoin.demo) and the service (`python -m socialcoin.server serve --processes <cores>` on port 8601,
SOCIALCOIN_BENCH_PAYMENTS_API_PORT: an API process per core, the outbox and the indexer beside them). Then,
before any clock starts and through the API: 2 merchants in wijk Geitenkamp that accept LOCAL_SPENDING (the
demo bakery and one with an own wallet); residents with own wallets (their keys stay here) and residents with
custodial wallets, admitted in one batch (POST /municipality/residents/batch) and registered on chain by the
outbox; the custodial ones activated with the code from the batch's answer and a PIN (POST /auth/activate,
which answers their token), tokens for the others (POST /municipality/tokens); 1,000 GKW each, granted on
chain by a minter of the bench's own (anvil account 15, configured by the demo's master minter; grantBatch,
200 grants a transaction).

A payment. Own wallet: GET /residents/me/payments/typed-data, sign the EIP-712 data here (eth-account, as a
wallet would), POST /residents/me/payments with the authorization (a 409 authorization_nonce_used, when
another payment of the same wallet took the nonce meanwhile, is answered as it says: fetch and sign again).
Custodial: POST /residents/me/payments with the PIN. Each under an Idempotency-Key and a till reference of its
own; a 503 (service_busy, chain_unavailable) is sent again under the same key after its Retry-After. A payment
is timed from when its first request was due to the moment the service marked it confirmed (its row's
confirmed_at, written by the outbox when the chain has it; GET /residents/me/payments/{id} answers "confirmed"
from then on): read from the service's database after the phase, which costs the service nothing while it
runs. The client waits until the API tells it so too (printed beside it). For that, instead of every client
polling its payment, each merchant's till polls GET /merchants/me/payments?after_id= every 50 ms while a
payment to it is awaited (what a till does: one request shows every arrival, from the index of the chain), and
a client asks for its payment's status once the till has seen its reference (then after 50 ms, 100 ms, ... up
to every second until "confirmed"; every 5 s while the till has not seen it): one to a few status requests per
payment instead of dozens. The clients are asyncio tasks on keep-alive HTTP/1.1 connections (raw, as
bench/api_load.py: the client's own CPU stays small beside the service's). A few payments of each kind go
first, unmeasured: an API process's first requests are slow.

Phases, on each database:
(a) signed, one at a time: --baseline payments (request, wait until confirmed, the next);
(b) signed, --clients residents at once, each paying --rounds times in a row (pays, waits until confirmed,
    pays again): `relayed payments/s (<db>): N (one at a time N/s)`, with p50/p95;
(c) signed at a fixed rate: --rate payments/s for --seconds, open loop (payment i is due at start + i/rate
    and timed from then, whether or not earlier ones are done), by residents with no payment on its way:
    p50/p95 at that rate, and the rate achieved (for 1 s only when (b) did not reach half that rate: beyond
    what the service does, an open loop measures its queue);
(d) PIN, one at a time (--pin-baseline), and (e) PIN, --pin-clients residents at once, once each: `PIN
    payments/s (<db>): N`, beside one scrypt key derivation (wallets.py's parameters, n=2^14) timed here in
    the same run and the CPU bound it sets: cores / seconds per derivation;
(f) the API processes' CPU per request, one at a time: GET typed-data, POST with a signature, POST with a PIN,
    and how many key derivations the PIN adds (one, as wallets.open_wallet promises, not two).
After each phase: every payment confirmed exactly once. Each client saw "confirmed"; the database holds every
payment of the phase confirmed and no failed or cancelled outbox item; on chain, the merchants' balances
went up by exactly the phase's sum and there is exactly one PaymentMade log per payment reference. Each phase
also prints where the CPU went, per process (the API processes; the serving process, which runs the outbox
and the indexer; anvil; PostgreSQL; this client), as cores busy and CPU ms per payment, and the figures say
what the service's CPU per payment allows at most: on all cores, and in the one process of the outbox and the
indexer (Python runs one thread at a time in it).

Targets: signed payments >= 200/s on SQLite and on PostgreSQL (b), p95 < 1 s at 200/s (c); the PIN figure
and what bounds it are stated. They are reported ("target met" / "target MISSED by"), never asserted: the
script exits 0 either way, also when a step fails (it prints the error). The load average is printed: on a
2-core machine this client's work (signing, HTTP) shares the cores with the service, and its CPU is shown.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import hashlib
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
# A script's folder comes first on sys.path: never let bench/ stand in for another module.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
# bench/service.py reads its ports and network from these when it is loaded (load_service_bench).
os.environ["SOCIALCOIN_BENCH_CHAIN_PORT"] = os.environ.get("SOCIALCOIN_BENCH_PAYMENTS_CHAIN_PORT", "8600")
os.environ["SOCIALCOIN_BENCH_API_PORT"] = os.environ.get("SOCIALCOIN_BENCH_PAYMENTS_API_PORT", "8601")
os.environ["SOCIALCOIN_BENCH_NETWORK"] = "socialcoin-bench-payments"

SIGNED_TARGET = 200.0  # payments/s
P95_TARGET_MS = 1000.0
TEST_MNEMONIC = "test test test test test test test test test test test junk"
BENCH_MINTER_PATH = "m/44'/60'/0'/0/15"  # an anvil account no script of the demo uses
COIN = "GKW"  # LOCAL_SPENDING in wijk Geitenkamp (WK020201)
FUNDS = 1_000_00  # cents of GKW each resident gets
PIN = "58213"
MERCHANTS = 2  # the demo bakery and one more: each till's polling costs the service too
TILL_INTERVAL = 0.05  # s between a till's polls (while it waits for a payment), and between status requests
UNSEEN_INTERVAL = 5.0  # s between status requests while the till has not seen the payment
WARM_UP = 4  # payments of each kind before any clock starts (an API process's first requests are slow)
COST_REQUESTS = 20  # requests of each kind in (f)
NAMES = {
    "api": "API processes",
    "workers": "serving process (outbox, indexer)",
    "anvil": "anvil",
    "postgres": "PostgreSQL",
    "client": "this client",
}
CONFIRM_TIMEOUT = 180.0  # s from a payment's first request until it counts as not confirmed
GRANTS_PER_TX = 200


def load_module(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


# bench/service.py: anvil, the brownie network, the server process and the verdicts, on this script's ports;
# tests/cli/conftest.py: the backend's settings for a database, its tables.
service = load_module("socialcoin_bench_service", ROOT / "bench" / "service.py")


def now() -> float:
    return time.perf_counter()


# --------------------------------------------------------------------------------------------------
# HTTP: keep-alive connections, raw asyncio
# --------------------------------------------------------------------------------------------------


class Connection:
    """One keep-alive HTTP/1.1 connection to the service."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, token: str | None, body: Any = None, key: str | None = None
    ) -> tuple[int, Any, dict[str, str]]:
        """(status, the JSON answer, headers). A keep-alive connection the server closed meanwhile is opened
        again once (safe: every write carries its Idempotency-Key)."""
        for attempt in (1, 2):
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            try:
                return await self._exchange(method, path, token, body, key)
            except (ConnectionError, asyncio.IncompleteReadError):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _exchange(
        self, method: str, path: str, token: str | None, body: Any, key: str | None
    ) -> tuple[int, Any, dict[str, str]]:
        assert self.reader is not None and self.writer is not None
        data = b"" if body is None else json.dumps(body).encode()
        head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", f"Content-Length: {len(data)}"]
        if body is not None:
            head.append("Content-Type: application/json")
        if token:
            head.append(f"Authorization: Bearer {token}")
        if key:
            head.append(f"Idempotency-Key: {key}")
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + data)
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("closed")
        status = int(status_line.split()[1])
        headers: dict[str, str] = {}
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        if "chunked" in headers.get("transfer-encoding", "").lower():
            chunks = []
            while True:
                size = int((await self.reader.readline()).split(b";")[0], 16)
                chunk = await self.reader.readexactly(size + 2)
                if size == 0:
                    break
                chunks.append(chunk[:-2])
            raw = b"".join(chunks)
        else:
            raw = await self.reader.readexactly(int(headers.get("content-length", "0")))
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, json.loads(raw) if raw else None, headers

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


class Pool:
    """Idle connections for reuse; a new one when all are busy."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.idle: list[Connection] = []

    def take(self) -> Connection:
        return self.idle.pop() if self.idle else Connection(self.host, self.port)

    def give(self, connection: Connection) -> None:
        self.idle.append(connection)

    def close(self) -> None:
        for connection in self.idle:
            connection.close()
        self.idle.clear()


# --------------------------------------------------------------------------------------------------
# Who pays whom
# --------------------------------------------------------------------------------------------------


@dataclass
class Resident:
    id: int
    case_number: str
    token: str
    key: bytes | None  # an own wallet's private key; None: custodial (pays with the PIN)


@dataclass
class Merchant:
    id: int
    name: str
    wallet: str
    token: str


@dataclass
class Payment:
    kind: str  # "signed" | "pin"
    resident: Resident
    merchant: Merchant
    amount: int
    reference: str
    key: str
    due: float = 0.0  # when its first request was due: its clock starts here
    started: float = 0.0  # when its first request went out
    accepted: float | None = None  # the 202
    till: float | None = None  # the merchant's till saw it arrive
    seen: float | None = None  # GET /residents/me/payments/{id} said "confirmed" to the client
    confirmed: float | None = None  # the service marked it confirmed (its row's confirmed_at)
    payment_id: int | None = None
    retries: int = 0  # 503s answered and sent again
    signed_again: int = 0  # typed data fetched and signed again (its nonce was taken meanwhile)
    status_requests: int = 0
    error: str | None = None

    @property
    def latency_ms(self) -> float:
        assert self.confirmed is not None
        return (self.confirmed - self.due) * 1000


class Tills:
    """Each merchant's till, polling GET /merchants/me/payments?after_id= for new arrivals: which payment
    references arrived, and when."""

    def __init__(self, pool: Pool, merchants: list[Merchant]):
        self.pool, self.merchants = pool, merchants
        self.events: dict[str, asyncio.Event] = {}
        self.seen: dict[str, float] = {}
        self.waiting: dict[int, int] = {m.id: 0 for m in merchants}  # payments awaited, per merchant
        self.polls = 0
        self._tasks: list[asyncio.Task] = []

    def event(self, reference: str) -> asyncio.Event:
        return self.events.setdefault(reference, asyncio.Event())

    async def _page(self, connection: Connection, merchant: Merchant, after: int | None) -> list[dict]:
        query = {"limit": 500} | ({} if after is None else {"after_id": after})
        status, answer, _ = await connection.request(
            "GET", f"/merchants/me/payments?{urlencode(query)}", merchant.token
        )
        self.polls += 1
        return answer if status == 200 else []

    async def _last_id(self, connection: Connection, merchant: Merchant) -> int | None:
        after = None
        while True:
            page = await self._page(connection, merchant, after)
            if not page:
                return after
            after = page[-1]["id"]

    async def _watch(self, merchant: Merchant, ready: asyncio.Event) -> None:
        connection = Connection(self.pool.host, self.pool.port)
        after = await self._last_id(connection, merchant)
        ready.set()
        try:
            while True:
                if not self.waiting[merchant.id]:  # a till polls while a payment is awaited
                    await asyncio.sleep(TILL_INTERVAL)
                    continue
                page = await self._page(connection, merchant, after)
                moment = now()
                for entry in page:
                    reference = entry.get("reference")
                    if reference:
                        self.seen.setdefault(reference, moment)
                        self.event(reference).set()
                if page:
                    after = page[-1]["id"]
                if len(page) < 500:
                    await asyncio.sleep(TILL_INTERVAL)
        finally:
            connection.close()

    async def start(self) -> None:
        readies = [asyncio.Event() for _ in self.merchants]
        self._tasks = [
            asyncio.create_task(self._watch(m, r)) for m, r in zip(self.merchants, readies, strict=True)
        ]
        await asyncio.gather(*(r.wait() for r in readies))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


class Payer:
    """Makes payments through the API as residents do, and waits until each is confirmed."""

    def __init__(self, pool: Pool, tills: Tills):
        self.pool, self.tills = pool, tills

    async def _call(
        self, connection: Connection, payment: Payment, method: str, path: str, body: Any = None, key=None
    ) -> tuple[int, Any]:
        """A request, sent again under the same Idempotency-Key after a 503's Retry-After."""
        while True:
            status, answer, headers = await connection.request(
                method, path, payment.resident.token, body, key
            )
            if status != 503 or now() - payment.due > CONFIRM_TIMEOUT:
                return status, answer
            payment.retries += 1
            await asyncio.sleep(min(5.0, float(headers.get("retry-after") or 1)))

    async def pay(self, payment: Payment) -> None:
        connection = self.pool.take()
        try:
            await self._pay(connection, payment)
        except Exception as exc:  # noqa: BLE001 - recorded with the payment and reported
            payment.error = f"{type(exc).__name__}: {exc}"[:300]
            connection.close()
        finally:
            self.pool.give(connection)

    async def _pay(self, connection: Connection, payment: Payment) -> None:
        payment.started = now()
        body = self.body(payment)
        while True:
            if payment.kind == "signed":
                typed = await self.typed_data(connection, payment, body)
                if typed is None:
                    return
                body["authorization"] = self.sign(payment, typed)
            status, answer = await self._call(
                connection, payment, "POST", "/residents/me/payments", body, payment.key
            )
            # Another payment of the same wallet took the nonce of the typed data meanwhile (two at once, in
            # the open loop): as the answer says, fetch the typed data again and sign again.
            if status == 409 and (answer or {}).get("code") == "authorization_nonce_used":
                payment.signed_again += 1
                continue
            break
        if self.accepted(payment, status, answer):
            await self.wait(connection, payment)

    @staticmethod
    def body(payment: Payment) -> dict[str, Any]:
        body: dict[str, Any] = {
            "merchant_id": payment.merchant.id,
            "coin": COIN,
            "amount_cents": payment.amount,
            "reference": payment.reference,
        }
        if payment.kind == "pin":
            body["pin"] = PIN
        return body

    async def typed_data(self, connection: Connection, payment: Payment, body: dict) -> dict | None:
        query = urlencode({k: v for k, v in body.items() if k != "authorization"})
        status, typed = await self._call(
            connection, payment, "GET", f"/residents/me/payments/typed-data?{query}", key=payment.key
        )
        if status != 200:
            payment.error = f"typed-data {status} {(typed or {}).get('code')}"
            return None
        return typed

    @staticmethod
    def sign(payment: Payment, typed: dict) -> dict[str, Any]:
        """An own wallet's authorization: the typed data signed here, as a wallet does."""
        from eth_account import Account
        from eth_account.messages import encode_typed_data

        signed = Account.sign_message(
            encode_typed_data(full_message=typed["typed_data"]), payment.resident.key
        )
        return {
            "valid_after": typed["valid_after"],
            "valid_before": typed["valid_before"],
            "nonce": typed["nonce"],
            "signature": "0x" + bytes(signed.signature).hex(),
        }

    async def post(self, connection: Connection, payment: Payment, body: dict) -> bool:
        status, answer = await self._call(
            connection, payment, "POST", "/residents/me/payments", body, payment.key
        )
        return self.accepted(payment, status, answer)

    @staticmethod
    def accepted(payment: Payment, status: int, answer: Any) -> bool:
        if status != 202:
            payment.error = f"pay {status} {(answer or {}).get('code')}"
            return False
        payment.accepted, payment.payment_id = now(), answer["id"]
        return True

    async def wait(self, connection: Connection, payment: Payment) -> None:
        """Until the API says the payment is confirmed (its merchant's till watches meanwhile)."""
        self.tills.waiting[payment.merchant.id] += 1
        try:
            await self._until_confirmed(connection, payment)
        finally:
            self.tills.waiting[payment.merchant.id] -= 1

    async def _until_confirmed(self, connection: Connection, payment: Payment) -> None:
        arrived = self.tills.event(payment.reference)
        pause = TILL_INTERVAL
        while True:
            if not arrived.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(arrived.wait(), UNSEEN_INTERVAL)
            status, view = await self._call(
                connection, payment, "GET", f"/residents/me/payments/{payment.payment_id}"
            )
            payment.status_requests += 1
            if status == 200 and view["status"] == "confirmed":
                payment.seen = now()
                payment.till = self.tills.seen.get(payment.reference)
                return
            if status != 200 or view["status"] == "failed":
                payment.error = (
                    f"status {status} {view.get('status') or view.get('code')} {view.get('error_code')}"
                )
                return
            if now() - payment.due > CONFIRM_TIMEOUT:
                payment.error = f"not confirmed within {CONFIRM_TIMEOUT:.0f} s"
                return
            if arrived.is_set():  # on chain, not yet confirmed by the outbox: ask again, less often each time
                await asyncio.sleep(pause)
                pause = min(1.0, pause * 2)


# --------------------------------------------------------------------------------------------------
# Phases
# --------------------------------------------------------------------------------------------------


class Factory:
    """New payments: resident and merchant in turn, an amount, a reference and a key of their own."""

    def __init__(self, label: str, merchants: list[Merchant]):
        self.label, self.merchants, self.count = label, merchants, 0

    def make(self, kind: str, resident: Resident) -> Payment:
        self.count += 1
        n = self.count
        return Payment(
            kind=kind,
            resident=resident,
            merchant=self.merchants[n % len(self.merchants)],
            amount=100 + n % 97,
            reference=f"bench {self.label} {n}",
            key=f"bench-{self.label}-{n}-{uuid.uuid4().hex[:8]}",
        )


async def one_at_a_time(
    payer: Payer, factory: Factory, kind: str, residents: list[Resident]
) -> list[Payment]:
    done = []
    for resident in residents:
        payment = factory.make(kind, resident)
        payment.due = now()
        await payer.pay(payment)
        done.append(payment)
    return done


async def warm_up(
    payer: Payer, factory: Factory, own: list[Resident], custodial: list[Resident]
) -> list[Payment]:
    return await one_at_a_time(payer, factory, "signed", own) + await one_at_a_time(
        payer, factory, "pin", custodial
    )


async def at_once(
    payer: Payer, factory: Factory, kind: str, residents: list[Resident], rounds: int
) -> list[Payment]:
    """Every resident at the same moment, each paying `rounds` times in a row (closed loop)."""
    done: list[Payment] = []

    async def resident_pays(resident: Resident) -> None:
        for _ in range(rounds):
            payment = factory.make(kind, resident)
            payment.due = now()
            done.append(payment)
            await payer.pay(payment)

    await asyncio.gather(*(resident_pays(r) for r in residents))
    return done


async def at_rate(
    payer: Payer, factory: Factory, kind: str, residents: list[Resident], rate: float, seconds: float
) -> list[Payment]:
    """Open loop: payment i is due at start + i / rate and timed from then, by a resident with no payment
    on its way if there is one (else the next in turn)."""
    count = max(1, int(rate * seconds))
    idle = collections.deque(residents)
    in_flight: dict[int, int] = {}
    payments: list[Payment] = []
    tasks = []

    async def pay(payment: Payment) -> None:
        resident = payment.resident
        in_flight[resident.id] = in_flight.get(resident.id, 0) + 1
        try:
            await payer.pay(payment)
        finally:
            in_flight[resident.id] -= 1
            if not in_flight[resident.id]:
                idle.append(resident)

    start = now() + 0.05
    for i in range(count):
        due = start + i / rate
        delay = due - now()
        if delay > 0:
            await asyncio.sleep(delay)
        resident = idle.popleft() if idle else residents[i % len(residents)]
        payment = factory.make(kind, resident)
        payment.due = due
        payments.append(payment)
        tasks.append(asyncio.create_task(pay(payment)))
    await asyncio.gather(*tasks)
    return payments


async def request_costs(
    payer: Payer, factory: Factory, own: list[Resident], custodial: list[Resident], cpu: Cpu, into: dict
) -> list[Payment]:
    """The API processes' CPU per request of each kind, one request at a time and nothing else asked
    meanwhile (the tills wait): GET typed-data, POST with a signature, POST with a PIN. Then until every
    one is confirmed, as in the other phases."""
    connection = payer.pool.take()
    signed = [factory.make("signed", r) for r in own]
    pins = [factory.make("pin", r) for r in custodial]
    for payment in signed + pins:
        payment.due = payment.started = now()
    marks = [cpu.sample()["api"]]
    typed = [await payer.typed_data(connection, p, payer.body(p)) for p in signed]
    marks.append(cpu.sample()["api"])
    bodies = [
        {**payer.body(p), "authorization": payer.sign(p, t)} for p, t in zip(signed, typed, strict=True)
    ]
    for payment, body in zip(signed, bodies, strict=True):
        await payer.post(connection, payment, body)
    marks.append(cpu.sample()["api"])
    for payment in pins:
        await payer.post(connection, payment, payer.body(payment))
    marks.append(cpu.sample()["api"])
    into["typed-data"] = (marks[1] - marks[0]) / len(signed)
    into["signed"] = (marks[2] - marks[1]) / len(signed)
    into["pin"] = (marks[3] - marks[2]) / len(pins)
    for payment in signed + pins:
        if payment.payment_id is not None:
            await payer.wait(connection, payment)
    payer.pool.give(connection)
    return signed + pins


# --------------------------------------------------------------------------------------------------
# Where the CPU goes
# --------------------------------------------------------------------------------------------------


class Cpu:
    """CPU seconds per process: the API processes (the server's children), the serving process itself (the
    outbox and the indexer), anvil, PostgreSQL's processes and this client."""

    def __init__(self, server_pid: int, anvil_pid: int, postgres: bool):
        import psutil

        self.psutil = psutil
        self.server = psutil.Process(server_pid)
        self.anvil = psutil.Process(anvil_pid)
        self.client = psutil.Process()
        self.postgres = postgres

    @staticmethod
    def _seconds(process) -> float:
        try:
            times = process.cpu_times()
            return times.user + times.system
        except Exception:  # noqa: BLE001 - a process that ended meanwhile
            return 0.0

    def sample(self) -> dict[str, Any]:
        threads = {t.id: t.user_time + t.system_time for t in self.server.threads()}
        children = self.server.children(recursive=True)
        sample = {
            "time": now(),
            "pids": {p.pid for p in children},
            "api": sum(self._seconds(p) for p in children),
            "workers": self._seconds(self.server),
            "threads": threads,
            "anvil": self._seconds(self.anvil),
            "client": self._seconds(self.client),
        }
        if self.postgres:
            sample["postgres"] = sum(
                self._seconds(p) for p in self.psutil.process_iter(["name"]) if p.info["name"] == "postgres"
            )
        return sample

    @staticmethod
    def per_payment(before: dict[str, Any], after: dict[str, Any], payments: int) -> dict[str, float]:
        """CPU seconds per payment of each process (group) between two samples."""
        names = ("api", "workers", "anvil", "postgres", "client")
        return {n: (after[n] - before[n]) / max(1, payments) for n in names if n in after}

    @staticmethod
    def between(before: dict[str, Any], after: dict[str, Any], payments: int) -> str:
        wall = after["time"] - before["time"]
        parts = []
        for name, label in NAMES.items():
            if name not in after:
                continue
            used = after[name] - before[name]
            text = f"{label} {used / wall:.2f} cores, {used / max(1, payments) * 1000:.1f} ms/payment"
            if name == "workers":
                busiest = max(
                    (after["threads"][t] - before["threads"].get(t, 0.0) for t in after["threads"]), default=0
                )
                text += f" (busiest thread {busiest / wall:.2f} cores)"
            parts.append(text)
        text = "CPU: " + "; ".join(parts)
        if after["pids"] != before["pids"]:  # uvicorn replaced a worker it found unresponsive
            text += f" (API processes replaced meanwhile: {sorted(before['pids'] - after['pids'])})"
        return text


# --------------------------------------------------------------------------------------------------
# The service and its residents
# --------------------------------------------------------------------------------------------------


def iban(bank: str, account: str) -> str:
    """A Dutch IBAN with correct check digits."""
    body = bank + account
    number = int("".join(str(int(ch, 36)) for ch in body + "NL00"))
    return f"NL{98 - number % 97:02d}{body}"


def wait_until_idle(http, what: str, timeout: float = 300) -> None:
    """Until the outbox has nothing open and the indexer has the newest block."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = http.get("/public/status").json()
        if state["pending_writes"] == 0 and state["indexer_lag_blocks"] == 0:
            if state["stuck_writes"]:
                raise RuntimeError(f"{what}: {state['stuck_writes']} writes are stuck")
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what}: the outbox or the indexer did not finish within {timeout:.0f} s: {state}")


def send_and_wait(chain, account, call) -> None:
    """One transaction of the bench's own (not the service's keys), until mined; a revert raises."""
    gas = chain.estimate_gas(account.address, call)
    signed = account.sign_transaction(
        {
            "to": call.to,
            "data": call.data,
            "value": 0,
            "nonce": chain.transaction_count(account.address),
            "gas": gas + gas // 5 + 50_000,
            "chainId": chain.deployment.chain_id,
            **chain.fees().fields(),
        }
    )
    chain.send_raw(bytes(signed.raw_transaction))
    tx_hash = "0x" + bytes(signed.hash).hex()
    deadline = time.monotonic() + 60
    while (receipt := chain.receipt(tx_hash)) is None:
        if time.monotonic() > deadline:
            raise RuntimeError(f"transaction {tx_hash} not mined within 60 s")
        time.sleep(0.02)
    if not receipt.succeeded:
        raise RuntimeError(f"transaction {tx_hash} reverted")


def grant_funds(chain, wallets: list[str], label: str) -> None:
    """FUNDS of GKW for each wallet, granted by the bench's own minter (configured by the demo's admin)."""
    from eth_account import Account
    from eth_utils import keccak

    from socialcoin.chain.contracts import Contract
    from socialcoin.settings import DEVELOPMENT_OPERATOR_KEY

    Account.enable_unaudited_hdwallet_features()
    minter = Account.from_mnemonic(TEST_MNEMONIC, account_path=BENCH_MINTER_PATH)
    admin = Account.from_key(DEVELOPMENT_OPERATOR_KEY)  # the demo's admin, master minter
    issuer, coin = chain.deployment.issuer, chain.deployment.coins[COIN]
    total = FUNDS * len(wallets)
    send_and_wait(
        chain,
        admin,
        chain.encode(Contract.ISSUER, issuer, "increaseMinterAllowance", [minter.address, total]),
    )
    for start in range(0, len(wallets), GRANTS_PER_TX):
        grants = [
            (coin, wallet, FUNDS, keccak(text=f"bench payments|{label}|{start + i}"))
            for i, wallet in enumerate(wallets[start : start + GRANTS_PER_TX])
        ]
        send_and_wait(chain, minter, chain.encode(Contract.ISSUER, issuer, "grantBatch", [grants]))


@dataclass
class Setup:
    own: list[Resident]
    custodial: list[Resident]
    merchants: list[Merchant]
    coin: str


def set_up(http, chain, own_count: int, custodial_count: int, label: str) -> Setup:
    """Merchants, residents (registered on chain, with tokens) and their coins, through the API."""
    from eth_account import Account

    merchants = []
    for n in range(1, MERCHANTS):
        answer = http.post(
            "/municipality/merchants",
            json={
                "name": f"Winkel {n}",
                "iban": iban("ABNA", f"05{n:08d}"),
                "area": "WK020201",
                "purposes": ["LOCAL_SPENDING"],
                "wallet_address": Account.create().address,
            },
        )
        answer.raise_for_status()
    keys = [Account.create() for _ in range(own_count)]
    rows = [
        {
            "line": i + 2,
            "name": f"Bewoner {i}",
            "case_number": f"PAY-{label}-{i:05d}",
            "area": f"BU020201{1 + i % 9:02d}",
            **({"wallet_address": keys[i].address} if i < own_count else {}),
        }
        for i in range(own_count + custodial_count)
    ]
    answer = http.post("/municipality/residents/batch", json={"rows": rows}, timeout=600)
    answer.raise_for_status()
    results = answer.json()["results"]
    cases = [r["case_number"] for r in results]
    wait_until_idle(http, "registering residents and merchants")
    states = http.post("/municipality/residents/lookup", json={"case_numbers": cases}).json()
    if any(s["onchain"] != "done" for s in states):
        raise RuntimeError(f"residents not registered: {[s for s in states if s['onchain'] != 'done'][:3]}")
    found = http.get("/municipality/merchants", params={"area": "WK020201"}).json()
    if any(m["registration"]["status"] != "done" for m in found):
        raise RuntimeError(f"merchants not registered: {found}")
    for m in found:
        token = http.post(
            "/municipality/tokens", json={"role": "merchant", "subject_id": m["id"], "label": "bench"}
        ).json()["token"]
        merchants.append(Merchant(m["id"], m["name"], m["wallet_address"], token))

    grant_funds(chain, [r["wallet_address"] for r in results], label)

    own = []
    for result, account in zip(results[:own_count], keys, strict=True):
        token = http.post(
            "/municipality/tokens",
            json={"role": "resident", "subject_id": result["resident_id"], "label": "bench"},
        ).json()["token"]
        own.append(Resident(result["resident_id"], result["case_number"], token, bytes(account.key)))

    def activate(result: dict) -> Resident:
        import httpx

        while True:  # a 503 (the key derivations' queue is full) is sent again after its Retry-After
            answer = httpx.post(
                f"{http.base_url}/auth/activate",
                json={
                    "case_number": result["case_number"],
                    "activation_code": result["activation_code"],
                    "pin": PIN,
                },
                timeout=120,
            )
            if answer.status_code != 503:
                break
            time.sleep(float(answer.headers.get("Retry-After", "1")))
        answer.raise_for_status()
        return Resident(result["resident_id"], result["case_number"], answer.json()["token"], None)

    with ThreadPoolExecutor(max_workers=8) as pool:
        custodial = list(pool.map(activate, results[own_count:]))
    wait_until_idle(http, "granting coins")
    return Setup(own, custodial, merchants, chain.deployment.coins[COIN])


# --------------------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------------------


def payment_made_logs(chain, coin: str, from_block: int) -> dict[str, int]:
    """PaymentMade logs of the coin since `from_block`: how many per reference (as the till's text)."""
    from eth_utils import keccak

    topic = "0x" + keccak(text="PaymentMade(address,address,uint256,bytes32)").hex()
    logs = chain.rpc(
        "eth_getLogs",
        [{"address": coin, "fromBlock": hex(from_block), "toBlock": "latest", "topics": [topic]}],
    )
    counts: dict[str, int] = {}
    for entry in logs:
        text = bytes.fromhex(entry["topics"][3][2:]).rstrip(b"\0").decode("ascii", "replace")
        counts[text] = counts.get(text, 0) + 1
    return counts


def database_state(
    database_url: str, references: list[str]
) -> tuple[dict[str, int], int, dict[str, datetime]]:
    """From the service's database: how many of these payments have each status, how many outbox items
    failed or were cancelled, and when each payment was marked confirmed (by reference)."""
    from sqlalchemy import create_engine, func, select

    from socialcoin.db.enums import OutboxStatus
    from socialcoin.db.models import OutboxItem
    from socialcoin.db.models import Payment as PaymentRow

    engine = create_engine(database_url)
    statuses: dict[str, int] = {}
    confirmed_at: dict[str, datetime] = {}
    try:
        with engine.connect() as connection:
            for start in range(0, len(references), 500):
                chunk = references[start : start + 500]
                for reference, status, when in connection.execute(
                    select(PaymentRow.reference, PaymentRow.status, PaymentRow.confirmed_at).where(
                        PaymentRow.reference.in_(chunk)
                    )
                ):
                    statuses[str(status)] = statuses.get(str(status), 0) + 1
                    if when is not None:
                        confirmed_at[reference] = when
            failed = connection.scalar(
                select(func.count())
                .select_from(OutboxItem)
                .where(OutboxItem.status.in_((OutboxStatus.FAILED, OutboxStatus.CANCELLED)))
            )
    finally:
        engine.dispose()
    return statuses, int(failed or 0), confirmed_at


def balances(chain, coin: str, merchants: list[Merchant]) -> dict[int, int]:
    return {m.id: chain.balance_of(coin, m.wallet) for m in merchants}


# --------------------------------------------------------------------------------------------------
# Running a phase and reporting it
# --------------------------------------------------------------------------------------------------


@dataclass
class Result:
    payments: list[Payment]
    seconds: float
    polls: int = 0  # requests of the merchants' tills
    problems: list[str] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds per payment, by process (group)

    def bound(self, cores: int) -> str:
        """What the CPU the service used per payment allows at most, on all cores and in the one process
        that runs the outbox and the indexer."""
        used = {k: v for k, v in self.cpu.items() if k != "client"}
        total = sum(used.values())
        if not total or not used.get("workers"):
            return "not measured"
        parts = ", ".join(f"{NAMES[k]} {v * 1000:.1f}" for k, v in used.items())
        return (
            f"{total * 1000:.0f} ms of CPU per payment ({parts}): {cores} cores allow at most "
            f"{cores / total:.0f}/s; the outbox and indexer's one process, at most "
            f"{1 / used['workers']:.0f}/s"
        )

    @property
    def confirmed(self) -> list[Payment]:
        return [p for p in self.payments if p.confirmed is not None]

    @property
    def rate(self) -> float:
        return len(self.confirmed) / self.seconds if self.seconds > 0 else 0.0

    def percentile(self, q: float) -> float:
        return (
            service.percentile([p.latency_ms for p in self.confirmed], q) if self.confirmed else float("nan")
        )


class Bench:
    def __init__(self, http, chain, database_url: str, setup: Setup, cpu: Cpu):
        self.http, self.chain, self.database_url, self.setup, self.cpu = http, chain, database_url, setup, cpu
        port = service.API_PORT
        self.pool = Pool("127.0.0.1", port)
        self.merchants = setup.merchants

    async def _run(self, phase) -> tuple[list[Payment], int]:
        tills = Tills(self.pool, self.merchants)
        await tills.start()
        try:
            return await phase(Payer(self.pool, tills)), tills.polls
        finally:
            await tills.stop()
            self.pool.close()

    def run(self, title: str, phase, quiet: bool = False) -> Result:
        """Runs one phase (a coroutine taking a Payer), checks it and prints its figures."""
        import uvloop

        before_balances = balances(self.chain, self.setup.coin, self.merchants)
        first_block = self.chain.block_number() + 1
        before = self.cpu.sample()
        started = now()
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            payments, polls = runner.run(self._run(phase))
        after = self.cpu.sample()
        result = Result(payments, now() - started, polls=polls)
        self._check(result, before_balances, first_block)  # reads when the service confirmed each
        ends = [p.confirmed for p in payments if p.confirmed is not None]
        if ends:
            result.seconds = max(ends) - min(p.due for p in payments)
        result.cpu = Cpu.per_payment(before, after, len(payments))
        if quiet:
            print(f"  {title}: " + ("; ".join(result.problems) or "all confirmed exactly once"))
        else:
            self._print(title, result, Cpu.between(before, after, len(payments)))
        return result

    def _check(self, result: Result, before: dict[int, int], first_block: int) -> None:
        wait_until_idle(self.http, "after the phase")
        problems = result.problems
        errors: dict[str, int] = {}
        for p in result.payments:
            if p.error:
                errors[p.error] = errors.get(p.error, 0) + 1
        if errors:
            problems.append(f"not confirmed: {errors}")
        references = [p.reference for p in result.payments]
        statuses, failed_items, confirmed_at = database_state(self.database_url, references)
        wall_offset = time.time() - now()  # the service's timestamps on this script's clock
        for payment in result.payments:
            if payment.seen is not None and payment.reference in confirmed_at:
                payment.confirmed = confirmed_at[payment.reference].timestamp() - wall_offset
        if statuses != {"confirmed": len(references)}:
            problems.append(f"database: payments {statuses}")
        if failed_items:
            problems.append(f"database: {failed_items} failed or cancelled outbox items")
        after = balances(self.chain, self.setup.coin, self.merchants)
        grew = sum(after.values()) - sum(before.values())
        wanted = sum(p.amount for p in result.payments)
        if grew != wanted:
            problems.append(f"chain: the merchants got {grew} cents, the payments sum to {wanted}")
        logs = payment_made_logs(self.chain, self.setup.coin, first_block)
        mine = {r: logs.get(r, 0) for r in references}
        if any(count != 1 for count in mine.values()) or len(logs) != len(references):
            wrong = {r: c for r, c in mine.items() if c != 1}
            problems.append(
                f"chain: {len(logs)} PaymentMade logs for {len(references)} payments, "
                f"{len(wrong)} references not once: {list(wrong.items())[:5]}"
            )

    def _print(self, title: str, result: Result, cpu: str) -> None:
        confirmed = result.confirmed
        print(
            f"  {title}: {len(confirmed)} of {len(result.payments)} confirmed in {result.seconds:.2f} s: "
            f"{result.rate:.1f}/s"
        )
        if confirmed:

            def ms(values: list[float]) -> str:
                return (
                    f"p50 {statistics.median(values):.0f} ms, p95 {service.percentile(values, 0.95):.0f} ms"
                )

            seen = [(p.seen - p.due) * 1000 for p in confirmed]
            accepted = [(p.accepted - p.due) * 1000 for p in confirmed]
            till = [(p.till - p.due) * 1000 for p in confirmed if p.till is not None]
            late = sum(1 for p in result.payments if p.started - p.due > 0.05)
            print(
                f"    request to confirmed: p50 {result.percentile(0.5):.0f} ms, "
                f"p95 {result.percentile(0.95):.0f} ms, max {max(p.latency_ms for p in confirmed):.0f} ms "
                f"(the service's confirmed_at); to the 202: {ms(accepted)}"
                + (f"; the till saw it: {ms(till)}" if till else "")
                + f"; the client saw it confirmed: {ms(seen)}"
            )
            retries = sum(p.retries for p in result.payments)
            again = sum(p.signed_again for p in result.payments)
            asks = sum(p.status_requests for p in confirmed) / len(confirmed)
            print(
                f"    {retries} requests sent again after a 503; {asks:.1f} status requests per payment; the "
                f"tills polled {result.polls} times ({result.polls / result.seconds:.0f}/s)"
                + (f"; {again} signed again (nonce taken meanwhile)" if again else "")
                + (f"; {late} started over 50 ms late" if late else "")
            )
        print(f"    {cpu}")
        if result.problems:
            print(f"    PROBLEMS: {'; '.join(result.problems)}")
        else:
            print(
                f"    checked: all {len(result.payments)} confirmed exactly once (each client saw it; the "
                "database has them confirmed, no failed outbox item; on chain the merchants got exactly the "
                "sum, one PaymentMade log each)"
            )


# --------------------------------------------------------------------------------------------------
# One database
# --------------------------------------------------------------------------------------------------


def derivation_seconds(samples: int = 10) -> float:
    """CPU seconds of one scrypt key derivation with the parameters custodial wallets are sealed under
    (median; CPU time, so that other work on the machine does not stretch it)."""
    from socialcoin.domain import wallets

    times = []
    for _ in range(samples):
        started = time.thread_time()
        hashlib.scrypt(PIN.encode() + b"|bench-secret", salt=os.urandom(16), **wallets._SCRYPT)
        times.append(time.thread_time() - started)
    return statistics.median(times)


def prepare_backend(
    helpers, work: Path, node, deployment: Path, database_url: str
) -> tuple[dict[str, str], str]:
    """The backend's settings for `database_url` with its tables and the demo data, and an admin token (as
    tests/cli/conftest.py's prepared_backend, on any database)."""
    env = helpers.backend_env(work, node.url, deployment)
    env["SOCIALCOIN_DATABASE_URL"] = database_url
    # Every client of this benchmark connects from 127.0.0.1, as behind one proxy: the limits per client
    # address are off (the ones per resident stay); bench/flood.py measures the throttles.
    env["SOCIALCOIN_LOGIN_LIMIT_PER_CLIENT"] = ""
    env["SOCIALCOIN_SPEND_LIMIT_PER_CLIENT"] = ""
    helpers.create_tables(database_url)
    subprocess.run(
        [sys.executable, "-m", "socialcoin.demo"], env=env, cwd=ROOT, check=True, capture_output=True
    )
    token = subprocess.run(
        [
            sys.executable,
            "-m",
            "socialcoin.server",
            "token",
            "--role",
            "municipality_admin",
            "--label",
            "bench",
        ],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return env, token


def bench_database(
    name: str, database_url: str, state: Path, deployment: Path, args, work: Path, derivation: float
) -> dict:
    """Every phase on one database, on a fresh anvil from the deployed state. Its figures."""
    import httpx

    from socialcoin.chain.gateway import Chain

    work.mkdir(parents=True, exist_ok=True)
    chainnode = service.load_chainnode()
    helpers = load_module("socialcoin_cli_helpers", ROOT / "tests" / "cli" / "conftest.py")
    node = chainnode.ChainNode(service.CHAIN_PORT)
    node.start(load_state=state)
    server = None
    figures: dict[str, Any] = {}
    try:
        started = now()
        env, token = prepare_backend(helpers, work, node, deployment, database_url)
        server = service.start_server(env, work / f"server-{name}.log")
        url = f"http://127.0.0.1:{service.API_PORT}"
        chain = Chain.connect(node.url, deployment, ROOT / "build" / "contracts", timeout=30)
        http = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=120)
        setup = set_up(
            http,
            chain,
            max(args.clients, args.baseline),
            max(args.pin_clients, args.pin_baseline),
            name,
        )
        print(
            f"  set up in {now() - started:.0f} s (not measured): {len(setup.merchants)} merchants, "
            f"{len(setup.own)} residents with own wallets and {len(setup.custodial)} with custodial ones "
            f"(activated with a PIN), {FUNDS // 100} {COIN} each"
        )
        cpu = Cpu(server.pid, node.process.pid, postgres=name == "postgres")
        bench = Bench(http, chain, database_url, setup, cpu)
        factory = Factory(name, setup.merchants)
        own, custodial = setup.own, setup.custodial

        bench.run(
            f"warm-up (not measured): {WARM_UP} signed and {WARM_UP} PIN payments one at a time",
            lambda payer: warm_up(payer, factory, own[:WARM_UP], custodial[:WARM_UP]),
            quiet=True,
        )
        figures["signed_base"] = bench.run(
            "(a) signed, one at a time",
            lambda payer: one_at_a_time(payer, factory, "signed", own[: args.baseline]),
        )
        figures["signed"] = bench.run(
            f"(b) signed, {args.clients} residents at once, {args.rounds} payments each in a row",
            lambda payer: at_once(payer, factory, "signed", own[: args.clients], args.rounds),
        )
        # Far beyond what the service does, an open loop measures only its queue: then one second of it.
        seconds = args.seconds if figures["signed"].rate >= args.rate / 2 else min(args.seconds, 1.0)
        figures["signed_rate"] = bench.run(
            f"(c) signed at {args.rate:.0f}/s for {seconds:.0f} s (open loop"
            + ("" if seconds == args.seconds else f"; {args.seconds:.0f} s when (b) reaches half that rate")
            + ")",
            lambda payer: at_rate(payer, factory, "signed", own[: args.clients], args.rate, seconds),
        )
        figures["pin_base"] = bench.run(
            "(d) PIN, one at a time",
            lambda payer: one_at_a_time(payer, factory, "pin", custodial[: args.pin_baseline]),
        )
        figures["pin"] = bench.run(
            f"(e) PIN, {args.pin_clients} residents at once, one payment each",
            lambda payer: at_once(payer, factory, "pin", custodial[: args.pin_clients], 1),
        )
        costs: dict[str, float] = {}
        count = min(COST_REQUESTS, len(own), len(custodial))
        bench.run(
            f"(f) the API processes' CPU per request, {count} of each kind one at a time",
            lambda payer: request_costs(payer, factory, own[:count], custodial[:count], cpu, costs),
            quiet=True,
        )
        beyond = costs["pin"] - costs["signed"]
        print(
            f"    GET typed-data {costs['typed-data'] * 1000:.1f} ms, POST with a signature "
            f"{costs['signed'] * 1000:.1f} ms, POST with a PIN {costs['pin'] * 1000:.1f} ms: a PIN payment "
            f"takes {beyond * 1000:.1f} ms more than a signed one, {beyond / derivation:.2f} key derivations "
            f"({derivation * 1000:.1f} ms each)"
        )
        figures["costs"] = costs
        http.close()
    finally:
        if server is not None:
            service.stop(server)
        node.stop()
    return figures


def postgres_database() -> tuple[str, str, Any]:
    """A database of our own on the project's PostgreSQL server: its URL, its name and an engine on the
    server (to drop it)."""
    from sqlalchemy import create_engine, text

    server = subprocess.run(
        ["bash", str(ROOT / "tools" / "postgres.sh")], capture_output=True, text=True, check=True
    ).stdout.strip()
    name = f"socialcoin_bench_payments_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    return server.rsplit("/", 1)[0] + "/" + name, name, admin


def drop_postgres_database(name: str, admin) -> None:
    from sqlalchemy import text

    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


# --------------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=200, help="residents paying at once (own wallets)")
    parser.add_argument("--rounds", type=int, default=2, help="payments each of them makes in a row in (b)")
    parser.add_argument("--rate", type=float, default=200, help="payments/s offered in (c)")
    parser.add_argument("--seconds", type=float, default=3, help="how long (c) offers them")
    parser.add_argument("--baseline", type=int, default=20, help="signed payments one at a time")
    parser.add_argument("--pin-clients", type=int, default=200, help="residents paying at once with a PIN")
    parser.add_argument("--pin-baseline", type=int, default=10, help="PIN payments one at a time")
    parser.add_argument("--databases", default="sqlite,postgres", help="sqlite, postgres or both")
    args = parser.parse_args()
    os.environ.setdefault("PYTHONWARNINGS", "ignore::FutureWarning")
    for path in (ROOT / "backend", ROOT):
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))

    cores = os.cpu_count() or 1
    print(f"Relayed payment benchmarks (load average {os.getloadavg()[0]:.2f} on {cores} cores)")
    derivation = derivation_seconds()
    bound = cores / derivation
    print(
        f"  one scrypt key derivation (n=2^14, r=8, p=1, as custodial wallets are sealed): "
        f"{derivation * 1000:.1f} ms of CPU: with one per PIN payment, {cores} cores pay at most {bound:.0f} "
        "PIN payments/s"
    )
    results: dict[str, dict] = {}
    node = None
    work = Path(tempfile.mkdtemp(prefix="socialcoin-bench-payments-"))
    failed = False
    try:
        for port in (service.CHAIN_PORT, service.API_PORT):
            if not service.port_free(port):
                raise RuntimeError(f"port {port} is in use")
        chainnode = service.load_chainnode()
        service.ensure_network()
        node = chainnode.ChainNode(service.CHAIN_PORT)
        node.start()
        started = now()
        deployment = chainnode.deploy_demo(node)
        state = node.dump_state(work / "deployed.json")
        node.stop()
        node = None
        print(f"  deployed in {now() - started:.0f} s (not measured); each database starts from that state")
        for name in [d.strip() for d in args.databases.split(",") if d.strip()]:
            print(f"== {name} ==")
            drop = None
            try:
                if name == "sqlite":
                    url = f"sqlite:///{work / 'bench.db'}"
                elif name == "postgres":
                    url, database, admin = postgres_database()
                    drop = (database, admin)
                else:
                    raise ValueError(f"unknown database {name!r}")
                results[name] = bench_database(name, url, state, deployment, args, work / name, derivation)
            except Exception:  # noqa: BLE001 - a benchmark reports; it does not fail the build
                failed = True
                print(
                    f"ERROR on {name}: the benchmark could not finish (its files, server logs too: {work}):"
                )
                traceback.print_exc(file=sys.stdout)
            finally:
                if drop is not None:
                    drop_postgres_database(*drop)
    except Exception:  # noqa: BLE001
        failed = True
        print(f"ERROR: the benchmark could not finish (its files: {work}):")
        traceback.print_exc(file=sys.stdout)
    finally:
        if node is not None:
            node.stop()
        if not failed:
            shutil.rmtree(work, ignore_errors=True)

    print("Figures:")
    for name, figures in results.items():
        if {"signed", "signed_base"} <= figures.keys():
            print(
                f"relayed payments/s ({name}): {figures['signed'].rate:.1f} "
                f"(one at a time {figures['signed_base'].rate:.1f}/s)"
            )
    for name, figures in results.items():
        if "signed" in figures:
            line = f"p50/p95 ms request to confirmed ({name}): {figures['signed'].percentile(0.5):.0f}/"
            line += f"{figures['signed'].percentile(0.95):.0f} with {args.clients} residents at once"
            if "signed_rate" in figures:
                rated = figures["signed_rate"]
                line += (
                    f"; {rated.percentile(0.5):.0f}/{rated.percentile(0.95):.0f} at {args.rate:.0f}/s "
                    f"offered ({rated.rate:.1f}/s achieved)"
                )
            print(line)
    for name, figures in results.items():
        if "signed" in figures:
            print(f"what bounds signed payments ({name}): {figures['signed'].bound(cores)}")
    for name, figures in results.items():
        if {"pin", "pin_base"} <= figures.keys():
            print(
                f"PIN payments/s ({name}): {figures['pin'].rate:.1f} (one at a time "
                f"{figures['pin_base'].rate:.1f}/s); p50/p95 {figures['pin'].percentile(0.5):.0f}/"
                f"{figures['pin'].percentile(0.95):.0f} ms; CPU bound of one key derivation per payment: "
                f"{bound:.0f}/s ({cores} cores / {derivation * 1000:.1f} ms)"
            )
            print(f"what bounds PIN payments ({name}): {figures['pin'].bound(cores)}")
    print("Targets:")
    for name in [d.strip() for d in args.databases.split(",") if d.strip()]:
        figures = results.get(name, {})
        if "signed" not in figures:
            print(f"  signed payments ({name}): not measured")
            continue
        rate = figures["signed"].rate
        print(
            f"  signed payments/s >= {SIGNED_TARGET:.0f} ({name}): {rate:.1f}, "
            f"{service.verdict(rate >= SIGNED_TARGET, f'{SIGNED_TARGET - rate:.1f}/s')}"
        )
        if "signed_rate" in figures:
            rated = figures["signed_rate"]
            p95 = rated.percentile(0.95)
            kept_up = rated.rate >= 0.95 * args.rate and args.rate >= SIGNED_TARGET
            if p95 >= P95_TARGET_MS:
                missed = f"{p95 - P95_TARGET_MS:.0f} ms"
            else:
                missed = f"rate: {rated.rate:.1f}/s achieved, {SIGNED_TARGET:.0f}/s wanted"
            print(
                f"  p95 < {P95_TARGET_MS:.0f} ms at {SIGNED_TARGET:.0f}/s ({name}): {p95:.0f} ms at "
                f"{args.rate:.0f}/s offered, {rated.rate:.1f}/s achieved, "
                f"{service.verdict(p95 < P95_TARGET_MS and kept_up, missed)}"
            )
        unconfirmed = [k for k, r in figures.items() if isinstance(r, Result) and r.problems]
        print(
            f"  every payment confirmed exactly once ({name}): "
            + ("yes" if not unconfirmed else f"NO, in {', '.join(unconfirmed)} (see PROBLEMS above)")
        )
    print(f"(load average {os.getloadavg()[0]:.2f} at the end)")


if __name__ == "__main__":
    main()
    sys.exit(0)
