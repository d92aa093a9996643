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
