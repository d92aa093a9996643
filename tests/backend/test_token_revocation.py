"""Revoking a token revokes every token it issued, directly or further down, in one transaction: a stolen
admin token's 90-day offspring stop working with it. A token being issued by one of them at that moment
is refused (the issuer is checked under a lock on its row, in the transaction that stores the new token),
on SQLite and PostgreSQL. Tokens from a login are issued by nobody and stay as they are."""

from __future__ import annotations

import threading
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import event, select, update

from serving import at_once, served
from socialcoin.db.base import transaction
from socialcoin.db.models import ApiToken
from socialcoin.db.types import utcnow
from socialcoin.domain.access import Role
from test_payments import PIN, admit

NINETY_DAYS = 90 * 24 * 3600


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def issue(client, headers: dict[str, str], role: str = "municipality_admin", **body) -> dict:
    body = {"role": role, "label": "test", **body}
    answer = client.post("/municipality/tokens", headers=headers, json=body)
    assert answer.status_code == 201, answer.text
    return answer.json()


def works(client, token: str) -> bool:
    answer = client.get("/auth/me", headers=bearer(token))
    assert answer.status_code in (200, 401), answer.text
    return answer.status_code == 200


def revoke(client, headers: dict[str, str], token_id: int) -> dict:
    answer = client.post(f"/municipality/tokens/{token_id}/revoke", headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.fixture
def admin(auth) -> dict[str, str]:
    return auth(Role.ADMIN)


def test_revoking_a_stolen_token_revokes_every_token_it_issued_down_the_chain(client, runtime, admin):
    resident_id, _ = admit(runtime, "2026-T001")
    stolen = issue(client, admin, ttl_seconds=3600)
    # What the thief made with it: a 90-day admin token, and with that one a counsellor and a resident token.
    long_lived = issue(client, bearer(stolen["token"]), ttl_seconds=NINETY_DAYS)
    counsellor = issue(client, bearer(long_lived["token"]), role="debt_counsellor")
    resident = issue(client, bearer(long_lived["token"]), role="resident", subject_id=resident_id)
    # What others made, which stays: a colleague's token, and the resident's own session from a login.
    colleague = issue(client, admin)
    login = client.post("/auth/login", json={"case_number": "2026-T001", "pin": PIN})
    assert login.status_code == 200, login.text
    assert all(works(client, t["token"]) for t in (stolen, long_lived, counsellor, resident))

    answer = revoke(client, admin, stolen["id"])
    assert (answer["status"], answer["revoked_count"]) == ("revoked", 4)
    assert not any(works(client, t["token"]) for t in (stolen, long_lived, counsellor, resident))
    assert works(client, colleague["token"]) and works(client, login.json()["token"])
    assert client.get("/municipality/residents", headers=admin).status_code == 200  # the revoker's own

    listed = client.get("/municipality/tokens", params={"issued_by": long_lived["id"]}, headers=admin).json()
    assert sorted((t["id"], t["status"]) for t in listed) == [
        (counsellor["id"], "revoked"),
        (resident["id"], "revoked"),
    ]
    again = revoke(client, admin, stolen["id"])
    assert (again["revoked_count"], again["revoked_at"]) == (0, answer["revoked_at"])


def test_revoking_a_token_in_the_middle_leaves_the_tokens_above_and_beside_it(client, admin):
    parent = issue(client, admin)
    middle, sibling = issue(client, bearer(parent["token"])), issue(client, bearer(parent["token"]))
    child = issue(client, bearer(middle["token"]), role="debt_counsellor")
    assert revoke(client, admin, middle["id"])["revoked_count"] == 2
    assert not works(client, middle["token"]) and not works(client, child["token"])
    assert works(client, parent["token"]) and works(client, sibling["token"])


def test_a_signed_out_or_expired_token_is_revoked_with_everything_it_issued(client, runtime, admin):
    """Signing out ends that one session only (what an admin issued with it stays); expiry likewise. Revoking
    such a token afterwards still reaches what it issued, which may be working for months."""
    signed_out, expired = issue(client, admin), issue(client, admin)
    issued_by = {
        parent["id"]: issue(client, bearer(parent["token"]), ttl_seconds=NINETY_DAYS)
        for parent in (signed_out, expired)
    }
    assert client.post("/auth/logout", headers=bearer(signed_out["token"])).status_code == 204
    with transaction(runtime.sessions) as session:
        session.execute(
            update(ApiToken).where(ApiToken.id == expired["id"]).values(expires_at=utcnow() - timedelta(1))
        )
    assert not works(client, signed_out["token"]) and not works(client, expired["token"])
    assert all(works(client, child["token"]) for child in issued_by.values())

    assert revoke(client, admin, signed_out["id"])["revoked_count"] == 1  # signed out already: its child
    assert revoke(client, admin, expired["id"])["revoked_count"] == 2  # the expired one is marked too
    assert not any(works(client, child["token"]) for child in issued_by.values())


def test_a_revoked_or_expired_token_issues_nothing(client, runtime, admin):
    issuer = issue(client, admin)
    revoke(client, admin, issuer["id"])
    body = {"role": "debt_counsellor", "label": "x"}
    answer = client.post("/municipality/tokens", headers=bearer(issuer["token"]), json=body)
    assert answer.status_code == 401 and answer.json()["code"] == "token_invalid"
    with runtime.sessions() as session:
        assert session.scalars(select(ApiToken).where(ApiToken.issued_by == issuer["id"])).all() == []


# --------------------------------------------------------------------------------------------------
# At the same moment: a token issued while its issuer (or one above it) is being revoked
# --------------------------------------------------------------------------------------------------

REVOKING = "UPDATE api_tokens SET revoked_at"
AUTHENTICATING = "WHERE api_tokens.token_hash"


@pytest.mark.parametrize("depth", [1, 2], ids=["issuer revoked", "issuer's issuer revoked"])
def test_a_token_issued_while_its_issuer_is_being_revoked_does_not_survive(client, runtime, admin, depth):
    """The revocation has written but not committed when the issuing request authenticates (and finds its
    token valid); only then does the revocation commit. The issuing request's write comes after it, and
    must see the revocation: a token it stored anyway would outlive the stolen one."""
    top = issue(client, admin)
    issuer = top if depth == 1 else issue(client, bearer(top["token"]))
    written, looked = threading.Event(), threading.Event()
    revoking: list = []

    def watch(conn, _cursor, statement, *_args):
        if statement.startswith(REVOKING) and not revoking:
            revoking.append(conn)
            written.set()
        elif AUTHENTICATING in statement and written.is_set() and conn is not revoking[0]:
            looked.set()  # (after it ran) the issuing request found its token valid: uncommitted revocation

    def hold(conn):
        if revoking and conn is revoking[0]:
            assert looked.wait(60), "the issuing request never authenticated"

    event.listen(runtime.engine, "after_cursor_execute", watch)
    event.listen(runtime.engine, "commit", hold)
    try:
        with served(runtime) as base:
            answers: dict[str, httpx.Response] = {}

            def revoke_top() -> None:
                with httpx.Client(base_url=base, timeout=120) as http:
                    answers["revoke"] = http.post(f"/municipality/tokens/{top['id']}/revoke", headers=admin)

            revoker = threading.Thread(target=revoke_top)
            revoker.start()
            assert written.wait(60), "the revocation never wrote"
            with httpx.Client(base_url=base, timeout=120) as http:
                answers["issue"] = http.post(
                    "/municipality/tokens",
                    headers=bearer(issuer["token"]),
                    json={"role": "municipality_admin", "label": "made during the revocation"},
                )
            revoker.join(timeout=120)
    finally:
        event.remove(runtime.engine, "after_cursor_execute", watch)
        event.remove(runtime.engine, "commit", hold)

    assert answers["revoke"].status_code == 200, answers["revoke"].text
    with runtime.sessions() as session:
        made = session.scalars(select(ApiToken).where(ApiToken.issued_by == issuer["id"])).all()
    assert [token.id for token in made if token.revoked_at is None] == []
    issued = answers["issue"]
    assert issued.status_code == 401 and issued.json()["code"] == "token_invalid", issued.text
    assert answers["revoke"].json()["revoked_count"] == depth


def test_tokens_issued_at_the_moment_of_the_revocation_are_refused_or_revoked(client, runtime, admin):
    issuer = issue(client, admin)
    parallel = 8

    def request(http: httpx.Client, index: int) -> httpx.Response:
        if index == 0:
            return http.post(f"{base}/municipality/tokens/{issuer['id']}/revoke", headers=admin)
        return http.post(
            f"{base}/municipality/tokens",
            headers=bearer(issuer["token"]),
            json={"role": "debt_counsellor", "label": f"at once {index}"},
        )

    with served(runtime) as base:
        answers = at_once(parallel, request)
    assert answers[0].status_code == 200, answers[0].text
    issued = [answer for answer in answers[1:] if answer.status_code == 201]
    refused = [answer for answer in answers[1:] if answer.status_code != 201]
    assert all(answer.json()["code"] == "token_invalid" for answer in refused), [a.text for a in refused]
    assert answers[0].json()["revoked_count"] == 1 + len(issued)  # it and every token it managed to issue
    assert not any(works(client, answer.json()["token"]) for answer in issued)
