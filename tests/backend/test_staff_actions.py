"""Who did what: every request of a staff token that changes something is recorded once, through the API
and through the portal's pages alike, with its outcome; reads and requests without a valid token are
not."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from socialcoin.db.base import transaction
from socialcoin.db.models import StaffAction
from socialcoin.domain import staff_actions
from socialcoin.domain.access import Role, issue_token


def token(runtime, role: Role, label: str, subject_id: int | None = None) -> str:
    with transaction(runtime.sessions) as session:
        _row, value = issue_token(session, role, subject_id, ttl_seconds=3600, label=label)
    return value


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def logged(runtime) -> list[StaffAction]:
    with runtime.sessions() as session:
        return list(session.scalars(select(StaffAction).order_by(StaffAction.id)))


@pytest.fixture
def admin(runtime) -> str:
    return token(runtime, Role.ADMIN, "A. Admin")


@pytest.fixture
def counsellor(runtime) -> str:
    return token(runtime, Role.DEBT_COUNSELLOR, "S. Schuldhulp")


# --------------------------------------------------------------------------------------------------
# Through the API
# --------------------------------------------------------------------------------------------------


def test_an_admins_action_through_the_api_is_recorded_with_who_what_and_the_outcome(client, runtime, admin):
    answer = client.post(
        "/municipality/tokens",
        headers=bearer(admin),
        json={"role": "debt_counsellor", "label": "J. Jansen", "ttl_seconds": 600},
    )
    assert answer.status_code == 201, answer.text
    (action,) = logged(runtime)
    assert (action.label, action.role, action.channel) == ("A. Admin", "municipality_admin", "api")
    assert (action.method, action.path, action.route, action.status) == (
        "POST",
        "/municipality/tokens",
        "issue_token",
        201,
    )
    # The ids it named and the id of what it made; never the answer itself (the token is shown once).
    assert action.subjects == {"id": answer.json()["id"]}
    assert answer.json()["token"] not in repr(action.subjects)
    assert staff_actions.outcome(action.status) == "done"


def test_a_refused_action_is_recorded_as_refused_with_the_role_that_tried_it(client, runtime, counsellor):
    answer = client.post(
        "/municipality/tokens",
        headers=bearer(counsellor),
        json={"role": "municipality_admin", "label": "Ik zelf"},
    )
    assert answer.status_code == 403
    (action,) = logged(runtime)
    assert (action.label, action.role, action.route, action.status) == (
        "S. Schuldhulp",
        "debt_counsellor",
        "issue_token",
        403,
    )
    assert staff_actions.outcome(action.status) == "refused"


def test_an_invalid_request_and_a_domain_refusal_are_recorded_with_their_status(client, runtime, admin):
    assert client.post("/municipality/tokens", headers=bearer(admin), json={"role": "x"}).status_code == 422
    answer = client.post("/municipality/residents/999999/activation-code", headers=bearer(admin))
    assert answer.status_code == 404
    assert [(a.route, a.status, a.subjects) for a in logged(runtime)] == [
        ("issue_token", 422, {}),
        ("reissue_activation_code", 404, {"resident_id": 999999}),
    ]


def test_reads_lookups_and_dry_runs_are_not_recorded(client, runtime, admin):
    headers = bearer(admin)
    assert client.get("/municipality/residents", headers=headers).status_code == 200
    assert client.get("/municipality/tokens", headers=headers).status_code == 200
    lookup = client.post("/municipality/residents/lookup", headers=headers, json={"case_numbers": ["X-1"]})
    assert lookup.status_code == 200
    row = {"line": 2, "case_number": "2026-D001", "name": "Dry Run", "area": "BU02020101"}
    dry_run = client.post(
        "/municipality/residents/batch", headers=headers, json={"dry_run": True, "rows": [row]}
    )
    assert dry_run.status_code == 200, dry_run.text
    assert logged(runtime) == []


def test_requests_without_a_valid_token_and_requests_of_other_roles_are_not_recorded(client, runtime):
    assert (
        client.post("/municipality/tokens", json={"role": "debt_counsellor", "label": "x"}).status_code == 401
    )
    resident = token(runtime, Role.RESIDENT, "login", subject_id=1)
    assert client.post("/municipality/tokens", headers=bearer(resident), json={}).status_code == 403
    assert logged(runtime) == []


def test_the_log_is_found_by_person_and_by_time_newest_first(client, runtime, admin, counsellor):
    for headers in (bearer(admin), bearer(counsellor), bearer(admin)):
        client.post("/municipality/tokens", headers=headers, json={"role": "debt_counsellor", "label": "x"})
    with runtime.sessions() as session:
        everyone = staff_actions.find(session)
        assert [a.label for a in everyone] == ["A. Admin", "S. Schuldhulp", "A. Admin"]
        assert [a.id for a in everyone] == sorted((a.id for a in everyone), reverse=True)
        assert [a.label for a in staff_actions.find(session, person="S. Schuldhulp")] == ["S. Schuldhulp"]
        first = everyone[-1]
        assert [a.id for a in staff_actions.find(session, until=first.at)] == []
        assert len(staff_actions.find(session, since=first.at)) == 3
        assert [a.id for a in staff_actions.find(session, before_id=first.id + 1)] == [first.id]
        assert staff_actions.people(session) == ["A. Admin", "S. Schuldhulp"]


def test_the_record_names_the_token_even_after_it_is_revoked(client, runtime, admin):
    other = token(runtime, Role.DEBT_COUNSELLOR, "Weg Gegaan")
    client.post("/municipality/tokens", headers=bearer(other), json={"role": "debt_counsellor", "label": "x"})
    with runtime.sessions() as session:
        (action,) = staff_actions.find(session)
    revoked = client.post(f"/municipality/tokens/{action.token_id}/revoke", headers=bearer(admin))
    assert revoked.status_code == 200
    names = [(a.label, a.route) for a in logged(runtime)]
    assert names == [("Weg Gegaan", "issue_token"), ("A. Admin", "revoke_token")]
    assert re.fullmatch(r"/municipality/tokens/\d+/revoke", logged(runtime)[-1].path)
