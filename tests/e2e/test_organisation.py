"""The organisation's portal in a real browser: its activities and its residents' tasks, a finished task
with its proof, the attestation signed in the page with the organisation's own key (a keystore file
opened with its password, or a wallet over EIP-1193), the refusals in plain words, and what was minted.

Each test makes its own finished task through the API (the municipality admits a resident and gives
them the demo's garden activity; the resident starts it and finishes it with a photo). The demo
organisation's verifier key is anvil's account 6 (README); the keys here sign for real, and the claims
are checked through the API."""

from __future__ import annotations

import io
import json
import re
import secrets
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from eth_account import Account
from journey_organisation import open_finished_task, sign_in, verify_task
from PIL import Image
from playwright.sync_api import Page, expect
from sqlalchemy import select

from conftest import Service, assert_accessible, assert_english, assert_fits, screenshot, switch_language
from socialcoin.db.base import transaction
from socialcoin.db.models import Organisation
from socialcoin.domain.access import Role
from socialcoin.domain.admission import register_organisation

Account.enable_unaudited_hdwallet_features()
DEMO_VERIFIER = Account.from_mnemonic(
    "test test test test test test test test test test test junk", account_path="m/44'/60'/0'/0/6"
)
DEMO_ORGANISATION = "Vrijwilligerscentrale Arnhem"
GARDEN = "Buurtmoestuin onderhouden"
GARDEN_CENTS_PER_HOUR = 800
PASSWORD = "moestuin-sleutel-2026"
# A small scrypt work factor keeps the test quick; a real keystore uses eth-account's default (2**18).
TEST_SCRYPT_N = 2**10


# --------------------------------------------------------------------------------------------------
# What the tests start from
# --------------------------------------------------------------------------------------------------


def organisation_id(service: Service, name: str = DEMO_ORGANISATION) -> int:
    with service.runtime.sessions() as session:
        found = session.scalar(select(Organisation.id).where(Organisation.name == name))
    assert found is not None
    return found


def verifier_api(service: Service) -> httpx.Client:
    return service.api(Role.VERIFIER, organisation_id(service))


def photo() -> bytes:
    """A real JPEG (a green square), so that the page shows it as an image."""
    out = io.BytesIO()
    Image.new("RGB", (320, 240), (46, 139, 87)).save(out, format="JPEG")
    return out.getvalue()


def activity_id(service: Service, title: str) -> int:
    with service.api() as admin:
        answer = admin.get("/municipality/activities")
    assert answer.status_code == 200, answer.text
    return next(a["id"] for a in answer.json() if a["title"] == title)


def until(check: Callable[[], bool], what: str) -> None:
    """Waits for the service's own workers (outbox, indexer) to make `check` true, asking again and again
    (the test never runs the workers itself: two indexers at once would read the same blocks)."""
    pause = threading.Event()
    for _ in range(600):
        if check():
            return
        pause.wait(0.1)
    raise AssertionError(f"still not {what} after a minute")


def admitted_resident(service: Service, name: str) -> int:
    """A resident with an own wallet, admitted through the API (the service registers them on chain)."""
    with service.api() as admin:
        answer = admin.post(
            "/municipality/residents",
            json={
                "name": name,
                "case_number": f"ORG-{secrets.token_hex(4)}",
                "area": "BU02020101",
                "wallet_address": Account.create().address,
                "consent": True,
            },
        )
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def task_for(service: Service, resident_id: int, title: str = GARDEN) -> int:
    with service.api() as admin:
        answer = admin.post(
            "/municipality/tasks",
            json={"activity_id": activity_id(service, title), "resident_ids": [resident_id]},
        )
    assert answer.status_code == 201, answer.text
    return answer.json()[0]["id"]


def finished_task(service: Service, name: str, units: int = 2) -> int:
    """A task of a new resident on the garden, started and finished with a photo as proof."""
    resident_id = admitted_resident(service, name)
    task_id = task_for(service, resident_id)
    with service.api(Role.RESIDENT, resident_id) as resident:
        assert resident.post(f"/residents/me/tasks/{task_id}/start").status_code == 200
        answer = resident.post(
            f"/residents/me/tasks/{task_id}/finish",
            data={"units": str(units)},
            files={"evidence": ("moestuin.jpg", photo(), "image/jpeg")},
        )
    assert answer.status_code == 200, answer.text
    return task_id


def unique(name: str) -> str:
    return f"{name} {secrets.token_hex(2)}"


def keystore(folder: Path, key: Any, password: str = PASSWORD) -> Path:
    """An Ethereum V3 keystore file of `key`, encrypted under `password` (scrypt)."""
    path = folder / f"sleutel-{secrets.token_hex(3)}.json"
    path.write_text(json.dumps(Account.encrypt(key, password, kdf="scrypt", iterations=TEST_SCRYPT_N)))
    return path


def claims_of(service: Service) -> dict[int, dict]:
    """The organisation's claims by task, through the API."""
    with verifier_api(service) as api:
        answer = api.get("/organisations/me/claims")
    assert answer.status_code == 200, answer.text
    return {claim["task_id"]: claim for claim in answer.json()}


def task_status(service: Service, task_id: int) -> str:
    with verifier_api(service) as api:
        answer = api.get("/organisations/me/tasks")
    assert answer.status_code == 200, answer.text
    return next(task["status"] for task in answer.json() if task["id"] == task_id)


def approve(service: Service, task_id: int) -> None:
    """The municipality approves the task's claim, once the resident is registered on chain."""
    claim = claims_of(service)[task_id]
    with service.api() as admin:
        resident = f"/municipality/residents/{claim['resident_id']}"
        until(lambda: admin.get(resident).json()["registration"]["status"] == "done", "registered")
        answer = admin.post(f"/municipality/claims/{claim['id']}/approve")
    assert answer.status_code == 200, answer.text


def signed_in(page: Page, service: Service) -> Page:
    sign_in(page, service.token(Role.VERIFIER, organisation_id(service)))
    return page


def choose_keystore(page: Page, path: Path, password: str) -> None:
    page.get_by_label("Sleutelbestand", exact=True).set_input_files(str(path))
    page.get_by_label("Wachtwoord van het sleutelbestand").fill(password)
    page.get_by_role("button", name="Verifiëren en ondertekenen", exact=True).click()


def sign_with_keystore(page: Page, path: Path, password: str = PASSWORD) -> None:
    """Signs in the page and waits for the service's answer to the posted signature."""
    with page.expect_response(lambda answer: answer.request.method == "POST"):
        choose_keystore(page, path, password)
    page.wait_for_load_state()


# --------------------------------------------------------------------------------------------------
# The portal and signing with a keystore file
# --------------------------------------------------------------------------------------------------


def test_the_portal_shows_its_activities_and_the_tasks_of_residents_on_them(tablet, service):
    name = unique("Daan Visser")
    finished_task(service, name)
    not_started = unique("Bo Meijer")
    task_for(service, admitted_resident(service, not_started))
    signed_in(tablet, service)
    assert tablet.get_by_role("heading", level=1).inner_text() == DEMO_ORGANISATION
    garden = tablet.get_by_role("region", name=GARDEN, exact=True)
    expect(garden).to_contain_text("€ 8,00 per uur")
    row = garden.get_by_role("row").filter(has_text=name)
    expect(row).to_contain_text("Afgerond: wacht op uw controle")
    expect(row).to_contain_text("€ 16,00")
    expect(tablet.get_by_role("region", name="Taalcafé begeleiden", exact=True)).to_be_visible()
    waiting = tablet.get_by_role("region", name="Wacht op uw controle")
    expect(waiting.get_by_role("link", name=re.compile(re.escape(name)))).to_be_visible()
    expect(garden.get_by_role("row").filter(has_text=not_started)).to_contain_text(
        "Gegeven, nog niet begonnen"
    )
    expect(tablet.get_by_text(DEMO_VERIFIER.address).first).to_be_visible()  # the key that signs for it
    assert_accessible(tablet)
    screenshot(tablet, "organisation-home")

    tablet.get_by_label("Toon taken").select_option("finished")
    tablet.get_by_role("button", name="Tonen").click()
    tablet.wait_for_url("**/organisatie?toon=finished")
    assert garden.get_by_role("row").filter(has_text=not_started).count() == 0
    expect(garden.get_by_role("row").filter(has_text=name)).to_be_visible()

    switch_language(tablet, "en")
    assert_english(tablet)
    expect(tablet.get_by_role("heading", name="Your activities")).to_be_visible()
    assert_accessible(tablet)


def test_a_finished_task_is_signed_with_the_keystore_file_in_the_page_and_becomes_a_claim(
    tablet, service, tmp_path
):
    name = unique("Eva de Boer")
    task_id = finished_task(service, name, units=3)
    path = keystore(tmp_path, DEMO_VERIFIER.key)
    signed_in(tablet, service)
    open_finished_task(tablet, GARDEN, name)
    expect(tablet.get_by_text("Taak van " + name)).to_be_visible()
    proof = tablet.get_by_role("img", name=re.compile("Het bewijs dat"))
    expect(proof).to_be_visible()
    assert tablet.evaluate("document.querySelector('.evidence img').naturalWidth") == 320  # the photo itself
    expect(tablet.get_by_text("€ 24,00").first).to_be_visible()
    assert_accessible(tablet)
    screenshot(tablet, "organisation-task")

    posted: list[str] = []

    def note(request: Any) -> None:
        if request.method == "POST":
            posted.append(request.post_data or "")

    tablet.on("request", note)
    verify_task(tablet, GARDEN, name, path, PASSWORD)
    assert_accessible(tablet)
    screenshot(tablet, "organisation-task-signed")

    claim = claims_of(service)[task_id]
    assert claim["status"] == "attested"
    assert claim["verifier"] == DEMO_VERIFIER.address
    assert claim["amount_cents"] == 3 * GARDEN_CENTS_PER_HOUR
    assert task_status(service, task_id) == "attested"
    # only the signature and its deadline left the page: never the key file or its password
    assert len(posted) == 1 and "signature=0x" in posted[0] and "deadline=" in posted[0]
    assert PASSWORD not in posted[0] and "ciphertext" not in posted[0]

    # until the municipality decides, the task can be signed again (the last signature counts)
    tablet.get_by_text("Opnieuw ondertekenen", exact=True).click()
    sign_with_keystore(tablet, path)
    expect(tablet.get_by_role("status").filter(has_text="Ondertekend.")).to_be_visible()
    assert len(posted) == 2 and claims_of(service)[task_id]["id"] == claim["id"]

    switch_language(tablet, "en")
    assert_english(tablet)
    expect(tablet.get_by_text("Sign again", exact=True)).to_be_visible()
    assert_accessible(tablet)


def test_a_wallet_in_the_browser_signs_over_eip_1193_and_the_claim_is_recorded(tablet, service):
    name = unique("Fatima Yilmaz")
    task_id = finished_task(service, name)
    asked: list[tuple[str, list]] = []

    def wallet(method: str, params: list) -> Any:
        """A wallet extension's answers, signing for real with the demo verifier's key."""
        asked.append((method, params))
        if method == "eth_requestAccounts":
            return [DEMO_VERIFIER.address]
        if method == "eth_signTypedData_v4":
            assert params[0] == DEMO_VERIFIER.address
            signed = Account.sign_typed_data(DEMO_VERIFIER.key, full_message=json.loads(params[1]))
            return "0x" + bytes(signed.signature).hex()
        raise ValueError(method)

    tablet.context.expose_function("socialcoinTestWallet", wallet)
    tablet.context.add_init_script(
        "window.ethereum = {request: ({method, params}) =>"
        " window.socialcoinTestWallet(method, params || [])};"
    )
    signed_in(tablet, service)
    open_finished_task(tablet, GARDEN, name)
    tablet.get_by_label("Met een wallet in deze browser").check()
    expect(tablet.get_by_label("Sleutelbestand", exact=True)).to_be_hidden()
    assert_accessible(tablet)
    screenshot(tablet, "organisation-task-wallet")
    tablet.get_by_role("button", name="Verifiëren en ondertekenen met mijn wallet").click()
    tablet.wait_for_url("**/organisatie/taken/*?ondertekend=1")
    expect(tablet.get_by_role("status").filter(has_text="Ondertekend.")).to_be_visible()

    assert [method for method, _ in asked] == ["eth_requestAccounts", "eth_signTypedData_v4"]
    typed = json.loads(asked[1][1][1])
    assert typed["primaryType"] == "Attestation" and "EIP712Domain" in typed["types"]
    claim = claims_of(service)[task_id]
    assert (claim["status"], claim["verifier"]) == ("attested", DEMO_VERIFIER.address)
    assert claim["deadline"] == typed["message"]["deadline"]


# --------------------------------------------------------------------------------------------------
# Refusals, in plain words
# --------------------------------------------------------------------------------------------------


def test_a_key_the_municipality_did_not_authorise_is_refused_and_no_claim_is_recorded(
    tablet, service, tmp_path
):
    name = unique("Gijs Smit")
    task_id = finished_task(service, name)
    stranger = Account.create()
    signed_in(tablet, service)
    open_finished_task(tablet, GARDEN, name)
    sign_with_keystore(tablet, keystore(tmp_path, stranger.key))
    alert = tablet.get_by_role("alert")
    expect(alert).to_contain_text("Niet ondertekend.")
    expect(alert).to_contain_text(stranger.address)
    expect(alert).to_contain_text("mag niet voor uw organisatie ondertekenen")
    assert_accessible(tablet)
    screenshot(tablet, "organisation-refused-key")
    assert task_id not in claims_of(service)
    assert task_status(service, task_id) == "finished"
    # the page still offers to sign, with the right key this time
    sign_with_keystore(tablet, keystore(tmp_path, DEMO_VERIFIER.key))
    expect(tablet.get_by_role("status").filter(has_text="Ondertekend.")).to_be_visible()
    assert claims_of(service)[task_id]["verifier"] == DEMO_VERIFIER.address


def test_a_wrong_keystore_password_is_named_at_the_field_and_nothing_is_sent(tablet, service, tmp_path):
    name = unique("Hanna Bakker")
    task_id = finished_task(service, name)
    path = keystore(tmp_path, DEMO_VERIFIER.key)
    signed_in(tablet, service)
    open_finished_task(tablet, GARDEN, name)
    posts: list[str] = []
    tablet.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    choose_keystore(tablet, path, "niet-het-wachtwoord")
    password = tablet.get_by_label("Wachtwoord van het sleutelbestand")
    expect(tablet.get_by_text("Met dit wachtwoord gaat het sleutelbestand niet open")).to_be_visible()
    expect(password).to_be_focused()
    expect(password).to_have_attribute("aria-invalid", "true")
    assert_accessible(tablet)
    screenshot(tablet, "organisation-wrong-password")
    assert posts == [] and task_id not in claims_of(service)

    # a file that is no key file at all
    not_a_key = tmp_path / "boodschappen.json"
    not_a_key.write_text('{"melk": 2}')
    choose_keystore(tablet, not_a_key, PASSWORD)
    expect(tablet.get_by_text("Dit is geen sleutelbestand")).to_be_visible()
    assert posts == []

    switch_language(tablet, "en")
    assert_english(tablet)
    tablet.get_by_label("Key file", exact=True).set_input_files(str(path))
    tablet.get_by_label("Password of the key file").fill("not-the-password")
    tablet.get_by_role("button", name="Verify and sign", exact=True).click()
    expect(tablet.get_by_text("This password does not open the key file")).to_be_visible()
    assert_english(tablet)
    assert posts == [] and task_id not in claims_of(service)


def test_without_a_wallet_in_the_browser_the_page_says_so(tablet, service):
    name = unique("Iris Mulder")
    finished_task(service, name)
    signed_in(tablet, service)
    open_finished_task(tablet, GARDEN, name)
    tablet.get_by_label("Met een wallet in deze browser").check()
    tablet.get_by_role("button", name="Verifiëren en ondertekenen met mijn wallet").click()
    expect(tablet.get_by_role("alert")).to_contain_text("In deze browser is geen wallet gevonden")
    assert_accessible(tablet)


def test_a_signature_whose_deadline_passed_is_refused_and_signing_again_works(tablet, service, tmp_path):
    """A page left open past the signature's validity: here the posted deadline is set in the past on its
    way (as after two weeks), and the service refuses it before anything is recorded."""
    name = unique("Jan de Wit")
    task_id = finished_task(service, name)
    path = keystore(tmp_path, DEMO_VERIFIER.key)
    signed_in(tablet, service)
    open_finished_task(tablet, GARDEN, name)

    def expired(route):
        body = re.sub(r"deadline=\d+", "deadline=1700000000", route.request.post_data or "")
        route.continue_(post_data=body)

    tablet.route("**/attestatie", expired)
    sign_with_keystore(tablet, path)
    alert = tablet.get_by_role("alert")
    expect(alert).to_contain_text("De geldigheid van de handtekening (deadline) klopt niet")
    expect(alert).to_contain_text("Onderteken opnieuw op deze pagina")
    assert task_id not in claims_of(service)
    tablet.unroute("**/attestatie")
    sign_with_keystore(tablet, path)
    expect(tablet.get_by_role("status").filter(has_text="Ondertekend.")).to_be_visible()
    assert claims_of(service)[task_id]["status"] == "attested"


def test_a_task_the_municipality_already_decided_cannot_be_signed_again(tablet, service, tmp_path):
    """Two colleagues: one signs while the other still has the page open; the municipality approves; the
    second signature is refused in plain words and changes nothing."""
    name = unique("Kees Hendriks")
    task_id = finished_task(service, name)
    path = keystore(tmp_path, DEMO_VERIFIER.key)
    signed_in(tablet, service)
    open_finished_task(tablet, GARDEN, name)
    second = tablet.context.new_page()
    second.goto(tablet.url)  # the colleague's page, open on the same task
    sign_with_keystore(tablet, path)
    expect(tablet.get_by_role("status").filter(has_text="Ondertekend.")).to_be_visible()
    approve(service, task_id)

    sign_with_keystore(second, path)
    alert = second.get_by_role("alert")
    expect(alert).to_contain_text("Over deze taak is al besloten")
    assert_accessible(second)
    screenshot(second, "organisation-already-decided")
    expect(second.get_by_role("button", name="Verifiëren en ondertekenen", exact=True)).to_have_count(0)
    assert claims_of(service)[task_id]["status"] in ("approved", "minted")
    second.close()


def test_an_unfinished_task_has_nothing_to_sign(tablet, service):
    name = unique("Lotte Peters")
    resident_id = admitted_resident(service, name)
    task_id = task_for(service, resident_id)
    signed_in(tablet, service)
    tablet.goto(f"/organisatie/taken/{task_id}")
    expect(tablet.get_by_text("Deze taak is nog niet afgerond")).to_be_visible()
    expect(tablet.get_by_role("button", name="Verifiëren en ondertekenen", exact=True)).to_have_count(0)
    assert_accessible(tablet)
    answer = tablet.request.get(f"/organisatie/taken/{task_id}/bewijs")
    assert answer.status == 404


# --------------------------------------------------------------------------------------------------
# What was minted; who may see what
# --------------------------------------------------------------------------------------------------


def test_the_claims_page_shows_what_was_minted_for_the_organisations_checks(tablet, service, tmp_path):
    name = unique("Mila Jansen")
    task_id = finished_task(service, name, units=4)
    signed_in(tablet, service)
    verify_task(tablet, GARDEN, name, keystore(tmp_path, DEMO_VERIFIER.key), PASSWORD)
    tablet.get_by_role("link", name="Uitbetaalde munten").click()
    row = tablet.get_by_role("row").filter(has_text=name)
    expect(row).to_contain_text("Wacht op de gemeente")
    expect(row).to_contain_text("€ 32,00")

    approve(service, task_id)
    until(lambda: claims_of(service)[task_id]["status"] == "minted", "minted")
    tablet.reload()
    expect(row).to_contain_text("Uitbetaald")
    minted = sum(c["amount_cents"] for c in claims_of(service).values() if c["status"] == "minted")
    paid = tablet.get_by_role("listitem").filter(has=tablet.get_by_role("heading", name="Uitbetaald"))
    expect(paid).to_contain_text(f"€ {minted // 100},{minted % 100:02d}")
    assert_accessible(tablet)
    screenshot(tablet, "organisation-claims")

    tablet.get_by_label("Toon aanvragen").select_option("minted")
    tablet.get_by_role("button", name="Tonen").click()
    expect(tablet.get_by_role("row").filter(has_text=name)).to_be_visible()
    assert tablet.get_by_role("row").filter(has_text="Wacht op de gemeente").count() == 0
    row.get_by_role("link").click()
    expect(tablet.get_by_text("U heeft deze taak ondertekend.")).to_be_visible()

    tablet.goto("/organisatie/claims")
    switch_language(tablet, "en")
    assert_english(tablet)
    expect(tablet.get_by_role("heading", name="Coins paid out for your checks")).to_be_visible()
    assert_accessible(tablet)


def test_another_organisation_sees_neither_the_tasks_nor_their_proof(tablet, service):
    task_id = finished_task(service, unique("Noah Vos"))
    with transaction(service.runtime.sessions) as session:
        other = register_organisation(
            session,
            service.runtime.settings,
            name=unique("Sportclub Presikhaaf"),
            area="GM0202",
            wallet_address=Account.create().address,
        ).id
    sign_in(tablet, service.token(Role.VERIFIER, other))
    expect(tablet.get_by_text("Uw organisatie controleert nog geen activiteiten")).to_be_visible()
    expect(tablet.get_by_text("nog geen sleutel van uw organisatie erkend")).to_be_visible()
    assert_accessible(tablet)
    for path in (f"/organisatie/taken/{task_id}", f"/organisatie/taken/{task_id}/bewijs"):
        answer = tablet.request.get(path)
        assert answer.status == 404, path


def test_the_portal_asks_for_the_access_code_first_and_serves_the_proof_to_its_organisation_only(service):
    task_id = finished_task(service, unique("Olaf Kok"))
    anonymous = httpx.get(f"{service.url}/organisatie/taken/{task_id}/bewijs", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/toegang?volgende=")
    verifier = {"Cookie": f"sc_session={service.token(Role.VERIFIER, organisation_id(service))}"}
    merchant = {"Cookie": f"sc_session={service.token(Role.MERCHANT, service.loaded.merchant_id)}"}
    with httpx.Client(base_url=service.url) as browser:
        proof = browser.get(f"/organisatie/taken/{task_id}/bewijs", headers=verifier)
        assert proof.status_code == 200 and proof.headers["content-type"] == "image/jpeg"
        assert proof.headers["content-disposition"].startswith("inline")
        assert proof.headers["x-content-type-options"] == "nosniff"
        assert proof.content == photo()
        as_merchant = browser.get(
            f"/organisatie/taken/{task_id}/bewijs", headers=merchant, follow_redirects=False
        )
        assert as_merchant.status_code == 303


# --------------------------------------------------------------------------------------------------
# At 360 px
# --------------------------------------------------------------------------------------------------


def test_every_page_of_the_portal_fits_a_phone(phone, service, tmp_path):
    name = unique("Pim Dekker")
    finished_task(service, name)
    signed_in(phone, service)
    assert_fits(phone)
    assert_accessible(phone)
    screenshot(phone, "organisation-home")
    open_finished_task(phone, GARDEN, name)
    assert_fits(phone)
    assert_accessible(phone)
    screenshot(phone, "organisation-task")
    sign_with_keystore(phone, keystore(tmp_path, DEMO_VERIFIER.key))
    expect(phone.get_by_role("status").filter(has_text="Ondertekend.")).to_be_visible()
    assert_fits(phone)
    screenshot(phone, "organisation-task-signed")
    phone.goto("/organisatie/claims")
    assert_fits(phone)
    assert_accessible(phone)
    screenshot(phone, "organisation-claims")
    switch_language(phone, "en")
    assert_english(phone)
    assert_fits(phone)
