"""Effect measurement for the municipality: the figures of a period per wijk and programme, from a small world
whose figures are known by construction (residents in two wijken earn coins for verified hours, pay the
bakery, pay a service and pay off debts), compared with an earlier period and a baseline before the start."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from socialcoin.db.base import transaction
from socialcoin.db.models import Payment
from socialcoin.domain import effect
from socialcoin.domain.access import Role
from socialcoin.domain.effect import Figures, Period, compare, effect_report
from socialcoin.domain.errors import InvalidInput, NotFound
from test_activity_flow import World, make_world
from test_debts import record
from test_payments import PIN, admit, drive, key, merchant, mint
from test_services import offer

GEITENKAMP, PRESIKHAAF = "WK020201", "WK020202"


@dataclass
class Effects:
    world: World
    programme: int
    this_month: Period
    last_month: Period
    late_payment: int  # bram's payment, which the test may move into last month


def this_month() -> Period:
    return effect.month(f"{datetime.now(effect.TIME_ZONE):%Y-%m}")


def month_before(period: Period) -> Period:
    return effect.month(f"{period.start - timedelta(days=1):%Y-%m}")


def resident(w: World, case: str, area: str) -> tuple[int, str, dict]:
    resident_id, wallet = admit(w.runtime, case, area=area)
    return resident_id, wallet, w.auth(Role.RESIDENT, resident_id)


def pay(w: World, who: tuple, path: str, body: dict) -> int:
    answer = w.client.post(path, headers={**who[2], **key()}, json={**body, "pin": PIN})
    assert answer.status_code == 202, answer.text
    return answer.json()["id"]


def settle(w: World, who: tuple, amount: int, reference: str) -> None:
    mint(w.runtime, w.demo, "ARS", who[1], amount)
    drive(w.runtime)
    case = record(w.client, w.auth, who[0], amount=5000, reference=reference)
    pay(w, who, f"/residents/me/debts/{case['id']}/settlements", {"coin": "ARS", "amount_cents": amount})


def build(client, runtime, auth, demo) -> Effects:
    """Anna and Bram live in Geitenkamp, Carla in Presikhaaf.
    - Anna: 3 verified hours (€ 30 GKW), pays the bakery € 12 (of which it refunds € 2), pays off € 10 of a
      debt.
    - Bram: 2 verified hours (€ 20 GKW), pays the bakery € 5, pays off € 4 of a debt.
    - Carla: no hours; pays the sport pass (€ 15 of € 20 ASC granted), pays off € 20 of a debt."""
    w = make_world(client, runtime, auth, demo)
    programme = w.programme("GKW", 1_000_000)
    garden = w.activity(programme, value_cents_per_unit=1000)
    bakery_id, _ = merchant(runtime, "Bakkerij De Geit")
    anna = resident(w, "2026-E001", "BU02020101")
    bram = resident(w, "2026-E002", "BU02020102")
    carla = resident(w, "2026-E003", "BU02020201")
    w.drain()
    for who, hours in ((anna, 3), (bram, 2)):
        assert w.approve(w.claim(garden, who, hours)).status_code == 200
    w.drain()

    bought = pay(
        w, anna, "/residents/me/payments", {"merchant_id": bakery_id, "coin": "GKW", "amount_cents": 1200}
    )
    late = pay(
        w, bram, "/residents/me/payments", {"merchant_id": bakery_id, "coin": "GKW", "amount_cents": 500}
    )
    drive(runtime)
    paid = client.get(f"/residents/me/payments/{bought}", headers=anna[2]).json()["tx_hash"]
    refund = {"payment_tx_hash": paid, "amount_cents": 200, "pin": PIN}
    given_back = client.post(
        "/merchants/me/refunds", headers={**auth(Role.MERCHANT, bakery_id), **key()}, json=refund
    )
    assert given_back.status_code == 202, given_back.text
    mint(runtime, demo, "ASC", carla[1], 2000)
    drive(runtime)
    pay(w, carla, "/residents/me/orders", {"service_id": offer(client, auth)["id"], "coin": "ASC"})
    settle(w, anna, 1000, "CJIB-E-1")
    settle(w, bram, 400, "CJIB-E-2")
    settle(w, carla, 2000, "CJIB-E-3")
    drive(runtime)
    now = this_month()
    return Effects(w, programme, now, month_before(now), late)


@pytest.fixture
def effects(client, runtime, auth, demo) -> Effects:
    return build(client, runtime, auth, demo)


GEITENKAMP_FIGURES = Figures(
    residents=2,
    hours=5,
    social_value_cents=5000,
    coins_earned_cents=5000 + 1000 + 400,  # the hours, and the debt coins each was granted
    spent_locally_cents=1200 - 200 + 500,
    debts_settled_cents=1400,
    debt_residents=2,
    debt_reduced_mean_cents=700,
    debt_reduced_median_cents=700,
    merchants_reached=1,
)
PRESIKHAAF_FIGURES = Figures(
    residents=1,
    coins_earned_cents=2000 + 2000,
    services_cents=1500,
    debts_settled_cents=2000,
    debt_residents=1,
    debt_reduced_mean_cents=2000,
    debt_reduced_median_cents=2000,
)


def report(effects: Effects, period: Period, **filters) -> effect.EffectReport:
    with effects.world.runtime.sessions() as session:
        return effect_report(session, period, **filters)


def test_the_months_figures_per_wijk_add_up_to_the_total(effects):
    found = report(effects, effects.this_month)

    assert found.areas == {GEITENKAMP: GEITENKAMP_FIGURES, PRESIKHAAF: PRESIKHAAF_FIGURES}
    assert found.total == Figures(
        residents=3,
        hours=5,
        social_value_cents=5000,
        coins_earned_cents=10400,
        spent_locally_cents=1500,
        services_cents=1500,
        debts_settled_cents=3400,
        debt_residents=3,
        debt_reduced_mean_cents=1133,  # (1000 + 400 + 2000) / 3
        debt_reduced_median_cents=1000,
        merchants_reached=1,
    )
    for name in effect.FIGURES:
        if name not in effect.NOT_ADDITIVE:
            assert getattr(found.total, name) == sum(getattr(f, name) for f in found.areas.values()), name
    assert not found.before_start


def test_a_programme_and_a_wijk_narrow_the_figures(effects):
    programme = report(effects, effects.this_month, programme_id=effects.programme)
    # Only the programme's hours and its coin (GKW): no service, no debts, no debt coins.
    assert programme.areas == {
        GEITENKAMP: Figures(
            residents=2,
            hours=5,
            social_value_cents=5000,
            coins_earned_cents=5000,
            spent_locally_cents=1500,
            merchants_reached=1,
        )
    }
    wijk = report(effects, effects.this_month, area=PRESIKHAAF)
    assert wijk.areas == {PRESIKHAAF: PRESIKHAAF_FIGURES} and wijk.total == PRESIKHAAF_FIGURES


def test_a_baseline_before_the_programme_began_holds_nothing_and_says_so(effects):
    comparison = compare(effects.world.runtime.sessions(), effects.last_month, effects.this_month)
    assert comparison.earlier.before_start and not comparison.later.before_start
    assert comparison.earlier.areas == {} and comparison.earlier.total == Figures()
    by_name = {c.figure: c for c in comparison.total}
    assert (by_name["hours"].earlier, by_name["hours"].later, by_name["hours"].difference) == (0, 5, 5)
    assert by_name["hours"].percent is None  # nothing to compare with
    assert set(comparison.areas) == {GEITENKAMP, PRESIKHAAF}


def test_two_periods_compare_figure_by_figure(effects):
    # Bram's payment confirmed on the second day of last month instead.
    with transaction(effects.world.runtime.sessions) as session:
        payment = session.scalar(select(Payment).where(Payment.id == effects.late_payment))
        payment.confirmed_at = effects.last_month.since.astimezone(UTC) + timedelta(days=1)

    comparison = compare(effects.world.runtime.sessions(), effects.last_month, effects.this_month)
    assert comparison.earlier.areas == {
        GEITENKAMP: Figures(residents=1, spent_locally_cents=500, merchants_reached=1)
    }
    assert comparison.later.areas[GEITENKAMP] == replace(GEITENKAMP_FIGURES, spent_locally_cents=1000)
    spent = {c.figure: c for c in comparison.areas[GEITENKAMP]}["spent_locally_cents"]
    assert (spent.earlier, spent.later, spent.difference, spent.percent) == (500, 1000, 500, 100.0)
    residents = {c.figure: c for c in comparison.total}["residents"]
    assert (residents.earlier, residents.later, residents.difference, residents.percent) == (1, 3, 2, 200.0)


def test_bad_periods_wijken_and_programmes_are_refused_naming_the_field(runtime):
    for text in ("2026-13", "2026-1", "november", ""):
        with pytest.raises(InvalidInput) as refused:
            effect.month(text, "compare_month")
        assert refused.value.field == "compare_month"
    with pytest.raises(InvalidInput) as empty:
        effect.between(effect.month("2026-11").end, effect.month("2026-11").start)
    assert empty.value.field == "to"
    for area in ("GM0202", "BU02020101", "WK0202", "Geitenkamp"):
        with pytest.raises(InvalidInput) as refused:
            effect.checked_wijk(area)
        assert refused.value.field == "area"
    with runtime.sessions() as session, pytest.raises(NotFound):
        effect_report(session, effect.month("2026-11"), programme_id=999)


# --------------------------------------------------------------------------------------------------
# The API: JSON, CSV and PDF with the same parameters
# --------------------------------------------------------------------------------------------------

EFFECT = "/municipality/reports/effect"


def pdf_pages(pdf: bytes) -> int:
    """The page count of a PDF, from its page tree's /Count (no PDF library here)."""
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    counts = [int(n) for n in re.findall(rb"/Count (\d+)", pdf)]
    assert counts, "a PDF has a page tree"
    return max(counts)


def test_the_report_comes_as_json_csv_and_pdf_with_the_same_figures(effects):
    w = effects.world
    params = {
        "month": f"{effects.this_month.start:%Y-%m}",
        "compare_month": f"{effects.last_month.start:%Y-%m}",
    }
    for role in (Role.ADMIN, Role.DEBT_COUNSELLOR):
        answer = w.client.get(EFFECT, headers=w.auth(role), params=params)
        assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["report"]["start"] == effects.this_month.start.isoformat()
    assert body["report"]["before_start"] is False and body["comparison"]["earlier"]["before_start"] is True
    assert [a["area"] for a in body["report"]["areas"]] == [GEITENKAMP, PRESIKHAAF]
    assert body["report"]["areas"][0]["figures"] == effect.figures_as_dict(GEITENKAMP_FIGURES)
    assert body["report"]["total"]["debt_reduced_median_cents"] == 1000
    hours = next(c for c in body["comparison"]["total"] if c["figure"] == "hours")
    assert hours == {"figure": "hours", "earlier": 0, "later": 5, "difference": 5, "percent": None}

    plain = {"month": params["month"]}
    sheet = w.client.get(EFFECT + ".csv", headers=w.admin, params=plain)
    assert sheet.status_code == 200 and sheet.headers["content-type"].startswith("text/csv")
    assert sheet.content.startswith(b"\xef\xbb\xbf")  # UTF-8 with a BOM, for Dutch Excel
    rows = list(csv.DictReader(io.StringIO(sheet.content.decode("utf-8-sig")), delimiter=";"))
    assert [(r["wijk"], r["periode"], r["voor_start"]) for r in rows] == [
        (GEITENKAMP, "periode", "nee"),
        (PRESIKHAAF, "periode", "nee"),
        ("totaal", "periode", "nee"),
    ]
    assert (rows[0]["uren"], rows[0]["sociale_waarde_eur"], rows[0]["lokaal_besteed_eur"]) == (
        "5",
        "50,00",
        "15,00",  # € 17 paid, € 2 refunded
    )
    assert (rows[2]["schulden_afgelost_eur"], rows[2]["aflossing_mediaan_eur"]) == ("34,00", "10,00")
    assert rows[0]["van"] == effects.this_month.start.isoformat()

    compared = w.client.get(EFFECT + ".csv", headers=w.admin, params=params)
    lines = list(csv.DictReader(io.StringIO(compared.content.decode("utf-8-sig")), delimiter=";"))
    total = {r["periode"]: r for r in lines if r["wijk"] == "totaal"}
    assert (total["eerder"]["voor_start"], total["later"]["voor_start"]) == ("ja", "nee")
    assert (total["eerder"]["deelnemers"], total["later"]["deelnemers"], total["verschil"]["deelnemers"]) == (
        "0",
        "3",
        "3",
    )
    assert total["verschil_procent"]["deelnemers"] == ""  # nothing to compare with before the start

    for query in (plain, params):
        pdf = w.client.get(
            EFFECT + ".pdf", headers=w.admin, params={**query, "programme_id": effects.programme}
        )
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        assert pdf_pages(pdf.content) >= 1
        assert b"DejaVuSans" in pdf.content  # a font with every letter of a wijk's or programme's name
        assert b"Effectmeting" in pdf.content


def test_bad_parameters_are_refused_naming_the_field_and_residents_see_nothing(client, auth):
    admin = auth(Role.ADMIN)
    for params, field in (
        ({}, "month"),
        ({"month": "2026-13"}, "month"),
        ({"month": "2026-11", "from": "2026-11-01"}, "from"),
        ({"from": "2026-11-01"}, "to"),
        ({"from": "2026-11-30", "to": "2026-11-01"}, "to"),
        ({"from": "30-11-2026", "to": "2026-12-01"}, "from"),
        ({"month": "2026-11", "compare_month": "oktober"}, "compare_month"),
        ({"month": "9999-12"}, "month"),
        ({"from": "0001-01-01", "to": "2026-12-01"}, "from"),
        ({"month": "2026-11", "compare_from": "2026-10-01", "compare_to": "9999-12-31"}, "compare_to"),
        ({"month": "2026-11", "compare_to": "2026-11-01"}, "compare_from"),
        ({"month": "2026-11", "area": "BU02020101"}, "area"),
        ({"month": "2026-11", "programme_id": "0"}, "programme_id"),
    ):
        for suffix in ("", ".csv", ".pdf"):
            answer = client.get(EFFECT + suffix, headers=admin, params=params)
            assert answer.status_code == 422, (params, answer.text)
            assert answer.headers["content-type"].startswith("application/problem+json")
            assert answer.json()["field"] == field, (params, answer.json())
    assert (
        client.get(EFFECT, headers=admin, params={"month": "2026-11", "programme_id": 999}).status_code == 404
    )
    for role in (Role.RESIDENT, Role.MERCHANT, Role.VERIFIER):
        assert client.get(EFFECT, headers=auth(role, 1), params={"month": "2026-11"}).status_code == 403
    assert client.get(EFFECT, params={"month": "2026-11"}).status_code == 401
