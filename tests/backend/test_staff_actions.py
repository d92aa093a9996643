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


# --------------------------------------------------------------------------------------------------
# Through the portal's pages: the same record, in the same place
# --------------------------------------------------------------------------------------------------


def signed_in_page(client, access_code: str) -> str:
    """Signs the test client in at /toegang (as a browser does); returns the form's CSRF value."""
    client.get("/toegang")
    csrf = client.cookies["sc_csrf"]
    answer = client.post("/toegang", data={"access_code": access_code, "csrf": csrf}, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return csrf


def test_an_action_through_a_page_is_recorded_as_the_same_kind_of_record(client, runtime, admin):
    csrf = signed_in_page(client, admin)
    assert client.get("/gemeente/logboek").status_code == 200  # a read: not recorded
    answer = client.post(
        "/gemeente/inwoners/codes-genoteerd",
        data={"csrf": csrf, "code": ["7", "8"], "then": "/gemeente/inwoners"},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    (action,) = logged(runtime)
    assert (action.label, action.role, action.channel, action.route, action.status) == (
        "A. Admin",
        "municipality_admin",
        "page",
        "acknowledge_codes",
        303,
    )
    assert staff_actions.outcome(action.status) == "done"


def test_a_page_refuses_a_debt_counsellor_as_the_api_does_and_the_refusal_is_recorded(
    client, runtime, counsellor
):
    csrf = signed_in_page(client, counsellor)
    answer = client.post("/gemeente/uitgaand/1/opnieuw", data={"csrf": csrf}, follow_redirects=False)
    assert answer.status_code == 403
    assert "Uw rol mag dit niet doen." in answer.text
    (action,) = logged(runtime)
    assert (action.channel, action.route, action.status, action.subjects) == (
        "page",
        "retry_stuck_transaction",
        403,
        {"tx_id": 1},
    )


def test_a_page_form_without_its_csrf_value_and_signing_out_are_not_recorded(client, runtime, admin):
    csrf = signed_in_page(client, admin)
    forged = client.post("/gemeente/inwoners/codes-genoteerd", data={"code": ["7"]}, follow_redirects=False)
    assert forged.status_code == 403  # refused before anyone is known: not the person's action
    assert client.post("/uitloggen", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    assert logged(runtime) == []


def test_every_state_changing_staff_route_has_a_description_in_the_log():
    """The log shows a text per route, for the API's and the portal's; a new staff route without one would
    show its bare name."""
    from fastapi.routing import APIRoute

    from socialcoin.api.routers import ROUTERS as API
    from socialcoin.web.pages import environment
    from socialcoin.web.routes import ROUTERS as PAGES

    described = environment("en").get_template("municipality/actions.html").module.ACTIONS  # type: ignore[attr-defined]
    routes = [route for router in API + PAGES for route in router.routes if isinstance(route, APIRoute)]
    staff = [
        route
        for route in routes
        if route.path.startswith(("/municipality", "/gemeente"))
        and route.methods - {"GET", "HEAD"}
        and not route.path.endswith("/lookup")
    ]
    assert len(staff) > 40  # the API's and the portal's, found
    assert [route.name for route in staff if route.name not in described] == []
