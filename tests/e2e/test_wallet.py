"""The resident's wallet in a phone's browser (360 px): balances per coin in plain words, messages and open
tasks; the history by period with its statements (CSV and PDF); tasks started and finished with a photo,
and suggestions; where each coin can be spent; the page about the key; installable and readable offline.
Every page is checked with axe, for fitting the screen and in English.

Each test admits residents of its own (the session's service is shared with the other pages' tests)."""

from __future__ import annotations

import base64
import csv
import gzip
import io
import os
import re
import uuid
import zlib
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from journey_wallet import (
    activate,
    balance_text,
    coin_card,
    open_history,
    sign_in,
    start_and_finish_task,
    task_card,
)
from PIL import Image
from playwright.sync_api import Page, expect
from sqlalchemy import select

from conftest import (
    WALLET_JS_BUDGET,
    Service,
    assert_accessible,
    assert_english,
    assert_fits,
    screenshot,
    switch_language,
)
from socialcoin.chain.contracts import Contract
from socialcoin.chain.outbox import Outbox
from socialcoin.chain.payloads import ContractCall
from socialcoin.db.base import transaction
from socialcoin.db.enums import Origin
from socialcoin.db.models import Activity
from socialcoin.db.types import utcnow
from socialcoin.domain import tasks
from socialcoin.domain.access import Role
from socialcoin.domain.admission import admit_resident

PIN = "73915"
GARDEN = "Buurtmoestuin onderhouden"
LANGUAGE_CAFE = "Taalcafé begeleiden"
WALLET_PAGES = [
    "/portemonnee",
    "/portemonnee/geschiedenis",
    "/portemonnee/taken",
    "/portemonnee/winkels",
    "/portemonnee/sleutels",
]


# --------------------------------------------------------------------------------------------------
# A resident of the test's own
# --------------------------------------------------------------------------------------------------


def new_resident(service: Service, *, area: str = "BU02020101") -> tuple[int, str, str]:
    """Admits a resident with a PIN (registered on chain once this returns): (id, case number, wallet)."""
    case = f"E2E-W{uuid.uuid4().hex[:8].upper()}"
    with service.runtime.sessions() as session:
        resident = admit_resident(
            session,
            service.runtime.settings,
            name=f"Inwoner {case[-4:]}",
            case_number=case,
            area=area,
            pin=PIN,
            chain=service.runtime.chain,
        )
        found = (resident.id, case, resident.wallet_address)
    service.settle()
    return found


def grant(service: Service, coin: str, wallet: str, cents: int) -> None:
    """The municipality credits coins (an admin mint, as the demo's start bonus)."""
    with transaction(service.runtime.sessions) as session:
        Outbox.enqueue(
            session,
            f"e2e-wallet:{uuid.uuid4()}",
            ContractCall(Contract.ISSUER, "adminMint", [coin, wallet, cents, "0x" + uuid.uuid4().hex * 2]),
            signer="minter",
            origin=Origin.ADMINISTRATION,
        )
    service.settle()


def assign(service: Service, resident_id: int, title: str) -> int:
    with transaction(service.runtime.sessions) as session:
        activity = session.scalars(select(Activity).where(Activity.title == title)).one()
        (task,) = tasks.assign(session, activity.id, [resident_id])
        return task.id


def coin_address(service: Service, symbol: str) -> str:
    return service.deployment["coins"][symbol]


def pay_bakery(service: Service, resident_id: int, cents: int, reference: str) -> None:
    with service.api(Role.RESIDENT, resident_id) as api:
        answer = api.post(
            "/residents/me/payments",
            headers={"Idempotency-Key": str(uuid.uuid4())},
            json={
                "merchant_id": service.loaded.merchant_id,
                "coin": "GKW",
                "amount_cents": cents,
                "reference": reference,
                "pin": PIN,
            },
        )
    assert answer.status_code == 202, answer.text
    service.settle()


def photo(path: Path, size: tuple[int, int] = (64, 48), noise: bool = False) -> Path:
    """A JPEG as a phone's camera makes it (with noise: large, as a real photo is)."""
    if noise:
        image = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    else:
        image = Image.new("RGB", size, (40, 140, 60))
    image.save(path, "JPEG", quality=95)
    return path


def checked(page: Page, name: str) -> None:
    """What every wallet page must be: accessible, within a phone's width; a screenshot of it."""
    assert_accessible(page)
    assert_fits(page)
    screenshot(page, f"wallet-{name}")


def in_english(page: Page, name: str) -> None:
    """The page in English: no Dutch catalogue text left, accessible and within the screen (it stays in
    English)."""
    switch_language(page, "en")
    assert_english(page)
    assert_accessible(page)
    assert_fits(page)
    screenshot(page, f"wallet-{name}-en")


def plain(text: str) -> str:
    """Page text with the narrow and non-breaking spaces Babel writes in amounts and dates made plain."""
    return re.sub(r"[\u00a0\u202f]", " ", text)


# --------------------------------------------------------------------------------------------------
# Home
# --------------------------------------------------------------------------------------------------


def test_home_shows_each_coin_with_what_it_is_for_where_until_when_and_how_much_may_come_in(phone, service):
    resident_id, case, wallet = new_resident(service)
    grant(service, coin_address(service, "GKW"), wallet, 12_50)
    grant(service, coin_address(service, "ARS"), wallet, 30_00)
    assign(service, resident_id, LANGUAGE_CAFE)  # pays in ARS
    capped = create_capped_coin(service)
    grant(service, capped, wallet, 30_00)

    sign_in(phone, case, PIN)
    expect(phone.locator("[data-balances] .balance")).to_have_count(3)  # what bench/pages.py waits for
    assert balance_text(phone, "GKW") == "€ 12,50"
    assert balance_text(phone, "Socialcoin Arnhem - Schulden") == "€ 30,00"
    local = plain(coin_card(phone, "GKW").inner_text())
    assert "Voor boodschappen en uitjes in uw wijk." in local
    assert "In uw wijk (WK020201)" in local and "Geen einddatum." in local
    debt = plain(coin_card(phone, "ARS").inner_text())
    assert "Om schulden bij de gemeente af te lossen." in debt and "In uw gemeente (GM0202)" in debt
    assert "Meer verdienen met" in debt and LANGUAGE_CAFE in debt
    travel = plain(coin_card(phone, "WVV").inner_text())
    assert "U mag hoogstens € 50,00 hebben. Er mag nog € 20,00 bij." in travel
    assert "U kunt ze gebruiken tot" in travel
    coin_card(phone, "GKW").get_by_role("link", name="Waar kan ik ermee betalen?").is_visible()

    # Then the messages (the new task) and the open tasks.
    messages = phone.locator("ul.messages")
    expect(messages).to_contain_text(f"U heeft een nieuwe taak: '{LANGUAGE_CAFE}'")
    expect(phone.locator("ul.task-summary")).to_contain_text(LANGUAGE_CAFE)
    expect(phone.locator("ul.task-summary")).to_contain_text("Nog niet begonnen")
    checked(phone, "home")
    messages.get_by_role("button", name="Gelezen").first.click()
    expect(phone.locator("ul.messages .message-new")).to_have_count(0)
    in_english(phone, "home")
    expect(coin_card(phone, "GKW")).to_contain_text("For shopping and outings in your district.")


def create_capped_coin(service: Service) -> str:
    """A coin with an end date and a holding cap (once per session: one live coin per purpose and area)."""
    existing = {c["symbol"]: c for c in httpx.get(service.url + "/public/coins").json()}
    if "WVV" in existing:
        return existing["WVV"]["coin"]
    expiry = int((utcnow() + timedelta(days=400)).timestamp())
    with service.api() as api:
        answer = api.post(
            "/municipality/chain/coins",
            json={
                "name": "Socialcoin Geitenkamp - Vervoer",
                "symbol": "WVV",
                "purpose": "MOBILITY",
                "area": "WK020201",
                "expiry": expiry,
                "person_to_person": False,
                "holding_cap_cents": 50_00,
            },
        )
        assert answer.status_code == 202, answer.text
        service.settle()
        operation = api.get(f"/municipality/chain/operations/{answer.json()['id']}").json()
    assert operation["status"] == "done", operation
    return operation["result"]["coin"]


def test_a_resident_admitted_in_a_batch_activates_with_the_letters_code_and_sees_the_wallet(phone, service):
    case = f"E2E-A{uuid.uuid4().hex[:8].upper()}"
    row = {"line": 2, "name": "Inwoner Brief", "case_number": case, "area": "BU02020102"}
    with service.api() as api:
        answer = api.post("/municipality/residents/batch", json={"rows": [row]})
    assert answer.status_code == 200, answer.text
    (admitted,) = answer.json()["results"]
    service.settle()
    activate(phone, case, admitted["activation_code"], PIN)
    expect(phone.get_by_text("U heeft nog geen munten.")).to_be_visible()
    checked(phone, "home-empty")
    phone.get_by_role("button", name="Uitloggen").click()
    phone.wait_for_url(service.url + "/")
    sign_in(phone, case, PIN)  # the PIN chosen works from now on


def test_a_wallet_page_sends_who_is_not_signed_in_to_sign_in_and_back(phone, service):
    phone.goto("/portemonnee/winkels")
    phone.wait_for_url("**/inloggen?volgende=/portemonnee/winkels")


# --------------------------------------------------------------------------------------------------
# History and statements
# --------------------------------------------------------------------------------------------------


def pdf_text(data: bytes) -> str:
    """The text a PDF draws: its content streams, decoded by their own filters (reportlab writes them
    zlib-compressed and in ASCII85), without a PDF library."""
    texts = []
    for match in re.finditer(rb"<<((?:(?!<<).)*?)>>\s*stream\r?\n(.*?)\s*endstream", data, re.S):
        filters, raw = match.group(1), match.group(2)
        if b"/ASCII85Decode" in filters:
            raw = base64.a85decode(raw.strip().removesuffix(b"~>"))
        if b"/FlateDecode" in filters:
            raw = zlib.decompress(raw)
        texts.append(raw.decode("latin-1"))
    return "\n".join(texts)


def test_history_shows_who_what_when_by_period_and_the_statements_hold_the_same(phone, service, tmp_path):
    resident_id, case, wallet = new_resident(service)
    grant(service, coin_address(service, "GKW"), wallet, 15_00)
    grant(service, coin_address(service, "ARS"), wallet, 20_00)
    pay_bakery(service, resident_id, 7_50, "bon 4711")

    sign_in(phone, case, PIN)
    open_history(phone)
    entries = phone.locator("ul.history li.entry")
    expect(entries).to_have_count(3)
    newest = plain(entries.first.inner_text())
    assert "Betaald aan Bakkerij De Geitenkamp" in newest and "− € 7,50" in newest
    assert "kenmerk bon 4711" in newest and "Socialcoin Geitenkamp - Wijkmunt" in newest
    expect(entries.nth(2)).to_contain_text("Bijgeschreven door de gemeente")
    totals = plain(phone.locator("ul.totals").inner_text())
    assert "Ontvangen\n€ 15,00" in totals and "Uitgegeven\n€ 7,50" in totals and "Verschil\n€ 7,50" in totals
    checked(phone, "history")

    # The statements of the period shown.
    with phone.expect_download() as download:
        phone.get_by_role("link", name="Afschrift voor een spreadsheet (CSV)").click()
    raw = Path(download.value.path()).read_bytes()
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == [
        "Datum", "Tijd", "Wat", "Wie", "Munt", "Naam van de munt", "Bedrag", "Kenmerk", "Controlecode"
    ]  # fmt: skip
    assert len(rows) == 4
    paid = rows[-1]
    assert (paid[2], paid[3], paid[4], paid[6], paid[7]) == (
        "Betaald aan Bakkerij De Geitenkamp",
        "Bakkerij De Geitenkamp",
        "GKW",
        "-7,50",
        "bon 4711",
    )
    assert {row[6] for row in rows[1:3]} == {"15,00", "20,00"} and paid[8].startswith("0x")

    with phone.expect_download() as download:
        phone.get_by_role("link", name="Afschrift als pdf").click()
    data = Path(download.value.path()).read_bytes()
    assert data.startswith(b"%PDF")
    text = pdf_text(data)
    for expected in (
        "Afschrift van uw munten",
        f"Dossiernummer: {case}",
        f"Naam: Inwoner {case[-4:]}",
        "Periode: ",
        "Betaald aan Bakkerij De Geitenkamp \\(bon 4711\\)",
        "Bijgeschreven door de gemeente",
        "Totaal per munt",
        "Socialcoin Geitenkamp - Wijkmunt \\(GKW\\)",
        "7,50",
        "15,00",
        "20,00",
    ):
        assert expected in text, expected

    # Another period: nothing in it; a period the wrong way round is named and swapped.
    later = (utcnow() + timedelta(days=3)).date()
    phone.get_by_label("Van", exact=True).fill(later.isoformat())
    phone.get_by_label("Tot en met", exact=True).fill((later + timedelta(days=5)).isoformat())
    phone.get_by_role("button", name="Tonen").click()
    expect(phone.get_by_text("In deze periode kwam er niets binnen en ging er niets uit.")).to_be_visible()
    phone.get_by_label("Van", exact=True).fill((later + timedelta(days=5)).isoformat())
    phone.get_by_label("Tot en met", exact=True).fill(later.isoformat())
    phone.get_by_role("button", name="Tonen").click()
    expect(phone.get_by_role("alert")).to_contain_text("De einddatum ligt vóór de begindatum")
    expect(phone.get_by_label("Tot en met", exact=True)).to_have_attribute("aria-invalid", "true")
    checked(phone, "history-refused")
    in_english(phone, "history")


def test_a_statement_for_a_period_that_is_not_one_goes_back_to_the_history(service, phone):
    _id, case, _wallet = new_resident(service)
    sign_in(phone, case, PIN)
    phone.goto("/portemonnee/afschrift.csv?van=morgen&tot=2026-01-01")
    phone.wait_for_url("**/portemonnee/geschiedenis?van=morgen&tot=2026-01-01")
    expect(phone.get_by_role("alert")).to_contain_text("Vul een datum in")


# --------------------------------------------------------------------------------------------------
# Tasks
# --------------------------------------------------------------------------------------------------


def test_a_task_is_started_and_finished_with_a_photo_and_refusals_are_shown_in_the_page(
    phone, service, tmp_path
):
    resident_id, case, _wallet = new_resident(service)
    assign(service, resident_id, GARDEN)
    sign_in(phone, case, PIN)
    phone.get_by_role("navigation", name="Portemonnee").get_by_role("link", name="Taken").click()
    card = task_card(phone, GARDEN)
    expect(card).to_contain_text("Nog niet begonnen")
    expect(card.locator(".time-left")).to_contain_text(re.compile(r"Nog (29|30) dagen, tot "))
    checked(phone, "tasks")
    card.get_by_role("button", name="Begin aan deze taak").click()
    expect(phone.get_by_role("status").filter(has_text="U bent aan de taak begonnen")).to_be_visible()
    card = task_card(phone, GARDEN)
    expect(card).to_contain_text("U bent begonnen")
    photo_input = card.get_by_label("Foto van uw werk")
    assert photo_input.get_attribute("accept") == "image/*"
    assert photo_input.get_attribute("capture") == "environment"

    # Without a photo: refused, the field named, the hours kept.
    card.get_by_label("Hoeveel uur heeft u gewerkt?").fill("3")
    card.get_by_role("button", name="Taak afronden").click()
    expect(phone.get_by_role("alert")).to_contain_text("Voeg een foto van uw werk toe")
    card = task_card(phone, GARDEN)
    expect(card.get_by_label("Foto van uw werk")).to_have_attribute("aria-invalid", "true")
    expect(card.get_by_label("Hoeveel uur heeft u gewerkt?")).to_have_value("3")
    checked(phone, "task-refused-no-photo")

    # Not a photo: the domain's rule for proof, in its words.
    text_file = tmp_path / "notitie.txt"
    text_file.write_text("dit is geen foto")
    card.get_by_label("Foto van uw werk").set_input_files(str(text_file))
    card.get_by_role("button", name="Taak afronden").click()
    expect(phone.get_by_role("alert")).to_contain_text("Het bewijs moet een foto (JPEG, PNG, HEIC, WebP)")
    # No hours: named too.
    card = task_card(phone, GARDEN)
    card.get_by_label("Hoeveel uur heeft u gewerkt?").fill("")
    card.get_by_label("Foto van uw werk").set_input_files(str(photo(tmp_path / "tuin.jpg")))
    card.get_by_role("button", name="Taak afronden").click()
    expect(phone.get_by_role("alert")).to_contain_text("Vul in hoeveel u deed")
    # The language switch after a refused form goes back to the tasks; the refusals read in English too.
    in_english(phone, "tasks")
    expect(phone.get_by_role("heading", level=1)).to_have_text("My tasks")
    card = task_card(phone, GARDEN)
    card.get_by_role("button", name="Finish the task").click()
    expect(phone.get_by_role("alert")).to_contain_text("Fill in how much you did")
    assert_english(phone)
    screenshot(phone, "wallet-task-refused-en")
    switch_language(phone, "nl")

    # A photo as large as a phone's (over the 1 MB of other forms): finished.
    large = photo(tmp_path / "moestuin.jpg", size=(1400, 1000), noise=True)
    assert large.stat().st_size > 1024 * 1024
    start_and_finish_task(phone, GARDEN, large, units=3)
    expect(phone.locator("ul.earlier-tasks")).to_contain_text("Klaar. De organisatie bekijkt uw werk.")
    checked(phone, "task-finished")
    with service.api(Role.RESIDENT, resident_id) as api:
        (mine,) = [t for t in api.get("/residents/me/tasks").json() if t["activity"]["title"] == GARDEN]
    assert (mine["status"], mine["units"], mine["evidence_name"]) == ("finished", 3, "moestuin.jpg")


def test_a_suggestion_with_a_missing_field_is_named_and_a_full_one_is_sent(phone, service):
    _id, case, _wallet = new_resident(service)
    sign_in(phone, case, PIN)
    phone.goto("/portemonnee/taken")
    phone.get_by_label("Wat is de activiteit?").fill("Boodschappen voor buren")
    phone.get_by_role("button", name="Voorstel versturen").click()
    expect(phone.get_by_role("alert")).to_contain_text("De beschrijving is te kort")
    expect(phone.get_by_label("Wat doet u, en voor wie?")).to_have_attribute("aria-invalid", "true")
    expect(phone.get_by_label("Wat is de activiteit?")).to_have_value("Boodschappen voor buren")
    checked(phone, "suggestion-refused")
    phone.get_by_label("Wat doet u, en voor wie?").fill(
        "Eén keer per week boodschappen doen voor oudere buren."
    )
    phone.get_by_label("Per taak").check()
    phone.get_by_role("button", name="Voorstel versturen").click()
    expect(phone.get_by_role("status").filter(has_text="Bedankt voor uw voorstel")).to_be_visible()
    expect(phone.locator("ul.suggestions")).to_contain_text("Boodschappen voor buren")
    expect(phone.locator("ul.suggestions")).to_contain_text("Wacht op de gemeente")
    in_english(phone, "suggestion")


# --------------------------------------------------------------------------------------------------
# Where to pay, the key
# --------------------------------------------------------------------------------------------------


def test_where_to_pay_lists_per_coin_the_shops_that_take_it_with_their_district(phone, service):
    _id, case, wallet = new_resident(service)
    for symbol, cents in (("GKW", 5_00), ("ARS", 5_00), ("ASC", 5_00)):
        grant(service, coin_address(service, symbol), wallet, cents)
    sign_in(phone, case, PIN)
    phone.get_by_role("navigation", name="Portemonnee").get_by_role(
        "link", name="Waar kan ik betalen?"
    ).click()
    local = phone.locator("#munt-GKW")
    expect(local.locator("li.shop")).to_contain_text(["Bakkerij De Geitenkamp"])
    expect(local).to_contain_text("In uw wijk (WK020201)")
    expect(phone.locator("#munt-ARS")).to_contain_text("Winkels nemen deze munten niet aan")
    expect(phone.locator("#munt-ARS li.shop")).to_have_count(0)
    sport = phone.locator("#munt-ASC")
    expect(sport).to_contain_text("Nog geen winkels nemen deze munten aan")
    expect(sport).to_contain_text("Sportpas Arnhem")
    checked(phone, "shops")
    in_english(phone, "shops")


def test_the_key_page_says_in_plain_words_how_the_coins_are_kept(phone, service):
    _id, case, _wallet = new_resident(service)
    sign_in(phone, case, PIN)
    phone.get_by_role("link", name="Hoe wij uw munten veilig bewaren").click()
    expect(phone.get_by_role("heading", level=1, name="Uw sleutel")).to_be_visible()
    text = phone.locator("main").inner_text()
    assert "nooit met uw munten zonder uw pincode" in text
    assert "Telefoon kwijt? Uw munten zijn niet weg" in text
    assert "eigen Ethereum-wallet" in text
    checked(phone, "keys")
    in_english(phone, "keys")


# --------------------------------------------------------------------------------------------------
# Installable and offline
# --------------------------------------------------------------------------------------------------


def test_the_wallet_is_installable_and_its_service_worker_may_control_it(service):
    manifest = httpx.get(service.url + "/portemonnee/manifest.webmanifest")
    assert manifest.headers["content-type"].startswith("application/manifest+json")
    body = manifest.json()
    assert (body["start_url"], body["scope"], body["display"]) == (
        "/portemonnee",
        "/portemonnee",
        "standalone",
    )
    assert body["name"] == "Socialcoin portemonnee" and body["theme_color"]
    for icon in body["icons"]:
        answer = httpx.get(service.url + icon["src"])
        assert answer.status_code == 200 and answer.headers["content-type"] == icon["type"]
    worker = httpx.get(service.url + "/portemonnee/sw.js")
    assert worker.headers["content-type"].startswith("text/javascript")
    assert worker.headers["service-worker-allowed"] == "/portemonnee"
    assert "no-cache" in worker.headers["cache-control"]


def test_the_wallet_opens_offline_with_the_last_balances_and_their_time(phone, service):
    _id, case, wallet = new_resident(service)
    grant(service, coin_address(service, "GKW"), wallet, 9_25)
    sign_in(phone, case, PIN)
    expect(phone.locator("html[data-offline-ready]")).to_have_count(1)  # the worker keeps this page
    kept = phone.evaluate(
        """async () => {
          const page = await (await caches.match("/portemonnee", {cacheName: "wallet-pages-v1"})).text();
          return new DOMParser().parseFromString(page, "text/html")
            .getElementById("offline-notice").dataset.renderedAt;
        }"""
    )
    expect(phone.locator("#offline-notice")).to_be_hidden()

    phone.context.set_offline(True)
    try:
        phone.reload()
        notice = phone.locator("#offline-notice")
        expect(notice).to_be_visible()
        expect(notice).to_contain_text(re.compile(r"Laatst bijgewerkt op .+ om \d\d:\d\d — u bent offline"))
        assert notice.get_attribute("data-rendered-at") == kept  # the kept copy, not a new page
        assert plain(coin_card(phone, "GKW").locator(".amount").inner_text()) == "€ 9,25"
        screenshot(phone, "wallet-offline")
        assert_accessible(phone)
        assert_fits(phone)
    finally:
        phone.context.set_offline(False)
    phone.reload()
    expect(phone.locator("#offline-notice")).to_be_hidden()

    # Signing out forgets the kept page: a shared phone keeps no one's balances.
    phone.get_by_role("button", name="Uitloggen").click()
    phone.wait_for_url(service.url + "/")
    assert phone.evaluate("async () => (await caches.keys()).includes('wallet-pages-v1')") is False


@pytest.mark.parametrize("path", WALLET_PAGES)
def test_a_wallet_page_loads_less_than_60_kb_of_javascript_gzipped(phone, service, path):
    """Every script the page loads (its own and any library), and the service worker, gzipped."""
    _id, case, _wallet = shared_resident(service)
    sign_in(phone, case, PIN)
    responses: list = []
    phone.on("response", lambda response: responses.append(response))
    phone.goto(path)
    phone.wait_for_load_state("networkidle")
    scripts = {r.url: r.body() for r in responses if r.request.resource_type == "script"}
    loaded = {s for s in phone.evaluate("[...document.scripts].map(s => s.src)") if s}
    assert loaded and loaded <= set(scripts)
    scripts[service.url + "/portemonnee/sw.js"] = httpx.get(service.url + "/portemonnee/sw.js").content
    total = sum(len(gzip.compress(body, compresslevel=9)) for body in scripts.values())
    assert total <= WALLET_JS_BUDGET, f"{path} loads {total} bytes of JavaScript gzipped"


_shared: list[tuple[int, str, str]] = []


def shared_resident(service: Service) -> tuple[int, str, str]:
    if not _shared:
        _shared.append(new_resident(service))
    return _shared[0]
