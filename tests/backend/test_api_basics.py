"""The service starts, documents itself and answers errors as problem+json."""

from __future__ import annotations


def test_openapi_lists_the_groups(client):
    spec = client.get("/openapi.json").json()
    assert spec["info"]["title"] == "Socialcoin"
    assert "/public/coins" in spec["paths"]


def test_public_coins_come_from_the_index(client, runtime, demo):
    runtime.indexer.run_until_caught_up()
    coins = {coin["symbol"]: coin for coin in client.get("/public/coins").json()}
    assert coins["GKW"]["area"] == "WK020201"
    assert coins["GKW"]["purpose"] == "LOCAL_SPENDING"
    assert coins["ARS"]["address"] == demo["coins"]["ARS"]


def test_a_bad_login_is_a_problem_in_dutch_and_english(client):
    answer = client.post("/auth/login", json={"case_number": "nope", "pin": "12345"})
    assert answer.status_code == 401
    assert answer.headers["content-type"].startswith("application/problem+json")
    body = answer.json()
    assert body["code"] == "login_failed"
    assert "pincode" in body["detail"] and "PIN" in body["detail_en"]


def test_an_invalid_field_is_named(client):
    answer = client.post("/auth/login", json={"case_number": "x", "pin": "1"})
    assert answer.status_code == 422
    assert answer.json()["field"] == "pin"


def test_requests_beyond_the_database_slots_get_a_503_and_give_their_slot_back(client, monkeypatch):
    """When every database slot is taken, a request waits briefly, then is refused (load shedding)
    without taking a connection; once a slot frees up, requests go through again."""
    import asyncio

    from socialcoin.api import deps

    monkeypatch.setattr(deps, "SLOT_WAIT_SECONDS", 0.05)
    slots = client.app.state.database_slots
    monkeypatch.setattr(client.app.state, "database_slots", asyncio.Semaphore(0))
    busy = client.get("/public/coins")
    assert busy.status_code == 503
    assert busy.headers["content-type"].startswith("application/problem+json")
    assert busy.json()["code"] == "service_busy"
    assert "opnieuw" in busy.json()["detail"] and "Try again" in busy.json()["detail_en"]

    monkeypatch.setattr(client.app.state, "database_slots", slots)
    free = slots._value
    assert client.get("/public/coins").status_code == 200
    assert slots._value == free  # the slot came back after the request
