"""The activities an organisation verifies: the catalogue filtered by organisation (the organisation's portal
lists them), never another organisation's, never a resident's suggestion that has none yet."""

from __future__ import annotations

import pytest
from eth_account import Account

from socialcoin.domain import activities
from test_activity_flow import World, make_world


@pytest.fixture
def world(client, runtime, auth, demo) -> World:
    return make_world(client, runtime, auth, demo)


def test_an_organisation_lists_only_the_activities_it_verifies(world):
    programme = world.programme("GKW")
    ours = [world.activity(programme, title=f"Onze activiteit {n}") for n in (1, 2)]
    other = world.organisation("Buurthuis De Wetering", verifier_key=Account.create().address)
    theirs = world.activity(programme, title="Hun activiteit", organisation_id=other)
    _resident_id, _address, headers = world.resident()
    suggested = world.client.post(
        "/residents/me/activity-suggestions",
        headers=headers,
        json={"title": "Boodschappen", "description": "Boodschappen doen voor buren.", "unit": "task"},
    )
    assert suggested.status_code == 201, suggested.text

    with world.runtime.sessions() as session:
        mine = activities.list_activities(session, organisation_id=world.organisation_id)
        others = activities.list_activities(session, organisation_id=other)
        everything = activities.list_activities(session)
        active_of_mine = activities.list_activities(session, "active", organisation_id=world.organisation_id)
    assert [a.id for a in mine] == ours
    assert [a.id for a in others] == [theirs]
    assert [a.id for a in active_of_mine] == ours
    assert suggested.json()["id"] in [a.id for a in everything]
