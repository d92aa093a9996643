"""socialcoin report effect: the council's monthly report from the backend, as JSON, CSV and PDF, the same
as the API serves it (the figures themselves are tested in tests/backend/test_effect_report.py)."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

EFFECT = "/municipality/reports/effect"


def months() -> tuple[str, str]:
    """This month and the one before, in Dutch time."""
    today = datetime.now(ZoneInfo("Europe/Amsterdam")).date()
    before = date(today.year, today.month, 1) - timedelta(days=1)
    return f"{today:%Y-%m}", f"{before:%Y-%m}"


def test_the_report_is_written_as_json_csv_and_pdf_as_the_api_serves_it(cli_run, api, tmp_path):
    month, earlier = months()
    as_json = tmp_path / "effect.json"
    result = cli_run("report", "effect", "--month", month, "--format", "json", "--out", as_json)
    assert result.exit_code == 0, result.output
    served = api.get(EFFECT, params={"month": month}).json()
    assert json.loads(as_json.read_text()) == served
    assert "bestand / file" in result.stdout and str(served["report"]["total"]["residents"]) in result.stdout

    as_csv = tmp_path / "effect.csv"
    args = ("--month", month, "--compare-month", earlier, "--area", "WK020201")
    result = cli_run("report", "effect", *args, "--format", "csv", "--out", as_csv, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["file"] == str(as_csv)
    params = {"month": month, "compare_month": earlier, "area": "WK020201"}
    assert as_csv.read_bytes() == api.get(EFFECT + ".csv", params=params).content
    assert as_csv.read_bytes().startswith(b"\xef\xbb\xbfwijk;periode;van;tot;voor_start;deelnemers;")

    as_pdf = tmp_path / "effect.pdf"
    result = cli_run("report", "effect", *args, "--out", as_pdf)  # PDF is the default
    assert result.exit_code == 0, result.output
    pdf = as_pdf.read_bytes()
    assert pdf.startswith(b"%PDF-") and int(re.findall(rb"/Count (\d+)", pdf)[0]) >= 1


def test_a_wrong_month_is_refused_by_the_backend_naming_the_field_and_nothing_is_written(cli_run, tmp_path):
    target = tmp_path / "effect.pdf"
    result = cli_run("report", "effect", "--month", "2026-13", "--out", target, "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["error"]["code"] == "month_invalid"
    assert "2026-13" in result.stderr and not target.exists()
    wijk = cli_run("report", "effect", "--month", "2026-11", "--area", "Geitenkamp", "--out", target)
    assert wijk.exit_code == 1 and "WK020201" in wijk.stderr and not target.exists()


def test_report_on_its_own_still_shows_the_budgets(cli_run, api):
    result = cli_run("report", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout) == api.get("/municipality/budgets").json()
