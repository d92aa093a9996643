"""The front of the site: the start page, signing in and out, the language switch, and what every page
answers with (security headers, CSRF, errors as pages)."""

from __future__ import annotations

import httpx

from conftest import assert_accessible, assert_english, assert_fits, screenshot, switch_language


def test_the_start_page_shows_where_each_person_begins_in_dutch_and_in_english(phone):
    phone.goto("/")
    assert phone.evaluate("document.documentElement.lang") == "nl"
    choices = (
        "Ik ben inwoner",
        "Ik heb een winkel of club",
        "Ik werk bij een organisatie",
        "Ik werk bij de gemeente",
    )
    for name in choices:
        assert phone.get_by_role("link", name=name).is_visible()
    assert_accessible(phone)
    assert_fits(phone)
    screenshot(phone, "start")
    switch_language(phone, "en")
    assert phone.get_by_role("link", name="I am a resident").is_visible()
    assert_english(phone)
    assert_accessible(phone)


def test_a_wrong_pin_is_refused_in_the_page_and_a_right_one_opens_the_wallet(phone, service):
    phone.goto("/inloggen")
    phone.get_by_label("Dossiernummer").fill("DEMO-0003")
    phone.get_by_label("Pincode").fill("11111")
    phone.get_by_role("button", name="Inloggen").click()
    alert = phone.get_by_role("alert")
    assert "pincode" in alert.inner_text().lower()
    assert phone.get_by_label("Dossiernummer").input_value() == "DEMO-0003"  # kept, to try again
    assert_accessible(phone)
    phone.get_by_label("Pincode").fill("50493")
    phone.get_by_role("button", name="Inloggen").click()
    phone.wait_for_url("**/portemonnee")
    session = [c for c in phone.context.cookies() if c["name"] == "sc_session"]
    assert session and session[0]["httpOnly"] and session[0]["sameSite"] == "Lax"


def test_an_access_code_signs_staff_in_and_a_wrong_one_is_refused(tablet, service):
    tablet.goto("/toegang")
    tablet.get_by_label("Toegangscode").fill("not-a-token")
    tablet.get_by_role("button", name="Inloggen").click()
    assert tablet.get_by_role("alert").is_visible()
    assert_accessible(tablet)
    screenshot(tablet, "access-refused")


def test_pages_carry_a_content_security_policy_without_inline_scripts(service):
    answer = httpx.get(service.url + "/inloggen")
    policy = answer.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert answer.headers["x-frame-options"] == "DENY"
    assert "<script>" not in answer.text  # no inline script in the page itself


def test_a_form_without_its_csrf_value_changes_nothing(service):
    with httpx.Client(base_url=service.url) as client:
        client.get("/inloggen")  # the CSRF cookie
        answer = client.post("/inloggen", data={"case_number": "DEMO-0001", "pin": "38271"})
    assert answer.status_code == 403
    assert "sc_session" not in answer.cookies
    assert "verlopen" in answer.text


def test_a_form_from_another_site_is_refused_even_with_the_cookie(service):
    with httpx.Client(base_url=service.url) as client:
        client.get("/inloggen")
        csrf = client.cookies["sc_csrf"]
        answer = client.post(
            "/inloggen",
            data={"case_number": "DEMO-0001", "pin": "38271", "csrf": csrf},
            headers={"Origin": "https://evil.example"},
        )
    assert answer.status_code == 403


def test_an_unknown_page_is_a_page_and_the_api_keeps_its_problem_json(service):
    page = httpx.get(service.url + "/bestaat-niet", headers={"Accept": "text/html"})  # as a browser asks
    assert page.status_code == 404 and "text/html" in page.headers["content-type"]
    assert "Deze pagina bestaat niet" in page.text
    api = httpx.get(service.url + "/residents/me/balances")
    assert api.status_code == 401 and api.headers["content-type"].startswith("application/problem+json")


def test_the_language_switch_never_sends_anyone_to_another_site(service):
    answer = httpx.get(service.url + "/taal/en?terug=https://evil.example/", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/"
