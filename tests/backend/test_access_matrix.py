"""Every endpoint, called as every role: only the intended roles get through, and a resident only
ever sees their own data.

The intended roles are written out here, apart from the code, so that a route that lets the wrong
role in (or keeps the right one out) fails this test."""

from __future__ import annotations

import re

import pytest

from socialcoin.db.base import transaction
from socialcoin.domain.access import Role
from socialcoin.domain.admission import admit_resident, register_merchant, register_organisation

ADMIN, COUNSELLOR = Role.ADMIN, Role.DEBT_COUNSELLOR
STAFF = {ADMIN, COUNSELLOR}
EVERYONE = "everyone"  # no token needed
SIGNED_IN = "signed in"  # any valid token

# (method, path pattern) -> who may call it. Patterns are matched in order; the first match counts.
INTENDED: list[tuple[str, str, object]] = [
    ("*", r"^/public/", EVERYONE),
    ("POST", r"^/auth/login$", EVERYONE),
    ("POST", r"^/auth/activate$", EVERYONE),
    ("*", r"^/auth/", SIGNED_IN),
    ("*", r"^/residents/me", {Role.RESIDENT}),
    ("*", r"^/merchants/me", {Role.MERCHANT}),
    ("*", r"^/organisations/me", {Role.VERIFIER}),
    # The debt counsellor records debts and reports on them, sees the activities and services on
    # offer, and gives a resident tasks (part of the route out of debt).
    ("*", r"^/municipality/debts", STAFF),
    ("GET", r"^/municipality/debt-reports/", STAFF),
    # The effect report: the figures per wijk and programme that the council reads each month.
    ("GET", r"^/municipality/reports/effect", STAFF),
    ("GET", r"^/municipality/activity-guidelines$", STAFF),
    ("GET", r"^/municipality/activities", STAFF),
    ("GET", r"^/municipality/services$", STAFF),
    ("*", r"^/municipality/tasks", STAFF),
    # A resident's forgotten PIN is reset by the municipality or the debt counsellor, who then
    # acknowledges the new activation code like any other they were given.
    ("*", r"^/municipality/residents/\{resident_id\}/pin-reset$", STAFF),
    ("POST", r"^/municipality/residents/activation-codes/acknowledge$", STAFF),
    # Chain administration (pause, freeze, recover, reclaim, coins, the minter's allowance): admins only.
    ("*", r"^/municipality/chain/", {ADMIN}),
    # A month's rewards from a spreadsheet, and where their mints stand: admins only.
    ("*", r"^/municipality/rewards", {ADMIN}),
    ("*", r"^/municipality/", {ADMIN}),
]

ALL_ROLES = [None, *Role]


def intended(method: str, path: str):
    for rule_method, pattern, who in INTENDED:
        if rule_method in ("*", method) and re.search(pattern, path):
            return who
    raise AssertionError(f"{method} {path} has no intended roles in this test: add it to INTENDED")


def allowed(who, role) -> bool:
    if who == EVERYONE:
        return True
    if who == SIGNED_IN:
        return role is not None
    return role in who


@pytest.fixture
def subjects(runtime):
    with transaction(runtime.sessions) as session:
        resident = admit_resident(
            session,
            runtime.settings,
            name="Matrix Resident",
            case_number="MX-1",
            area="BU02020101",
            pin="24681",
        )
        merchant = register_merchant(
            session,
            runtime.settings,
            name="Matrix Shop",
            iban="NL91ABNA0417164300",
            area="WK020201",
            purposes=["LOCAL_SPENDING"],
            pin="24681",
        )
        organisation = register_organisation(
            session,
            runtime.settings,
            name="Matrix Club",
            area="GM0202",
            wallet_address="0x000000000000000000000000000000000000a11c",
        )
        return {Role.RESIDENT: resident.id, Role.MERCHANT: merchant.id, Role.VERIFIER: organisation.id}


# Operations that end a session: their callers get fresh tokens afterwards.
SIGNS_OUT = re.compile(r"^/auth/logout$|/tokens/\{token_id\}/revoke$")


def test_every_endpoint_lets_in_exactly_the_intended_roles(client, auth, subjects):
    def fresh_headers():
        return {None: {}, **{role: auth(role, subjects.get(role)) for role in Role}}

    headers = fresh_headers()
    wrong = []
    operations = [
        (method.upper(), path) for path, item in client.app.openapi()["paths"].items() for method in item
    ]
    assert len(operations) > 60
    for method, path in operations:
        who = intended(method, path)
        url = re.sub(r"\{[^}]+\}", "1", path)
        for role in ALL_ROLES:
            answer = client.request(method, url, headers=headers[role], json={} if method != "GET" else None)
            refused = answer.status_code in (401, 403) and answer.json().get("code") in (
                "token_missing",
                "token_invalid",
                "token_expired",
                "role_not_allowed",
            )
            if allowed(who, role) == refused:
                wrong.append(f"{method} {path} as {role}: {answer.status_code} {answer.text[:120]}")
            if refused:
                assert answer.status_code == (401 if role is None else 403), f"{method} {path} as {role}"
            if SIGNS_OUT.search(path):
                headers = fresh_headers()
    assert not wrong, "\n".join(wrong)


def test_a_resident_sees_only_their_own_data(client, auth, runtime):
    with transaction(runtime.sessions) as session:
        mine = admit_resident(
            session, runtime.settings, name="Anna Eigen", case_number="OWN-1", area="BU02020101", pin="24681"
        )
        theirs = admit_resident(
            session,
            runtime.settings,
            name="Bram Ander",
            case_number="OTHER-1",
            area="BU02020101",
            pin="24681",
        )
        mine_id, theirs_id = mine.id, theirs.id
        their_marks = [theirs.name, theirs.case_number, theirs.wallet_address, theirs.wallet_address.lower()]
    runtime.outbox.run_until_idle()
    runtime.indexer.run_until_caught_up()
    as_me = auth(Role.RESIDENT, mine_id)
    paths = [
        path
        for path, item in client.app.openapi()["paths"].items()
        if path.startswith("/residents/me") and "get" in item and "{" not in path
    ]
    assert "/residents/me" in paths and len(paths) >= 8
    for path in paths:
        answer = client.get(path, headers=as_me)
        assert answer.status_code in (200, 400, 422), f"{path}: {answer.status_code} {answer.text[:200]}"
        for mark in their_marks:
            assert mark not in answer.text, f"{path} shows another resident's data ({mark})"
    # Asking for another resident's things by number finds nothing.
    for path in ("/residents/me/tasks/{id}", "/residents/me/orders/{id}", "/residents/me/payments/{id}"):
        answer = client.get(path.format(id=theirs_id), headers=as_me)
        assert answer.status_code in (404, 422)
    # And the municipality's resident records are closed to residents.
    assert client.get(f"/municipality/residents/{theirs_id}", headers=as_me).status_code == 403
