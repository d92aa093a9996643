"""The municipality portal's effect report (/gemeente/effect): the month's figures per wijk, a comparison with
another month, the PDF and the CSV to download; for admins and debt counsellors, in Dutch and English, at
360 px. The figures themselves are tested in tests/backend/test_effect_report.py."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import expect
from test_municipality import check_page, enter, staff  # noqa: F401 - fixtures

from socialcoin.domain.access import Role


def months() -> tuple[str, str]:
    today = datetime.now(ZoneInfo("Europe/Amsterdam")).date()
    return f"{today:%Y-%m}", f"{date(today.year, today.month, 1) - timedelta(days=1):%Y-%m}"


def test_the_effect_report_shows_the_month_compares_and_downloads(tablet, service, staff, enter, tmp_path):  # noqa: F811
    month, earlier = months()
    enter(tablet, Role.DEBT_COUNSELLOR)
    tablet.goto("/gemeente")
    tablet.get_by_role("navigation", name="Gemeenteportaal").get_by_role("link", name="Effect").click()
    expect(tablet.get_by_role("heading", level=1, name="Effectmeting")).to_be_visible()
    figures = tablet.get_by_role("table", name="Cijfers per wijk")
    expect(figures.get_by_role("columnheader", name="Totaal")).to_be_visible()
    expect(figures.get_by_role("rowheader", name="Inwoners die meededen")).to_be_visible()
    assert tablet.get_by_label("Maand").input_value() == month

    tablet.get_by_label("Vergelijken met (mag leeg)").fill(earlier)
    tablet.get_by_role("button", name="Tonen").click()
    expect(tablet.get_by_role("table", name="Totaal vergeleken")).to_be_visible()
    assert f"vergelijk={earlier}" in tablet.url

    with tablet.expect_download() as pdf:
        tablet.get_by_role("link", name="Downloaden als pdf").click()
    content = pdf.value.path().read_bytes()
    assert content.startswith(b"%PDF-") and int(re.findall(rb"/Count (\d+)", content)[0]) >= 1
    with tablet.expect_download() as sheet:
        tablet.get_by_role("link", name="Downloaden als spreadsheet (csv)").click()
    assert sheet.value.suggested_filename == f"effectmeting-{month}.csv"
    assert sheet.value.path().read_bytes().startswith(b"\xef\xbb\xbfwijk;periode;van;tot;voor_start;")
    check_page(tablet, "effect")


def test_a_wrong_month_or_wijk_is_named_at_its_field(tablet, service, staff, enter):  # noqa: F811
    enter(tablet, Role.ADMIN)
    for query, field in (("maand=2026-13", "Maand"), ("maand=2026-11&wijk=Geitenkamp", "Wijk (mag leeg)")):
        answer = tablet.goto(f"/gemeente/effect?{query}")
        assert answer is not None and answer.status == 422
        expect(tablet.get_by_label(field)).to_have_attribute("aria-invalid", "true")
        expect(tablet.get_by_role("alert")).to_be_visible()
    check_page(tablet, "effect-refused", english=False)
