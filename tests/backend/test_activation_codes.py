"""Activation codes: shown once, to the admin who admitted the resident; a re-run of the batch says a code
was issued before, never what it was. Another code is an explicit reissue that replaces the old one (which
stops working at once), and every issue is on record with the token that made it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from alembic import command
from eth_account import Account
from fastapi.testclient import TestClient
from sqlalchemy import column, event, select, table

from serving import at_once, served
from socialcoin.api.app import create_app
from socialcoin.bootstrap import bootstrap
from socialcoin.db.base import make_engine, make_sessions, transaction
from socialcoin.db.migrate import alembic_config
from socialcoin.db.models import ActivationCode, Resident
from socialcoin.db.types import UtcDateTime, utcnow
from socialcoin.domain import activation_codes
from socialcoin.domain.access import Role, issue_token
from socialcoin.domain.wallets import create_wallet_awaiting_activation
from socialcoin.settings import Settings
from test_batch_admission import activate, admitted, post, row
from test_payments import PIN, admit

BATCH = "/municipality/residents/batch"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def admin(auth) -> dict[str, str]:
    return auth(Role.ADMIN)


def colleague(client, admin, label: str) -> dict:
    """Another municipal admin's token: {id, token, label}."""
    answer = client.post(
        "/municipality/tokens", headers=admin, json={"role": "municipality_admin", "label": label}
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def reissue(client, headers, resident_id: int):
    return client.post(f"/municipality/residents/{resident_id}/activation-code", headers=headers)


def history(client, headers, resident_id: int) -> list[dict]:
    answer = client.get(f"/municipality/residents/{resident_id}/activation-codes", headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


def acknowledge(client, headers, *code_ids: int) -> int:
    answer = client.post(
        "/municipality/residents/activation-codes/acknowledge",
        headers=headers,
        json={"activation_code_ids": list(code_ids)},
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["acknowledged"]


def test_a_code_is_shown_once_and_a_rerun_by_any_admin_only_says_it_was_issued(client, admin):
    first = admitted(client, admin, [row(2, "AC-0001"), row(3, "AC-0002", wallet_address=None)])
    assert [r["activation"] for r in first] == ["code_issued", "code_issued"]
    assert all(r["activation_code"] and r["activation_code_id"] for r in first)

    other = colleague(client, admin, "P. de Vries, burgerzaken")
    for headers in (admin, bearer(other["token"])):
        again = admitted(client, headers, [row(2, "AC-0001"), row(3, "AC-0002")])
        assert [(r["status"], r["activation_code"], r["activation_code_id"]) for r in again] == [
            ("exists", None, None),
            ("exists", None, None),
        ]
        # Never written down by who received it (no acknowledgement yet): the CLI reissues such codes.
        assert [r["activation"] for r in again] == ["unacknowledged", "unacknowledged"]
    dry = post(client, bearer(other["token"]), [row(2, "AC-0001")], dry_run=True).json()["results"]
    assert (dry[0]["activation_code"], dry[0]["activation"]) == (None, "unacknowledged")

    assert acknowledge(client, bearer(other["token"]), first[0]["activation_code_id"]) == 0  # not theirs
    assert acknowledge(client, admin, *(r["activation_code_id"] for r in first)) == 2
    assert acknowledge(client, admin, first[0]["activation_code_id"]) == 0  # once
    again = admitted(client, bearer(other["token"]), [row(2, "AC-0001"), row(3, "AC-0002")])
    assert [(r["activation"], r["activation_code"]) for r in again] == [("issued_before", None)] * 2

    # The code from the first answer is the one that works.
    done = activate(client, "AC-0001", first[0]["activation_code"])
    assert done.status_code == 200, done.text
    after = admitted(client, admin, [row(2, "AC-0001")])
    assert (after[0]["activation"], after[0]["activation_code"]) == ("activated", None)


def test_a_resident_with_an_own_wallet_has_no_activation(client, admin):
    (own,) = admitted(client, admin, [row(2, "AC-0101", wallet_address=Account.create().address)])
    assert (own["activation"], own["activation_code"], own["activation_code_id"]) == (None, None, None)
    assert history(client, admin, own["resident_id"]) == []


def test_a_reissued_code_replaces_the_old_one_and_every_issue_names_its_token(client, runtime, admin):
    (first,) = admitted(client, admin, [row(2, "AC-0201")])
    resident_id = first["resident_id"]
    desk = colleague(client, admin, "J. Jansen, balie")
    answer = reissue(client, bearer(desk["token"]), resident_id)
    assert answer.status_code == 201, answer.text
    second = answer.json()
    assert (second["resident_id"], second["case_number"], second["reason"]) == (
        resident_id,
        "AC-0201",
        "reissue",
    )
    assert second["activation_code"] != first["activation_code"]

    old = activate(client, "AC-0201", first["activation_code"])
    assert old.status_code == 401 and old.json()["code"] == "activation_failed"  # the old letter is void

    issues = history(client, admin, resident_id)
    assert [(i["id"], i["reason"], i["status"], i["issued_by"]["label"]) for i in issues] == [
        (first["activation_code_id"], "admission", "replaced", "test"),
        (second["activation_code_id"], "reissue", "current", "J. Jansen, balie"),
    ]
    assert issues[1]["issued_by"]["token_id"] == desk["id"]
    assert issues[1]["issued_by"]["role"] == "municipality_admin"
    assert issues[0]["replaced_at"] == issues[1]["issued_at"]
    assert all("activation_code" not in issue and "code_hash" not in issue for issue in issues)

    done = activate(client, "AC-0201", second["activation_code"])
    assert done.status_code == 200, done.text
    assert history(client, admin, resident_id)[1]["status"] == "used"
    late = reissue(client, bearer(desk["token"]), resident_id)
    assert late.status_code == 409 and late.json()["code"] == "already_activated"
    assert len(history(client, admin, resident_id)) == 2  # a refusal records nothing


def test_only_a_resident_awaiting_activation_gets_a_code_and_only_from_an_admin(client, runtime, admin, auth):
    with_pin, _ = admit(runtime, "AC-0301")  # chose a PIN at admission: no code, ever
    refused = reissue(client, admin, with_pin)
    assert refused.status_code == 409 and refused.json()["code"] == "not_awaiting_activation"
    assert refused.json()["detail"] != refused.json()["detail_en"]
    missing = reissue(client, admin, 999_999)
    assert missing.status_code == 404 and missing.json()["code"] == "resident_not_found"
    (pending,) = admitted(client, admin, [row(2, "AC-0302")])
    for role in (Role.DEBT_COUNSELLOR, Role.RESIDENT):
        headers = auth(role, pending["resident_id"] if role == Role.RESIDENT else None)
        assert reissue(client, headers, pending["resident_id"]).status_code == 403
        assert (
            client.get(
                f"/municipality/residents/{pending['resident_id']}/activation-codes", headers=headers
            ).status_code
            == 403
        )
    assert len(history(client, admin, pending["resident_id"])) == 1


def test_codes_are_stored_only_as_a_keyed_hash(client, runtime, admin):
    (first,) = admitted(client, admin, [row(2, "AC-0401")])
    with runtime.sessions() as session:
        stored = session.get(ActivationCode, first["activation_code_id"])
    plain = first["activation_code"].replace("-", "")
    assert (
        stored.code_hash
        and plain not in stored.code_hash
        and first["activation_code"] not in stored.code_hash
    )
    assert stored.code_hash == activation_codes.code_hash(
        runtime.settings.secret_key.get_secret_value(), plain
    )


# --------------------------------------------------------------------------------------------------
# At the same moment
# --------------------------------------------------------------------------------------------------


def test_reissues_at_once_leave_exactly_one_code_that_works_and_record_each(client, runtime, admin):
    (first,) = admitted(client, admin, [row(2, "AC-0501")])
    resident_id, parallel = first["resident_id"], 6
    with served(runtime) as base:
        answers = at_once(
            parallel,
            lambda http, _: http.post(
                f"{base}/municipality/residents/{resident_id}/activation-code", headers=admin
            ),
        )
    assert [a.status_code for a in answers] == [201] * parallel, [a.text for a in answers]
    secret = runtime.settings.secret_key.get_secret_value()
    with runtime.sessions() as session:
        rows = session.scalars(select(ActivationCode).where(ActivationCode.resident_id == resident_id)).all()
    current = [r for r in rows if r.replaced_at is None]
    assert len(rows) == parallel + 1 and len(current) == 1
    given = [first["activation_code"]] + [a.json()["activation_code"] for a in answers]
    working = [code for code in given if activation_codes.code_hash(secret, code) == current[0].code_hash]
    assert len(working) == 1


def test_an_old_code_used_at_the_moment_of_a_reissue_never_activates_after_it(client, runtime, admin):
    """Whatever the order: either the activation came first (then the reissue is refused), or the reissue
    did (then the old code is refused). Never both."""
    with served(runtime) as base:
        for attempt in range(3):
            case_number = f"AC-06{attempt:02d}"
            (first,) = admitted(client, admin, [row(2, case_number)])
            activation = {"case_number": case_number, "activation_code": first["activation_code"], "pin": PIN}
            requests = [
                ("/auth/activate", {"json": activation}),
                (f"/municipality/residents/{first['resident_id']}/activation-code", {"headers": admin}),
            ]
            activated, reissued = at_once(
                2, lambda http, n, requests=requests: http.post(base + requests[n][0], **requests[n][1])
            )
            assert (activated.status_code, reissued.status_code) in {(200, 409), (401, 201)}, (
                activated.text,
                reissued.text,
            )


def test_a_reissue_that_commits_between_the_code_check_and_the_activation_wins(client, runtime, admin):
    """Deterministic: the activation has checked the old code when the reissue commits; its own write
    comes after, and must find the code replaced."""
    (first,) = admitted(client, admin, [row(2, "AC-0701")])
    checked, done = threading.Event(), threading.Event()
    answers: dict = {}

    def on_check(_conn, _cursor, statement, *_args):
        # The activation reads the resident's current code (a reissue only locks, updates and inserts).
        if statement.startswith("SELECT") and "FROM activation_codes" in statement and not checked.is_set():
            checked.set()
            assert done.wait(60), "the reissue never finished"

    event.listen(runtime.engine, "after_cursor_execute", on_check)
    try:
        with served(runtime) as base:

            def reissue_when_checked() -> None:
                assert checked.wait(60)
                with httpx.Client(base_url=base, timeout=60) as http:
                    answers["reissue"] = http.post(
                        f"/municipality/residents/{first['resident_id']}/activation-code", headers=admin
                    )
                done.set()

            reissuer = threading.Thread(target=reissue_when_checked)
            reissuer.start()
            with httpx.Client(base_url=base, timeout=60) as http:
                answers["activate"] = http.post(
                    "/auth/activate",
                    json={"case_number": "AC-0701", "activation_code": first["activation_code"], "pin": PIN},
                )
            reissuer.join(timeout=60)
    finally:
        event.remove(runtime.engine, "after_cursor_execute", on_check)
    assert answers["reissue"].status_code == 201, answers["reissue"].text
    assert answers["activate"].status_code == 401, answers["activate"].text
    assert answers["activate"].json()["code"] == "activation_failed"


# --------------------------------------------------------------------------------------------------
# Residents admitted before codes were recorded (migration 0003)
# --------------------------------------------------------------------------------------------------


@dataclass
class FromBefore:
    """A resident admitted in a batch before migration 0003, still waiting, with the letter's code."""

    client: TestClient
    admin: dict[str, str]
    resident_id: int
    case_number: str
    letter: str


@pytest.fixture
def from_before(chain, database_url, tmp_path) -> Iterator[FromBefore]:
    """A database at revision 0003 with a resident awaiting activation (the code on the letter derived from
    the service's secret, as then), brought to the newest schema by the service's start-up."""
    settings = Settings(
        environment="test",
        database_url=database_url,
        rpc_url=chain.url,
        deployment_file=chain.deployment_file,
        evidence_dir=tmp_path / "evidence",
    )
    secret = settings.secret_key.get_secret_value()
    command.upgrade(alembic_config(database_url), "0003_tokens_by_issuer")
    address, sealed = create_wallet_awaiting_activation(secret)
    # Written as the schema of then has it (not through today's model, which may have other columns).
    texts = (
        "name",
        "case_number",
        "area",
        "wallet_address",
        "wallet_custody",
        "record_hash",
        "registration_key",
    )
    residents = table(
        "residents",
        *(column(name) for name in (*texts, "wallet_ciphertext", "activation_pending")),
        *(column(name, UtcDateTime) for name in ("consent_at", "created_at", "updated_at")),
    )
    now = utcnow()
    engine = make_engine(database_url)
    with transaction(make_sessions(engine)) as session:
        session.execute(
            residents.insert().values(
                name="Inwoner van toen",
                case_number="OLD-0001",
                area="BU02020101",
                wallet_address=address,
                wallet_custody="custodial",
                wallet_ciphertext=sealed,
                activation_pending=True,
                record_hash="0x" + "00" * 32,
                consent_at=now,
                created_at=now,
                updated_at=now,
                registration_key="registration-before-0003",
            )
        )
        resident_id = session.scalar(select(Resident.id).where(Resident.case_number == "OLD-0001"))
    engine.dispose()

    runtime = bootstrap(settings)  # migrates to the newest schema
    try:
        with transaction(runtime.sessions) as session:
            _row, token = issue_token(session, Role.ADMIN, None, ttl_seconds=3600, label="test")
        with TestClient(create_app(runtime=runtime, run_workers=False)) as client:
            letter = activation_codes.derived_code(secret, resident_id, address)
            yield FromBefore(client, bearer(token), resident_id, "OLD-0001", letter)
    finally:
        runtime.close()


def test_a_letter_sent_before_the_code_records_activates_and_is_on_record(from_before):
    client, admin, resident_id = from_before.client, from_before.admin, from_before.resident_id
    (before,) = history(client, admin, resident_id)
    assert (before["reason"], before["status"], before["issued_by"]) == ("admission", "current", None)
    assert before["acknowledged_at"] is not None  # its letter was written then: no automatic reissue
    same = row(2, from_before.case_number, name="Inwoner van toen", email=None, phone=None)
    again = admitted(client, admin, [same])
    assert (again[0]["activation"], again[0]["activation_code"]) == ("issued_before", None)

    assert activate(client, from_before.case_number, "AAAA-BBBB-CCCC").json()["code"] == "activation_failed"
    assert activate(client, from_before.case_number, from_before.letter).status_code == 200
    assert history(client, admin, resident_id)[0]["status"] == "used"


def test_a_reissue_replaces_a_letter_sent_before_the_code_records(from_before):
    client, admin = from_before.client, from_before.admin
    new = reissue(client, admin, from_before.resident_id).json()["activation_code"]
    refused = activate(client, from_before.case_number, from_before.letter)
    assert refused.json()["code"] == "activation_failed"
    assert activate(client, from_before.case_number, new).status_code == 200
