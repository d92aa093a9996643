"""The municipality's portal in a real browser: the dashboard, residents (admit one, a file, view, freeze,
recover a lost wallet, a new activation code), organisations and merchants with their access codes, and
who did what. Refusals show in the page as the API gives them; every page passes axe, reads in English
after the switch, and fits 360 px. Outcomes are checked through the API, not only on screen."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from eth_account import Account
from journey_municipality import (
    admit_resident,
    freeze,
    open_dashboard,
    open_resident,
    sign_in,
    wait_for_operation,
    wait_until_registered,
)
from journey_wallet import activate as activate_wallet
from playwright.sync_api import Page, expect
from test_pay import PIN as PAY_PIN
from test_pay import resident

from conftest import (
    PHONE,
    TABLET,
    Service,
    assert_accessible,
    assert_english,
    assert_fits,
    screenshot,
    switch_language,
)
from socialcoin.db.base import transaction
from socialcoin.domain.access import Role, issue_token

ADMIN_NAME = "Ada Admin (e2e)"
COUNSELLOR_NAME = "Sam Schuldhulp (e2e)"
AREA = "BU02020101"
PIN = "48213"


@pytest.fixture(scope="module")
def staff(service: Service) -> dict[str, str]:
    """Access codes of the portal's own staff, with names the log shows."""
    codes = {}
    with transaction(service.runtime.sessions) as session:
        for role, name in ((Role.ADMIN, ADMIN_NAME), (Role.DEBT_COUNSELLOR, COUNSELLOR_NAME)):
            _row, codes[str(role)] = issue_token(session, role, None, ttl_seconds=8 * 3600, label=name)
    return codes


@pytest.fixture(scope="module")
def admin_api(service: Service, staff) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {staff[Role.ADMIN]}"}
    with httpx.Client(base_url=service.url, headers=headers, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def enter(staff):
    """enter(page, role): signed in as that role. The first time through the access page (the journey's
    sign_in), then with the same session cookie: sign-ins are rate-limited per client address, and every
    test of the run comes from this one."""
    cookies: dict[str, list] = {}

    def signed_in(page: Page, role: Role) -> None:
        if str(role) not in cookies:
            sign_in(page, staff[role])
            cookies[str(role)] = [c for c in page.context.cookies() if c["name"] in ("sc_session", "sc_csrf")]
        else:
            page.context.add_cookies(cookies[str(role)])

    return signed_in


def accept_dialog(page: Page) -> None:
    """The next confirm() the page asks is answered yes."""
    page.once("dialog", lambda dialog: dialog.accept())


def case(prefix: str) -> str:
    return f"GEM-{prefix}-{uuid.uuid4().hex[:6].upper()}"


def resident_by_case(api: httpx.Client, case_number: str) -> dict | None:
    found = api.get("/municipality/residents", params={"case_number": case_number}).json()
    return found[0] if found else None


def activate(service: Service, case_number: str, code: str) -> httpx.Response:
    return httpx.post(
        service.url + "/auth/activate",
        json={"case_number": case_number, "activation_code": code, "pin": PIN},
        timeout=60,
    )


def check_page(page: Page, name: str, *, english: bool = True) -> None:
    """axe and a screenshot at 1024 px; the same page at 360 px fits and is screenshot too; and (switching
    there and back) the page in English."""
    assert_accessible(page)
    screenshot(page, f"municipality-{name}")
    page.set_viewport_size(PHONE)
    assert_fits(page)
    screenshot(page, f"municipality-{name}")
    page.set_viewport_size(TABLET)
    if english:
        switch_language(page, "en")
        assert_english(page)
        assert_accessible(page)
        switch_language(page, "nl")


# --------------------------------------------------------------------------------------------------
# The dashboard
# --------------------------------------------------------------------------------------------------


def test_the_dashboard_shows_the_coins_residents_debts_and_the_chain(tablet, service, staff, enter):
    enter(tablet, Role.ADMIN)
    open_dashboard(tablet)
    for heading in ("Actieve inwoners", "Deze maand afgelost", "Blockchain en wachtrij", "Munten"):
        expect(tablet.get_by_role("heading", name=heading)).to_be_visible()
    expect(tablet.get_by_text("in de laatste 30 dagen")).to_be_visible()  # what "active" means
    coins = tablet.get_by_role("table", name="Budget, aangemaakt, ingenomen en uitstaand per munt")
    expect(coins.get_by_role("rowheader", name="GKW")).to_be_visible()
    expect(tablet.get_by_text("Blockchain bereikbaar")).to_be_visible()
    expect(tablet.get_by_text("Er zit niets vast.").first).to_be_visible()
    check_page(tablet, "dashboard")


def test_the_dashboard_fits_a_phone(phone, service, staff, enter):
    enter(phone, Role.ADMIN)
    open_dashboard(phone)
    assert_fits(phone)
    assert_accessible(phone)
    screenshot(phone, "municipality-dashboard")


# --------------------------------------------------------------------------------------------------
# Residents
# --------------------------------------------------------------------------------------------------


def test_an_admin_admits_a_resident_whose_code_shown_once_activates_the_wallet(
    tablet, service, staff, enter, admin_api
):
    enter(tablet, Role.ADMIN)
    tablet.goto("/gemeente/inwoners/nieuw")
    check_page(tablet, "resident-new")
    number = case("ONE")
    code = admit_resident(tablet, "Eva Eenmalig", number, AREA)
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", code)
    expect(tablet.get_by_role("heading", level=1)).to_contain_text("Eva Eenmalig")
    expect(tablet.get_by_text("Wacht op activering")).to_be_visible()
    check_page(tablet, "resident")
    admitted = resident_by_case(admin_api, number)
    assert admitted is not None and admitted["wallet_custody"] == "custodial"
    # The code is real: the resident chooses a PIN with it (and it is not on the resident's page).
    assert code not in tablet.content()
    assert activate(service, number, code).status_code == 200


def test_the_code_page_is_shown_once_and_passes_its_checks(tablet, service, staff, enter):
    enter(tablet, Role.ADMIN)
    tablet.goto("/gemeente/inwoners/nieuw")
    tablet.get_by_label("Naam").fill("Cor Code")
    tablet.get_by_label("Dossiernummer").fill(case("CODE"))
    tablet.get_by_label("Buurtcode").fill(AREA)
    tablet.get_by_label("De inwoner doet mee").check()
    tablet.get_by_role("button", name="Aanmelden").click()
    expect(tablet.locator("#activation-code")).to_be_visible()
    check_page(tablet, "activation-code", english=False)  # shown once: no second showing to switch to


def test_the_code_page_reads_in_english_when_the_official_works_in_english(tablet, service, staff, enter):
    """A page shown once cannot be switched after the fact: the official switches first, then admits."""
    enter(tablet, Role.ADMIN)
    tablet.goto("/gemeente/inwoners/nieuw")
    switch_language(tablet, "en")
    tablet.locator("#name").fill("Cor English")
    tablet.locator("#case_number").fill(case("CODE-EN"))
    tablet.locator("#area").fill(AREA)
    tablet.locator("#consent").check()
    tablet.get_by_role("button", name="Admit").click()
    expect(tablet.locator("#activation-code")).to_be_visible()
    assert_english(tablet)
    assert_accessible(tablet)
    switch_language(tablet, "nl")


def test_an_uploads_answer_and_a_new_access_code_read_in_english(tablet, service, staff, enter, tmp_path):
    """The other pages shown once, with the official working in English from the start."""
    enter(tablet, Role.ADMIN)
    bad = tmp_path / "faults.csv"
    bad.write_text(f"dossiernummer;naam;buurt;email\n{case('EN')};;{AREA};\n", encoding="utf-8-sig")
    tablet.goto("/gemeente/inwoners/upload")
    switch_language(tablet, "en")
    tablet.locator("#file").set_input_files(str(bad))
    tablet.get_by_role("button", name="Check and admit").click()
    expect(tablet.get_by_role("alert")).to_be_visible()
    assert_english(tablet)
    tablet.goto(f"/gemeente/ondernemers/{service.loaded.merchant_id}")
    tablet.locator("#label").fill("Till in English")
    tablet.locator("#label").press("Enter")
    expect(tablet.locator("#access-code")).to_be_visible()
    assert_english(tablet)
    assert_accessible(tablet)
    switch_language(tablet, "nl")


def test_an_admission_with_a_bsn_as_case_number_is_refused_and_nothing_is_admitted(
    tablet, service, staff, enter, admin_api
):
    enter(tablet, Role.ADMIN)
    tablet.goto("/gemeente/inwoners/nieuw")
    tablet.get_by_label("Naam").fill("Bea Bsn")
    tablet.get_by_label("Dossiernummer").fill("111222333")  # passes the BSN check (elfproef)
    tablet.get_by_label("Buurtcode").fill(AREA)
    tablet.get_by_label("De inwoner doet mee").check()
    with tablet.expect_response(lambda r: r.request.method == "POST") as answer:
        tablet.get_by_role("button", name="Aanmelden").click()
    assert answer.value.status == 422
    expect(tablet.get_by_role("alert")).to_contain_text("Dit lijkt op een BSN")
    assert tablet.get_by_label("Dossiernummer").get_attribute("aria-invalid") == "true"
    assert tablet.get_by_label("Naam").input_value() == "Bea Bsn"  # what was typed stays
    assert_accessible(tablet)
    screenshot(tablet, "municipality-refused-bsn")
    assert resident_by_case(admin_api, "111222333") is None
    switch_language(tablet, "en")  # the form again, in English
    assert_english(tablet)


def test_a_file_with_bad_lines_shows_each_one_and_admits_nobody_then_a_good_file_admits_all(
    tablet, service, staff, enter, admin_api, tmp_path
):
    enter(tablet, Role.ADMIN)
    good, twice, other = case("CSV"), case("CSV"), case("CSV")
    lines = [
        "dossiernummer;naam;buurt;email",
        f"{good};Gijs Goed;{AREA};gijs@example.nl",
        f"{twice};Tom Twee;{AREA};",
        f"{twice};Tom Twee;{AREA};",  # the same case twice
        f"{other};;{AREA};",  # no name
        f"{other}-B;Nel Nergens;XX123;",  # no such area
        f"111222333;Bas Bsn;{AREA};",  # a BSN
        f"{other}-C;Els Email;{AREA};geen-adres",  # not an email address
    ]
    bad = tmp_path / "fouten.csv"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    tablet.goto("/gemeente/inwoners/upload")
    check_page(tablet, "upload")
    tablet.get_by_label("Bestand").set_input_files(str(bad))
    with tablet.expect_response(lambda r: r.request.method == "POST") as answer:
        tablet.get_by_role("button", name="Controleren en aanmelden").click()
    assert answer.value.status == 422
    expect(tablet.get_by_role("alert")).to_contain_text("Er is niemand aangemeld.")
    faults = tablet.get_by_role("table", name="Wat er niet klopt in fouten.csv")
    rows = faults.locator("tbody tr")
    shown = [tuple(cell.strip() for cell in row.locator("td").all_inner_texts()) for row in rows.all()]
    assert [(line, column) for line, column, _reason in shown] == [
        ("4", "dossiernummer"),
        ("5", "naam"),
        ("6", "buurt"),
        ("7", "dossiernummer"),
        ("8", "email"),
    ]
    assert "BSN" in shown[3][2] and "regel 3" in shown[0][2]
    check_page(tablet, "upload-refused", english=False)
    # The same refusal in English: every reason in the page's language.
    switch_language(tablet, "en")
    tablet.get_by_label("File").set_input_files(str(bad))
    tablet.get_by_role("button", name="Check and admit").click()
    expect(tablet.get_by_role("table", name="What is wrong in fouten.csv").locator("tbody tr")).to_have_count(
        5
    )
    assert_english(tablet)
    assert_accessible(tablet)
    switch_language(tablet, "nl")
    lookup = admin_api.post(
        "/municipality/residents/lookup", json={"case_numbers": [good, twice, other]}
    ).json()
    assert [found["resident_id"] for found in lookup] == [None, None, None]  # nothing was admitted

    fixed = tmp_path / "inwoners.csv"
    fixed.write_text("\n".join(lines[:3]) + "\n", encoding="utf-8-sig")
    tablet.goto("/gemeente/inwoners/upload")
    tablet.get_by_label("Bestand").set_input_files(str(fixed))
    tablet.get_by_role("button", name="Controleren en aanmelden").click()
    expect(tablet.get_by_text("Nu aangemeld: 2")).to_be_visible()
    codes = tablet.get_by_role("table", name="Activeringscodes voor de brieven")
    expect(codes.locator("tbody tr")).to_have_count(2)
    first_code = codes.locator("tbody tr").first.locator("td").nth(2).inner_text().strip()
    check_page(tablet, "upload-admitted", english=False)
    tablet.get_by_role("button", name="Ik heb de codes bewaard").click()
    tablet.wait_for_url("**/gemeente/inwoners")
    assert resident_by_case(admin_api, good) is not None and resident_by_case(admin_api, twice) is not None
    assert activate(service, good, first_code).status_code == 200


def test_residents_are_found_by_name_and_the_list_reads_in_english(tablet, service, staff, enter):
    enter(tablet, Role.ADMIN)
    tablet.goto("/gemeente/inwoners")
    tablet.get_by_label("Zoeken").fill("anna")
    tablet.get_by_role("button", name="Zoeken").click()
    expect(tablet.get_by_role("link", name="DEMO-0001")).to_be_visible()
    expect(tablet.get_by_role("link", name="DEMO-0002")).to_have_count(0)
    check_page(tablet, "residents")


def test_a_resident_is_frozen_and_unfrozen_on_chain_from_the_page(tablet, service, staff, enter, admin_api):
    number = case("ICE")
    enter(tablet, Role.ADMIN)
    admit_resident(tablet, "Ivo IJs", number, AREA)
    freeze(tablet, number)
    resident = resident_by_case(admin_api, number)
    assert resident is not None
    participant = service.runtime.chain.participants([resident["wallet_address"]])[resident["wallet_address"]]
    assert participant.frozen
    screenshot(tablet, "municipality-frozen")
    # A freeze without a reason is refused at the form, with nothing done.
    tablet.get_by_role("button", name="Wallet ontdooien").click()
    expect(tablet.get_by_role("alert")).to_be_visible()
    tablet.get_by_label("Reden").first.fill("Telefoon terug")
    tablet.get_by_role("button", name="Wallet ontdooien").click()
    wait_for_operation(tablet)
    expect(tablet.get_by_text("Kan betalen en ontvangen")).to_be_visible()
    assert not service.runtime.chain.participants([resident["wallet_address"]])[
        resident["wallet_address"]
    ].frozen


@pytest.mark.moves_chain_clock
def test_a_lost_own_wallet_is_recovered_in_two_steps_with_its_time(tablet, service, staff, enter, admin_api):
    lost, new = Account.create().address, Account.create().address
    number = case("LOST")
    body = {
        "name": "Otto Eigen",
        "case_number": number,
        "area": AREA,
        "wallet_address": lost,
        "consent": True,
    }
    assert admin_api.post("/municipality/residents", json=body).status_code == 201
    enter(tablet, Role.ADMIN)
    open_resident(tablet, number)
    wait_until_registered(tablet)
    # Before the freeze the chain refuses the request: the page says so, at the form.
    tablet.get_by_label("Nieuw walletadres").fill(new)
    tablet.get_by_label("Zaaknummer van het herstel").fill("Z-2026-0001")
    tablet.get_by_label("Reden").nth(1).fill("Telefoon gestolen")
    tablet.get_by_role("button", name="Herstel aanvragen").click()
    expect(tablet.get_by_role("alert")).to_contain_text("Bevries wallet")
    assert tablet.get_by_label("Nieuw walletadres").input_value() == new
    freeze(tablet, number)
    tablet.get_by_label("Nieuw walletadres").fill(new)
    tablet.get_by_label("Zaaknummer van het herstel").fill("Z-2026-0001")
    tablet.get_by_label("Reden").nth(1).fill("Telefoon gestolen")
    tablet.get_by_role("button", name="Herstel aanvragen").click()
    wait_for_operation(tablet)
    expect(
        tablet.get_by_text(re.compile(f"herstel naar {new} aangevraagd. Uitvoeren kan vanaf"))
    ).to_be_visible()
    check_page(tablet, "resident-recovery")
    # Within the registry's delay (an hour in the tests' deployment) the execution is refused, with when.
    tablet.get_by_role("button", name="Herstel uitvoeren").click()
    expect(tablet.get_by_role("alert")).to_contain_text("De wachttijd loopt nog")
    service.node.rpc("evm_increaseTime", [3601])
    service.node.rpc("evm_mine")
    tablet.get_by_role("button", name="Herstel uitvoeren").click()
    wait_for_operation(tablet)
    moved = resident_by_case(admin_api, number)
    assert moved is not None and moved["wallet_address"] == new


def test_a_new_activation_code_replaces_the_old_one_and_is_shown_once(tablet, service, staff, enter):
    number = case("NEW")
    enter(tablet, Role.ADMIN)
    old = admit_resident(tablet, "Lot Letter", number, AREA)
    accept_dialog(tablet)
    tablet.get_by_role("button", name="Nieuwe activeringscode maken").click()
    expect(tablet.get_by_role("heading", level=1)).to_contain_text("Nieuwe activeringscode voor Lot Letter")
    new = tablet.locator("#activation-code").inner_text().strip()
    assert new != old
    check_page(tablet, "activation-code-new", english=False)
    assert activate(service, number, old).status_code == 401
    assert activate(service, number, new).status_code == 200
    # Once the resident has chosen a PIN, a new code is no longer offered: a forgotten PIN is reset instead.
    open_resident(tablet, number)
    expect(tablet.get_by_role("button", name="Nieuwe activeringscode maken")).to_have_count(0)
    expect(tablet.get_by_role("link", name="Pincode vergeten? Reset de pincode")).to_be_visible()


def pin_reset(api: httpx.Client, resident_id: int) -> dict | None:
    answer = api.get(f"/municipality/residents/{resident_id}/pin-reset")
    return None if answer.status_code == 404 else answer.json()


@pytest.mark.moves_chain_clock
def test_a_debt_counsellor_resets_a_forgotten_pin_and_the_coins_follow_the_resident_to_the_new_one(
    tablet, phone, service, staff, enter, admin_api
):
    person = resident(service, {"GKW": 1200})
    enter(tablet, Role.DEBT_COUNSELLOR)
    tablet.goto(f"/gemeente/inwoners/{person.id}/pincode")
    check_page(tablet, "pin-reset")
    # Without a reason it is refused at the field, and nothing happens.
    accept_dialog(tablet)
    tablet.get_by_role("button", name="Pincode resetten").click()
    expect(tablet.get_by_role("alert")).to_be_visible()
    assert tablet.get_by_label("Reden").get_attribute("aria-invalid") == "true"
    assert pin_reset(admin_api, person.id) is None
    tablet.get_by_label("Reden").fill("Pincode vergeten, zelf langsgekomen")
    accept_dialog(tablet)
    tablet.get_by_role("button", name="Pincode resetten").click()
    expect(tablet.get_by_role("heading", level=1)).to_contain_text("is opnieuw ingesteld")
    code = tablet.locator("#activation-code").inner_text().strip()
    check_page(tablet, "pin-reset-code", english=False)
    tablet.get_by_role("button", name="Ik heb de code opgeschreven").click()
    tablet.wait_for_url(f"**/gemeente/inwoners/{person.id}/pincode")
    login = {"case_number": person.case_number, "pin": PAY_PIN}
    assert httpx.post(service.url + "/auth/login", json=login, timeout=60).status_code == 401

    # The resident chooses a new PIN with the new code and sees the coins; paying waits for the move.
    activate_wallet(phone, person.case_number, code, PIN)
    expect(phone.locator("[data-wallet-moving]")).to_be_visible()
    expect(phone.get_by_text("€ 12,00").first).to_be_visible()
    assert_accessible(phone)

    # After the registry's delay (an hour in the tests' deployment) the service moves the coins by itself.
    service.settle()
    expect(tablet.locator("[data-pin-reset=waiting]")).to_be_visible()
    service.node.rpc("evm_increaseTime", [3601])
    service.node.rpc("evm_mine")
    for _ in range(1200):  # the job looks every 2 s; each round waits for the workers' sends first
        service.settle()
        if (pin_reset(admin_api, person.id) or {}).get("status") == "done":
            break
        time.sleep(0.1)
    else:
        raise AssertionError(f"the PIN reset did not end: {pin_reset(admin_api, person.id)}")
    tablet.reload()
    expect(tablet.locator("[data-pin-reset=done]")).to_be_visible()
    check_page(tablet, "pin-reset-done")
    moved = resident_by_case(admin_api, person.case_number)
    assert moved is not None and moved["wallet_address"] != person.wallet
    phone.reload()
    expect(phone.locator("[data-wallet-moving]")).to_have_count(0)
    expect(phone.get_by_text("€ 12,00").first).to_be_visible()


# --------------------------------------------------------------------------------------------------
# Organisations and merchants, and their access codes
# --------------------------------------------------------------------------------------------------


def signed_in_as(service: Service, token: str) -> dict:
    return httpx.get(service.url + "/auth/me", headers={"Authorization": f"Bearer {token}"}).json()


def test_an_organisation_is_registered_and_its_verifier_gets_an_access_code(tablet, service, staff, enter):
    enter(tablet, Role.ADMIN)
    tablet.goto("/gemeente/organisaties")
    check_page(tablet, "organisations")
    tablet.get_by_role("link", name="Organisatie registreren").click()
    check_page(tablet, "organisation-new")
    name = f"Buurthuis {uuid.uuid4().hex[:6]}"
    tablet.get_by_label("Naam").fill(name)
    tablet.get_by_label("Gebiedscode").fill("WK020201")
    tablet.get_by_label("Walletadres").fill("0x123")  # not an address: refused at the field
    tablet.get_by_role("button", name="Registreren").click()
    expect(tablet.get_by_role("alert")).to_be_visible()
    assert tablet.get_by_label("Walletadres").get_attribute("aria-invalid") == "true"
    tablet.get_by_label("Walletadres").fill(Account.create().address)
    tablet.get_by_role("button", name="Registreren").click()
    expect(tablet.get_by_role("heading", level=1, name=name)).to_be_visible()
    tablet.get_by_label("Adres van de sleutel").fill(Account.create().address)
    gkw = tablet.locator("#coin option", has_text="GKW").get_attribute("value")
    tablet.get_by_label("Munt").select_option(gkw)
    tablet.get_by_role("button", name="Deze sleutel toestaan").click()
    expect(tablet.get_by_role("status")).to_contain_text("De sleutel mag voor deze munt controleren")
    tablet.get_by_label("Voor wie of welke kassa").fill("Coördinator vrijwilligers")
    tablet.get_by_role("button", name="Toegangscode maken").click()
    token = tablet.locator("#access-code").inner_text().strip()
    check_page(tablet, "access-code", english=False)
    me = signed_in_as(service, token)
    assert me["role"] == "organisation_verifier"
    tablet.get_by_role("link", name="Verder").click()
    expect(tablet.get_by_role("cell", name="Coördinator vrijwilligers", exact=True)).to_be_visible()
    check_page(tablet, "organisation")


def test_a_merchant_is_registered_a_till_gets_an_access_code_that_signs_in_and_it_can_be_revoked(
    tablet, service, staff, enter
):
    enter(tablet, Role.ADMIN)
    tablet.goto("/gemeente/ondernemers")
    check_page(tablet, "merchants")
    tablet.get_by_role("link", name="Ondernemer registreren").click()
    check_page(tablet, "merchant-new")
    name = f"Fietsenmaker {uuid.uuid4().hex[:6]}"
    tablet.get_by_label("Naam").fill(name)
    tablet.get_by_label("IBAN").fill("NL91ABNA0417164300")
    tablet.get_by_label("Gebiedscode").fill("WK020201")
    tablet.get_by_label("Uitgeven in de wijk").check()
    tablet.get_by_label("Eigen walletadres").fill(Account.create().address)
    tablet.get_by_role("button", name="Registreren").click()
    expect(tablet.get_by_role("heading", level=1, name=name)).to_be_visible()
    check_page(tablet, "merchant")
    tablet.get_by_label("Voor wie of welke kassa").fill("Kassa 1")
    tablet.get_by_label("Geldig voor").select_option("7")
    tablet.get_by_role("button", name="Toegangscode maken").click()
    token = tablet.locator("#access-code").inner_text().strip()
    assert signed_in_as(service, token)["role"] == "merchant"
    tablet.get_by_role("link", name="Verder").click()
    accept_dialog(tablet)
    tablet.get_by_role("button", name="Kassa 1 intrekken").click()
    expect(tablet.get_by_text("Ingetrokken")).to_be_visible()
    assert (
        httpx.get(service.url + "/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    )


# --------------------------------------------------------------------------------------------------
# Roles and who did what
# --------------------------------------------------------------------------------------------------


def test_a_debt_counsellor_is_refused_what_only_an_admin_may_do_as_the_api_refuses_it(
    tablet, service, staff, enter
):
    enter(tablet, Role.DEBT_COUNSELLOR)
    open_dashboard(tablet)
    expect(
        tablet.get_by_text("Budgetten en vastgelopen transacties ziet alleen een beheerder.")
    ).to_be_visible()
    assert_accessible(tablet)
    answer = tablet.goto("/gemeente/inwoners/nieuw")
    assert answer is not None and answer.status == 403
    expect(tablet.get_by_text("Uw rol mag dit niet doen.")).to_be_visible()
    check_page(tablet, "counsellor-refused", english=False)
    # A form sent anyway (with a valid CSRF value) is refused the same way, and nothing is admitted.
    csrf = next(c["value"] for c in tablet.context.cookies() if c["name"] == "sc_csrf")
    number = case("NOPE")
    page_answer = tablet.request.post(
        "/gemeente/inwoners/nieuw",
        form={"csrf": csrf, "name": "Niet Toegestaan", "case_number": number, "area": AREA, "consent": "yes"},
    )
    assert page_answer.status == 403 and "Uw rol mag dit niet doen." in page_answer.text()
    body = {"name": "Niet Toegestaan", "case_number": number, "area": AREA, "pin": PIN, "consent": True}
    api_answer = httpx.post(
        service.url + "/municipality/residents",
        json=body,
        headers={"Authorization": f"Bearer {staff[Role.DEBT_COUNSELLOR]}"},
    )
    assert api_answer.status_code == 403 and api_answer.json()["code"] == "role_not_allowed"
    assert resident_by_case(service.api(Role.ADMIN), number) is None


def test_the_log_shows_who_did_what_through_pages_and_the_api_and_what_was_refused(
    tablet, service, staff, enter, admin_api
):
    number = case("LOG")
    enter(tablet, Role.ADMIN)
    admit_resident(tablet, "Lies Logboek", number, AREA)
    body = {"name": "Api Admin", "case_number": case("LOG"), "area": AREA, "pin": PIN, "consent": True}
    assert admin_api.post("/municipality/residents", json=body).status_code == 201
    counsellor = {"Authorization": f"Bearer {staff[Role.DEBT_COUNSELLOR]}"}
    assert (
        httpx.post(service.url + "/municipality/outbox/transactions/1/retry", headers=counsellor).status_code
        == 403
    )
    tablet.goto("/gemeente/logboek")
    log = tablet.get_by_role("table", name="Wie deed wat")
    first = log.locator("tbody tr").nth(0)  # newest first
    expect(first).to_contain_text(COUNSELLOR_NAME)
    expect(first).to_contain_text("Vastgelopen transactie opnieuw proberen")
    expect(first).to_contain_text("Geweigerd")
    expect(log.locator("tbody tr").nth(1)).to_contain_text("via de API")
    expect(log.locator("tbody tr").nth(2)).to_contain_text("Activeringscodes bevestigen als bewaard")
    expect(log.locator("tbody tr").nth(3)).to_contain_text("via een pagina")
    expect(log.locator("tbody tr").nth(3)).to_contain_text("Inwoner aanmelden")
    check_page(tablet, "log")
    tablet.get_by_label("Persoon").select_option(COUNSELLOR_NAME)
    tablet.get_by_role("button", name="Tonen").click()
    names = log.locator("tbody tr td:nth-child(2)").all_inner_texts()
    assert names and all(COUNSELLOR_NAME in name for name in names)
    tablet.get_by_label("Van").fill("2000-01-01")
    tablet.get_by_label("Tot en met").fill("2000-01-31")
    tablet.get_by_role("button", name="Tonen").click()
    expect(tablet.get_by_text("Niets vastgelegd voor deze keuze.")).to_be_visible()
