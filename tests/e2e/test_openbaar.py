"""The public dashboard (/openbaar) in Chromium, without signing in: the figures per coin, area and month as
charts with their tables, the picture of who pays whom, the download page; axe-core finds nothing serious,
a 360 px phone scrolls down only, and every text is Dutch first and English after the switch. What the
figures are is tested in tests/backend/test_research_public.py."""

from __future__ import annotations

import io

import pandas as pd
from playwright.sync_api import Page, expect

from conftest import assert_accessible, assert_english, assert_fits, screenshot, switch_language

CHART_HEADINGS = (
    "Munten in omloop",
    "Aangemaakte sociale waarde, per wijk",
    "Omloopsnelheid: volume tussen gebruikers per euro in omloop",
    "Lokaal aandeel van het volume tussen gebruikers",
    "Actieve deelnemers",
    "Schulden afgelost met munten",
    "Wie betaalt wie: stromen tussen groepen (soort en wijk)",
)
# Hops before burn and cohorts: a table each (heading, table caption), no image.
TRACED_TABLES = (
    (
        "Hoe vaak een munt van hand wisselt voordat hij wordt ingewisseld",
        "Ingewisseld per aantal betalingen ervoor",
    ),
    ("Inwisselen en weglekken per maand van uitgifte", "Inwisselen en weglekken per maand van uitgifte"),
)
# Every image has loaded and shows something (its SVG came, and the page's policy let it be shown).
IMAGES_SHOWN = "() => [...document.images].every(image => image.complete && image.naturalWidth > 0)"


def check(page: Page, name: str) -> None:
    """axe and a screenshot (a phone: 360 px), then the same page in English, checked by axe too."""
    assert_accessible(page)
    screenshot(page, f"openbaar-{name}")
    switch_language(page, "en")
    assert_english(page)
    assert_accessible(page)
    switch_language(page, "nl")


def test_the_dashboard_shows_every_chart_beside_its_table_on_a_phone(phone, service):
    answer = phone.goto("/openbaar")
    assert answer is not None and answer.status == 200
    expect(phone.get_by_role("heading", level=1, name="Open cijfers")).to_be_visible()
    for heading in CHART_HEADINGS:
        expect(phone.get_by_role("heading", level=2, name=heading)).to_be_visible()
    expect(phone.get_by_role("table", name="Munten in omloop, per maand")).to_be_visible()
    expect(phone.get_by_role("table", name="Volume tussen groepen")).to_be_attached()
    for heading, table in TRACED_TABLES:
        expect(phone.get_by_role("heading", level=2, name=heading)).to_be_visible()
        expect(phone.get_by_role("table", name=table)).to_be_attached()
    phone.wait_for_function(IMAGES_SHOWN)
    assert phone.locator("img").count() == len(CHART_HEADINGS)
    assert_fits(phone)

    # One coin only: the charts and tables follow the choice.
    phone.get_by_label("Munt", exact=True).select_option(label="GKW")
    phone.get_by_role("button", name="Tonen").click()
    assert "munt=0x" in phone.url
    phone.wait_for_function(IMAGES_SHOWN)
    symbols = phone.get_by_role("table", name="Munten in omloop, per maand").get_by_role("columnheader")
    expect(symbols).to_have_text(["Maand", "GKW"])
    check(phone, "dashboard")


def test_a_wrong_month_is_named_at_its_field(phone, service):
    answer = phone.goto("/openbaar?van=januari")
    assert answer is not None and answer.status == 422
    expect(phone.get_by_label("Vanaf maand")).to_have_attribute("aria-invalid", "true")
    expect(phone.get_by_role("alert")).to_be_visible()
    assert_accessible(phone)


def test_the_download_page_gives_the_ledger_the_dictionary_and_how_to_rebuild(phone, service):
    phone.goto("/openbaar")
    phone.get_by_role("navigation", name="Onderdelen").get_by_role("link", name="Downloads").click()
    expect(phone.get_by_role("heading", level=1, name="Downloads")).to_be_visible()
    expect(phone.get_by_text("socialcoin research rebuild --rpc URL --registry 0x")).to_be_visible()
    with phone.expect_download() as transfers:
        phone.get_by_role("link", name="transfers.csv").click()
    frame = pd.read_csv(io.BytesIO(transfers.value.path().read_bytes()))
    assert len(frame) > 0 and {"source", "target", "value", "subtype"} <= set(frame.columns)
    with phone.expect_download() as dictionary:
        phone.get_by_role("link", name="data-dictionary.csv").click()
    meanings = pd.read_csv(io.BytesIO(dictionary.value.path().read_bytes()))
    assert (
        list(meanings.columns) == ["frame", "column", "type", "meaning"] and meanings["meaning"].notna().all()
    )
    assert_fits(phone)
    check(phone, "downloads")
