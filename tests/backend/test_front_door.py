"""The front door: PIN lock-outs for residents and merchants that count every attempt before it is checked,
one answer for every failed sign-in, lock-outs nobody can aim at a resident, rate limits per client address
and per account, request bodies refused before they are read, and key derivations that cannot crowd out
reads. On SQLite and PostgreSQL (make test runs the suite on both); floods stay small and go to 127.0.0.1
(and other loopback addresses) only."""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from datetime import timedelta
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from serving import at_once, served
from socialcoin.api.app import create_app
from socialcoin.api.bodies import BATCH_BODY_LIMIT, EVIDENCE_BODY_LIMIT, JSON_BODY_LIMIT
from socialcoin.db.base import transaction
from socialcoin.db.enums import Origin
from socialcoin.db.models import Merchant, OutboxItem, PinAttempts, RateLimitCounter
from socialcoin.db.types import utcnow
from socialcoin.domain import pin_attempts, wallets
from socialcoin.domain.access import Role
from socialcoin.domain.pin_attempts import MAX_PIN_FAILURES, MAX_UNTRUSTED_FAILURES, PIN_LOCK
from socialcoin.domain.wallets import KEY_DERIVATIONS, open_wallet
from socialcoin.settings import Settings, SettingsError
from test_payments import PIN, admit, drive, key, merchant, mint

NEW_PIN = "97531"
WRONG = [f"{86420 + 2 * n}" for n in range(60)]  # none of them is PIN


@pytest.fixture
def settings(settings):
    """No rate limits unless a test sets them: the lock-outs are tested on their own."""
    return settings.model_copy(
        update={"login_limit_per_client": "", "spend_limit_per_client": "", "spend_limit_per_holder": ""}
    )


def from_address(runtime, address: str) -> TestClient:
    """A client that connects from `address` (the service sees it as the client address)."""
    return TestClient(create_app(runtime=runtime, run_workers=False), client=(address, 40000))


def login(client, case_number: str, pin: str, device_token: str | None = None) -> httpx.Response:
    body = {"case_number": case_number, "pin": pin}
    if device_token:
        body["device_token"] = device_token
    return client.post("/auth/login", json=body)


def failed_the_same_way(answer: httpx.Response) -> dict:
    assert answer.status_code == 401, answer.text
    body = answer.json()
    assert body["code"] == "login_failed" and "gemeente" in body["detail"], body
    assert "Retry-After" not in answer.headers
    return body


def derivations() -> int:
    KEY_DERIVATIONS.typical_seconds()  # measured once per process: not part of what a test counts
    return KEY_DERIVATIONS.derived


# --------------------------------------------------------------------------------------------------
# 11. Merchants: the residents' lock-out, and a PIN change
# --------------------------------------------------------------------------------------------------


def merchant_with_coins(runtime, demo, auth, amount: int = 1000) -> tuple[int, str, dict]:
    merchant_id, wallet = merchant(runtime, "Bakkerij Slot")
    drive(runtime)
    mint(runtime, demo, "GKW", wallet, amount)
    drive(runtime)
    return merchant_id, wallet, auth(Role.MERCHANT, merchant_id)


def test_wrong_merchant_pins_at_once_lock_the_pin_and_then_the_right_one_is_refused_too(runtime, demo, auth):
    _merchant_id, _wallet, headers = merchant_with_coins(runtime, demo, auth)
    parallel = 8
    with served(runtime) as base:
        answers = at_once(
            parallel,
            lambda client, n: client.post(
                f"{base}/merchants/me/payouts",
                headers={**headers, **key()},
                json={"coin": "GKW", "amount_cents": 100, "pin": WRONG[n]},
            ),
        )
        assert Counter(a.status_code for a in answers) == {403: MAX_PIN_FAILURES - 1, 429: 4}
        right = httpx.post(
            f"{base}/merchants/me/payouts",
            headers={**headers, **key()},
            json={"coin": "GKW", "amount_cents": 100, "pin": PIN},
        )
    assert right.status_code == 429 and right.json()["code"] == "pin_locked", right.text
    assert int(right.headers["Retry-After"]) > 0
    with runtime.sessions() as session:
        payouts = select(func.count()).select_from(OutboxItem).where(OutboxItem.origin == Origin.PAYOUT)
        assert session.scalar(payouts) == 0


def test_a_merchant_changes_the_pin_of_the_wallet_the_municipality_keeps(client, runtime, auth):
    merchant_id, _wallet = merchant(runtime, "Bakkerij Pin")
    headers = auth(Role.MERCHANT, merchant_id)
    with runtime.sessions() as session:
        before = session.get_one(Merchant, merchant_id)
    wrong = client.post(
        "/merchants/me/pin", headers=headers, json={"current_pin": "13579", "new_pin": NEW_PIN}
    )
    assert wrong.status_code == 403 and wrong.json()["code"] == "pin_wrong", wrong.text
    with runtime.sessions() as session:
        counted = session.get_one(PinAttempts, (f"merchant:{merchant_id}", "session"))
        assert counted.failures == 1
    weak = client.post("/merchants/me/pin", headers=headers, json={"current_pin": PIN, "new_pin": "11111"})
    assert weak.status_code == 422 and weak.json()["code"] == "pin_weak"

    changed = client.post("/merchants/me/pin", headers=headers, json={"current_pin": PIN, "new_pin": NEW_PIN})
    assert changed.status_code == 204, changed.text
    secret = runtime.settings.secret_key.get_secret_value()
    with runtime.sessions() as session:
        after = session.get_one(Merchant, merchant_id)
        assert session.get_one(PinAttempts, (f"merchant:{merchant_id}", "session")).failures == 0
    assert after.wallet_address == before.wallet_address
    reopened = open_wallet(after.wallet_address, after.wallet_ciphertext, NEW_PIN, secret)
    assert reopened is not None
    assert reopened.key == open_wallet(before.wallet_address, before.wallet_ciphertext, PIN, secret).key
    assert open_wallet(after.wallet_address, after.wallet_ciphertext, PIN, secret) is None
    # The till's token still works.
    assert client.get("/merchants/me/balances", headers=headers).status_code == 200


def test_a_merchant_with_an_own_wallet_has_no_pin_to_change(client, runtime, auth):
    merchant_id, _wallet = merchant(runtime, "Bakkerij Eigen", wallet="0x" + "ab" * 20)
    answer = client.post(
        "/merchants/me/pin",
        headers=auth(Role.MERCHANT, merchant_id),
        json={"current_pin": PIN, "new_pin": NEW_PIN},
    )
    assert answer.status_code == 409 and answer.json()["code"] == "no_custodial_wallet"


# --------------------------------------------------------------------------------------------------
# 12. Guesses sent at once
# --------------------------------------------------------------------------------------------------


def test_forty_logins_at_once_check_no_more_pins_than_the_lock_out_allows(runtime):
    admit(runtime, "2026-F040")
    before = derivations()
    with served(runtime) as base:
        answers = at_once(
            40,
            lambda client, n: client.post(
                f"{base}/auth/login", json={"case_number": "2026-F040", "pin": WRONG[n]}
            ),
        )
        checked = KEY_DERIVATIONS.derived - before
        right = httpx.post(f"{base}/auth/login", json={"case_number": "2026-F040", "pin": PIN}, timeout=30)
    # Every attempt was counted before its PIN was checked: exactly MAX_PIN_FAILURES key derivations ran.
    assert checked == MAX_PIN_FAILURES
    found = Counter(a.status_code for a in answers)
    assert set(found) <= {401, 503} and found[401] >= MAX_PIN_FAILURES, found
    assert all(a.json()["code"] == "service_busy" for a in answers if a.status_code == 503)
    failed_the_same_way(right)  # locked out now, even with the right PIN
    assert KEY_DERIVATIONS.derived - before == MAX_PIN_FAILURES


# --------------------------------------------------------------------------------------------------
# 13. One answer, and lock-outs nobody can aim at a resident
# --------------------------------------------------------------------------------------------------


def test_every_failed_sign_in_is_the_same_answer(client, runtime, auth):
    admit(runtime, "2026-F001")
    admit(runtime, "2026-F002", wallet="0x" + "cd" * 20)  # an own wallet: no PIN here
    admitted = client.post(
        "/municipality/residents/batch",
        headers=auth(Role.ADMIN),
        json={"rows": [{"line": 2, "name": "Eva", "case_number": "2026-F003", "area": "BU02020101"}]},
    )
    assert admitted.status_code == 200, admitted.text  # awaiting activation
    answers = {
        "unknown case": login(client, "2026-F999", PIN),
        "own wallet": login(client, "2026-F002", PIN),
        "awaiting activation": login(client, "2026-F003", PIN),
        "wrong PIN": login(client, "2026-F001", WRONG[0]),
    }
    for n in range(1, MAX_PIN_FAILURES):
        login(client, "2026-F001", WRONG[n])
    answers["locked out, right PIN"] = login(client, "2026-F001", PIN)
    bodies = {what: failed_the_same_way(answer) for what, answer in answers.items()}
    assert len({str(sorted(body.items())) for body in bodies.values()}) == 1, bodies


def test_a_sign_in_with_nothing_to_check_runs_no_key_derivation_and_answers_as_late_as_one(client, runtime):
    typical = KEY_DERIVATIONS.typical_seconds()
    before = derivations()
    for n in range(5):
        started = time.monotonic()
        failed_the_same_way(login(client, f"2026-X{n:03d}", PIN))
        assert time.monotonic() - started >= 0.9 * typical  # a sleep: no CPU, but the same wait
    assert KEY_DERIVATIONS.derived == before


def test_an_attacker_from_one_address_locks_out_that_address_only(runtime):
    admit(runtime, "2026-F010")
    attacker, resident = from_address(runtime, "203.0.113.7"), from_address(runtime, "198.51.100.20")
    with attacker, resident:
        for n in range(MAX_PIN_FAILURES + 3):
            failed_the_same_way(login(attacker, "2026-F010", WRONG[n]))
        failed_the_same_way(login(attacker, "2026-F010", PIN))  # that address is locked out
        assert login(resident, "2026-F010", PIN).status_code == 200


def test_many_addresses_lock_out_clients_without_a_device_token_never_the_residents_device(runtime):
    resident_id, _ = admit(runtime, "2026-F020")
    admit(runtime, "2026-F021")
    phone = from_address(runtime, "198.51.100.20")
    with phone:
        signed_in = login(phone, "2026-F020", PIN)
        assert signed_in.status_code == 200
        device = signed_in.json()["device_token"]
        other_residents_device = login(phone, "2026-F021", PIN).json()["device_token"]
    addresses = [f"203.0.113.{n}" for n in range(1, MAX_UNTRUSTED_FAILURES // (MAX_PIN_FAILURES - 1) + 2)]
    guesses = iter(WRONG)
    for address in addresses:
        with from_address(runtime, address) as attacker:
            for _ in range(MAX_PIN_FAILURES - 1):  # each address stays below its own lock-out
                failed_the_same_way(login(attacker, "2026-F020", next(guesses)))
    with runtime.sessions() as session:
        untrusted = session.get_one(PinAttempts, (f"resident:{resident_id}", "untrusted"))
        assert untrusted.locked_until is not None
    # A new client, even with the right PIN, is refused for now; so is one with a token of another
    # resident's device, or a made-up one.
    with from_address(runtime, "192.0.2.50") as newcomer:
        failed_the_same_way(login(newcomer, "2026-F020", PIN))
        failed_the_same_way(login(newcomer, "2026-F020", PIN, device_token=other_residents_device))
        failed_the_same_way(login(newcomer, "2026-F020", PIN, device_token=device.split(".")[0] + ".forged"))
    # The resident's own device signs in, from wherever it is now.
    with from_address(runtime, "192.0.2.51") as phone_elsewhere:
        again = login(phone_elsewhere, "2026-F020", PIN, device_token=device)
        assert again.status_code == 200, again.text
        assert again.json()["device_token"] == device


def test_each_lock_out_in_a_row_lasts_twice_as_long(runtime):
    resident_id, _ = admit(runtime, "2026-F030")
    with from_address(runtime, "203.0.113.9") as attacker:
        for n in range(MAX_PIN_FAILURES):
            login(attacker, "2026-F030", WRONG[n])
        with transaction(runtime.sessions) as session:
            row = session.get_one(PinAttempts, (f"resident:{resident_id}", "address:203.0.113.9"))
            first = row.locked_until - row.updated_at
            row.locked_until = utcnow() - timedelta(seconds=1)  # the first lock-out ran out
        for n in range(MAX_PIN_FAILURES):
            failed_the_same_way(login(attacker, "2026-F030", WRONG[10 + n]))
    with runtime.sessions() as session:
        row = session.get_one(PinAttempts, (f"resident:{resident_id}", "address:203.0.113.9"))
        assert (first, row.locked_until - row.updated_at, row.locks) == (PIN_LOCK, 2 * PIN_LOCK, 2)


def test_a_right_pin_resets_its_clients_count(runtime):
    resident_id, _ = admit(runtime, "2026-F031")
    with from_address(runtime, "198.51.100.31") as phone:
        for n in range(MAX_PIN_FAILURES - 1):
            failed_the_same_way(login(phone, "2026-F031", WRONG[n]))
        assert login(phone, "2026-F031", PIN).status_code == 200
        failed_the_same_way(login(phone, "2026-F031", WRONG[9]))
    with runtime.sessions() as session:
        rows = {r.client: r.failures for r in session.scalars(select(PinAttempts))}
    # The address starts again; the untrusted count keeps the wrong ones (not the right one).
    assert rows == {"address:198.51.100.31": 1, "untrusted": MAX_PIN_FAILURES}


# --------------------------------------------------------------------------------------------------
# 14. Bodies refused before they are read
# --------------------------------------------------------------------------------------------------


# What the server takes from the socket at once (asyncio's transports read up to 256 KiB): a body is cut off
# within one such read past its limit.
ONE_READ = 256 * 1024


class BodyBytes:
    """A test hook around the app: how many body bytes the service has taken in."""

    def __init__(self, app):
        self.app, self.read = app, 0

    async def __call__(self, scope, receive, send):
        async def counted():
            message = await receive()
            if message["type"] == "http.request":
                self.read += len(message.get("body", b""))
            return message

        await self.app(scope, counted, send)


def raw(base: str, head: str, body: bytes = b"", chunked: bytes | None = None) -> tuple[int, dict, dict]:
    """Sends a request by hand (a declared length the body never reaches, or a chunked body sent in the
    background) and reads the answer: (status, headers, JSON body)."""
    parts = urlsplit(base)
    with socket.create_connection((parts.hostname, parts.port), timeout=60) as connection:
        connection.sendall(head.encode() + b"\r\n" + body)

        def send_chunks() -> None:
            try:
                for start in range(0, len(chunked or b""), 65536):
                    piece = chunked[start : start + 65536]
                    connection.sendall(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                connection.sendall(b"0\r\n\r\n")
            except OSError:
                pass  # the service answered and closed: it stopped reading

        sender = threading.Thread(target=send_chunks, daemon=True)
        if chunked is not None:
            sender.start()
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += connection.recv(65536)
        header_block, _, rest = answer.partition(b"\r\n\r\n")
        lines = header_block.decode().split("\r\n")
        headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        length = int(headers.get("content-length", 0))
        while len(rest) < length:
            rest += connection.recv(65536)
    import json

    return int(lines[0].split()[1]), headers, json.loads(rest[:length] or b"{}")


def request_head(method: str, path: str, headers: dict[str, str]) -> str:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"] + [f"{k}: {v}" for k, v in headers.items()]
    return "\r\n".join(lines) + "\r\n"


def test_a_json_body_over_the_limit_is_refused_before_a_byte_of_it_is_read(runtime):
    hook: list[BodyBytes] = []
    with served(runtime, wrap=lambda app: hook.append(BodyBytes(app)) or hook[0]) as base:
        head = request_head(
            "POST",
            "/auth/login",
            {"Content-Type": "application/json", "Content-Length": str(200 * 1024 * 1024)},
        )
        status, headers, body = raw(base, head)
        assert (status, body["code"], body["details"]["limit_bytes"]) == (
            413,
            "body_too_large",
            JSON_BODY_LIMIT,
        )
        assert headers["content-type"].startswith("application/problem+json") and "1 MB" in body["detail"]
        assert hook[0].read == 0
        # Without a length, the service reads up to the limit and stops.
        head = request_head(
            "POST", "/auth/login", {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}
        )
        status, _headers, body = raw(base, head, chunked=b"[" + b"1," * (3 * 1024 * 1024))
        assert (status, body["code"]) == (413, "body_too_large")
        assert JSON_BODY_LIMIT < hook[0].read <= JSON_BODY_LIMIT + ONE_READ


def test_a_batch_over_the_json_limit_is_read_only_for_a_valid_token(runtime, auth):
    hook: list[BodyBytes] = []
    with served(runtime, wrap=lambda app: hook.append(BodyBytes(app)) or hook[0]) as base:
        head = request_head(
            "POST",
            "/municipality/residents/batch",
            {"Content-Type": "application/json", "Content-Length": str(5 * 1024 * 1024)},
        )
        status, _headers, body = raw(base, head)
        assert (status, body["code"], hook[0].read) == (401, "token_missing", 0)
        status, _headers, body = raw(
            base,
            request_head(
                "POST", "/municipality/residents/batch", {"Content-Length": str(BATCH_BODY_LIMIT + 1)}
            ),
        )
        assert (status, body["details"]["limit_bytes"], hook[0].read) == (413, BATCH_BODY_LIMIT, 0)
        # With an admin's token, a dry run of 10,000 rows (over 1 MB) is read and checked.
        rows = [
            {"line": n + 2, "name": f"Inwoner met een lange naam {n}", "case_number": f"2026-B{n:05d}",
             "area": "BU02020101", "email": f"inwoner.{n}@voorbeeld.nl"}
            for n in range(10_000)
        ]  # fmt: skip
        answer = httpx.post(
            f"{base}/municipality/residents/batch",
            headers=auth(Role.ADMIN),
            json={"dry_run": True, "rows": rows},
            timeout=120,
        )
        assert answer.status_code == 200, answer.text[:500]
        assert hook[0].read > JSON_BODY_LIMIT


def test_an_evidence_upload_is_read_only_after_the_token_and_only_up_to_its_limit(runtime, auth):
    resident_id, _ = admit(runtime, "2026-F050")
    hook: list[BodyBytes] = []
    path = "/residents/me/tasks/1/finish"
    form = {"Content-Type": "multipart/form-data; boundary=x"}
    with served(runtime, wrap=lambda app: hook.append(BodyBytes(app)) or hook[0]) as base:
        status, _h, body = raw(
            base, request_head("POST", path, {**form, "Content-Length": str(300 * 1024 * 1024)})
        )
        assert (status, body["code"], body["details"]["limit_bytes"]) == (
            413,
            "body_too_large",
            EVIDENCE_BODY_LIMIT,
        )
        status, _h, body = raw(
            base, request_head("POST", path, {**form, "Content-Length": str(5 * 1024 * 1024)})
        )
        assert (status, body["code"]) == (401, "token_missing")
        assert hook[0].read == 0
        # Signed in, a form streamed past the limit is cut off there.
        token = auth(Role.RESIDENT, resident_id)["Authorization"]
        part = b'--x\r\nContent-Disposition: form-data; name="evidence"; filename="a.jpg"\r\n\r\n\xff\xd8\xff'
        head = request_head("POST", path, {**form, "Transfer-Encoding": "chunked", "Authorization": token})
        status, _h, body = raw(base, head, chunked=part + b"\0" * (EVIDENCE_BODY_LIMIT + 1024 * 1024))
        assert (status, body["code"]) == (413, "body_too_large")
        assert hook[0].read <= EVIDENCE_BODY_LIMIT + ONE_READ
    assert not [p for p in runtime.settings.evidence_dir.rglob("*") if p.is_file()]


# --------------------------------------------------------------------------------------------------
# 14. Rate limits per client address and per account
# --------------------------------------------------------------------------------------------------


def test_sign_ins_over_the_limit_of_an_address_get_429_with_retry_after(runtime):
    runtime.settings.login_limit_per_client = "3/hour"
    admit(runtime, "2026-F060")
    with from_address(runtime, "203.0.113.60") as busy, from_address(runtime, "198.51.100.60") as other:
        for n in range(3):
            failed_the_same_way(login(busy, "2026-F060", WRONG[n]))
        over = login(busy, "2026-F060", PIN)
        assert over.status_code == 429 and over.json()["code"] == "too_many_requests", over.text
        assert 3000 < int(over.headers["Retry-After"]) <= 3600
        over = busy.post(
            "/auth/activate", json={"case_number": "2026-F060", "activation_code": "x", "pin": NEW_PIN}
        )
        assert over.status_code == 429  # activation counts with the sign-ins
        assert login(other, "2026-F060", PIN).status_code == 200


def test_a_rate_limit_holds_for_requests_sent_at_once(runtime):
    runtime.settings.login_limit_per_client = "5/hour"
    with served(runtime) as base:
        answers = at_once(
            12,
            lambda client, n: client.post(
                f"{base}/auth/login", json={"case_number": f"2026-Z{n}", "pin": PIN}
            ),
        )
    assert Counter(a.status_code for a in answers) == {401: 5, 429: 7}


def test_spends_over_the_limit_of_a_holder_or_an_address_get_429(runtime, auth):
    runtime.settings.spend_limit_per_holder = "2/hour"
    runtime.settings.spend_limit_per_client = "4/hour"
    first, _ = admit(runtime, "2026-F070")
    second, _ = admit(runtime, "2026-F071")
    payment = {"merchant_id": 1, "coin": "GKW", "amount_cents": 100, "pin": PIN}
    with from_address(runtime, "203.0.113.70") as client:
        pay = lambda resident_id: client.post(  # noqa: E731
            "/residents/me/payments", headers={**auth(Role.RESIDENT, resident_id), **key()}, json=payment
        )
        assert [pay(first).status_code != 429 for _ in range(2)] == [True, True]
        over = pay(first)
        assert (
            over.status_code == 429
            and over.json()["code"] == "too_many_requests"
            and over.headers["Retry-After"]
        )
        assert pay(second).status_code != 429  # another holder; the address's fourth (refused ones count)
        assert pay(second).status_code == 429  # the address's fifth


def test_x_forwarded_for_names_the_client_only_behind_a_trusted_proxy(runtime):
    runtime.settings.login_limit_per_client = "1/hour"
    with from_address(runtime, "10.0.0.1") as client:  # no proxy trusted: the header is ignored
        failed_the_same_way(
            client.post(
                "/auth/login", json={"case_number": "a", "pin": PIN}, headers={"X-Forwarded-For": "1.1.1.1"}
            )
        )
        assert (
            client.post(
                "/auth/login", json={"case_number": "a", "pin": PIN}, headers={"X-Forwarded-For": "2.2.2.2"}
            ).status_code
            == 429
        )
    runtime.settings.trusted_proxies = "10.0.0.1"
    with from_address(runtime, "10.0.0.1") as proxy:
        failed_the_same_way(
            proxy.post(
                "/auth/login", json={"case_number": "a", "pin": PIN}, headers={"X-Forwarded-For": "3.3.3.3"}
            )
        )
        failed_the_same_way(
            proxy.post(
                "/auth/login", json={"case_number": "a", "pin": PIN}, headers={"X-Forwarded-For": "4.4.4.4"}
            )
        )


# --------------------------------------------------------------------------------------------------
# 14. Key derivations: bounded, and reads stay answered
# --------------------------------------------------------------------------------------------------


def test_when_key_derivations_are_all_taken_a_sign_in_is_refused_503_before_it_is_counted(client, runtime):
    admit(runtime, "2026-F080")
    derivations()
    release, holding = threading.Event(), threading.Semaphore(0)

    def hold() -> None:
        with KEY_DERIVATIONS.ticket():
            holding.release()
            release.wait(30)

    holders = [threading.Thread(target=hold) for _ in range(wallets.KDF_SLOTS + wallets.KDF_QUEUE)]
    for holder in holders:
        holder.start()
    for _ in holders:
        holding.acquire()
    try:
        for case in ("2026-F080", "2026-NOPE"):  # known or not: the same answer
            busy = login(client, case, WRONG[0])
            assert busy.status_code == 503 and busy.json()["code"] == "service_busy", busy.text
            assert busy.headers["Retry-After"] == "1"
    finally:
        release.set()
        for holder in holders:
            holder.join()
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(PinAttempts)) == 0
    assert login(client, "2026-F080", PIN).status_code == 200


def test_a_flood_of_sign_ins_from_many_addresses_leaves_reads_answered(runtime, auth):
    for n in range(10):
        admit(runtime, f"2026-G{n:03d}")
    resident = auth(Role.RESIDENT, 1)
    KEY_DERIVATIONS.most_running = 0
    flood, reads = 40, 20

    def request(client: httpx.Client, n: int) -> httpx.Response:
        if n < flood:
            return client.post("/auth/login", json={"case_number": f"2026-G{n % 10:03d}", "pin": WRONG[n]})
        return client.get("/residents/me/balances", headers=resident)

    with served(runtime) as base:
        barrier, answers = threading.Barrier(flood + reads), [None] * (flood + reads)

        def send(n: int) -> None:
            address = f"127.0.0.{2 + n % 30}" if n < flood else "127.0.0.1"
            transport = httpx.HTTPTransport(local_address=address)
            with httpx.Client(base_url=base, transport=transport, timeout=60) as client:
                barrier.wait()
                answers[n] = request(client, n)

        threads = [threading.Thread(target=send, args=(n,)) for n in range(flood + reads)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    flooded = Counter(a.status_code for a in answers[:flood])
    assert set(flooded) <= {401, 429, 503}, flooded
    assert Counter(a.status_code for a in answers[flood:]) == {200: reads}
    assert KEY_DERIVATIONS.most_running <= wallets.KDF_SLOTS


# --------------------------------------------------------------------------------------------------
# Settings and housekeeping
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [("login_limit_per_client", "twenty a minute"), ("spend_limit_per_holder", "5/fortnight"),
     ("trusted_proxies", "10.0.0.1, not-an-address")],
)  # fmt: skip
def test_a_throttle_setting_that_does_not_parse_is_refused_at_start_up_naming_the_variable(name, value):
    with pytest.raises(SettingsError, match=f"SOCIALCOIN_{name.upper()}"):
        Settings.from_env({"SOCIALCOIN_ENVIRONMENT": "test", f"SOCIALCOIN_{name.upper()}": value})


def test_housekeeping_forgets_old_counts_and_ended_windows_but_keeps_a_lock_out(runtime):
    now, old = utcnow(), utcnow() - timedelta(days=2)
    row = lambda client, **more: PinAttempts(holder="resident:1", client=client, locks=0, **more)  # noqa: E731
    with transaction(runtime.sessions) as session:
        session.add_all(
            [
                row("address:a", failures=3, updated_at=old),
                row("address:b", failures=3, updated_at=now),
                row("untrusted", failures=10, updated_at=old, locked_until=now + timedelta(hours=1)),
                RateLimitCounter(key="ended", hits=5, expires_at=time.time() - 1),
                RateLimitCounter(key="running", hits=5, expires_at=time.time() + 60),
            ]
        )
    assert pin_attempts.housekeeping(runtime.sessions) == 0  # its loop pauses until the next time
    with runtime.sessions() as session:
        assert set(session.scalars(select(PinAttempts.client))) == {"address:b", "untrusted"}
        assert set(session.scalars(select(RateLimitCounter.key))) == {"running"}
