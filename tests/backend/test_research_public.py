"""The public research figures (/public/research/..., no login): what the backend serves equals what
`socialcoin research rebuild` computes from the chain's logs alone for the same blocks; a group smaller than
k is visibly withheld; no name, case number or wallet address of a resident reaches any public answer; the
figures are computed once per indexed block."""

from __future__ import annotations

import hashlib
import io
import json
import re

import pandas as pd
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from socialcoin.cli.main import cli
from socialcoin.db.models import Resident
from socialcoin.research import charts, public
from socialcoin.research.exports import CHARTS_DIR, FIGURES_DIR, read_frame
from socialcoin.research.ledger import Ledger
from socialcoin.web import pages
from test_debts import record
from test_operations import accepted
from test_payments import PIN, drive, key, merchant, resident_with_coins

K = 3  # small enough that the groups of this test pass, and the two residents settling debts do not
TABLES = "/public/research/tables"


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"research_k_anonymity": K})


def shop_and_settle(client, runtime, demo, auth) -> dict[str, str]:
    """Three residents get GKW coins, two of them pay a bakery; one more settles a debt in ARS (as one of the
    demo's residents did). Returns the coins' addresses by symbol."""
    bakery_id, _ = merchant(runtime, "Bakkerij De Geit")
    payers = [resident_with_coins(runtime, demo, auth, f"2026-P{n:03d}", "GKW", 2000) for n in range(3)]
    for _, _, headers in payers[:2]:
        paid = {"merchant_id": bakery_id, "coin": "GKW", "amount_cents": 500, "reference": "bon", "pin": PIN}
        accepted(client.post("/residents/me/payments", headers={**headers, **key()}, json=paid))
    debtor_id, _, debtor = resident_with_coins(runtime, demo, auth, "2026-P100", "ARS", 3000)
    case = record(client, auth, debtor_id, amount=5000)
    settle = {"coin": "ARS", "amount_cents": 1200, "pin": PIN}
    accepted(
        client.post(f"/residents/me/debts/{case['id']}/settlements", headers={**debtor, **key()}, json=settle)
    )
    drive(runtime)
    return demo["coins"]


def drawn(svg: bytes) -> bytes:
    """An SVG without its clip paths' names: matplotlib names each by a hash of its rectangle's floats,
    which can differ in the last digit between two drawings of the same figures."""
    return re.sub(rb"p[0-9a-f]{10}\b", b"p", svg)


def served(client) -> dict[str, dict]:
    index = client.get("/public/research")
    assert index.status_code == 200, index.text
    assert [t["name"] for t in index.json()["tables"]] == [spec.name for spec in public.TABLES]
    tables = {}
    for table in index.json()["tables"]:
        answer = client.get(table["url"])
        assert answer.status_code == 200, answer.text
        tables[table["name"]] = answer.json()
    return tables


def test_the_served_figures_equal_those_rebuilt_from_the_chain_alone(
    client, runtime, demo, auth, chain, tmp_path
):
    coins = shop_and_settle(client, runtime, demo, auth)
    tables = served(client)
    last_block = tables["supply"]["last_block"]
    assert {t["last_block"] for t in tables.values()} == {last_block} and last_block > 0

    out = tmp_path / "export"
    registry = demo["contracts"]["ParticipantRegistry"]
    command = ["research", "rebuild", "--rpc", chain.url, "--registry", registry, "--out", str(out)]
    result = CliRunner().invoke(cli, [*command, "--to-block", str(last_block), "--k", str(K)])
    assert result.exit_code == 0, result.output
    rebuilt = Ledger(*(read_frame(out, name) for name in ("transfers", "participants", "coins")))
    expected = public.public_figures(rebuilt, K)
    for name, publication in expected.publications.items():
        assert tables[name]["cells"] == public.records(publication.cells), name
        assert tables[name]["margins"] == public.records(publication.margins), name
    # The rebuild's charts are the dashboard's, drawn by the same code from the same figures (in English).
    client.cookies.set(pages.LANGUAGE_COOKIE, "en")
    for name in [*charts.CHART_BY_NAME, charts.NETWORK]:
        served_image = client.get(f"/openbaar/grafiek/{name}.svg")
        assert drawn(served_image.content) == drawn((out / CHARTS_DIR / f"{name}.svg").read_bytes()), name
    client.cookies.delete(pages.LANGUAGE_COOKIE)

    # A published cell shows the rebuild's own figure; the debts settled by two residents are withheld.
    supply = pd.read_parquet(out / FIGURES_DIR / "supply.parquet")
    gkw = [c for c in tables["supply"]["cells"] if c["coin"] == coins["GKW"] and not c["suppressed"]]
    assert gkw, "the GKW mints rest on four residents and more"
    for cell in gkw:
        row = supply[(supply["coin"] == cell["coin"]) & (supply["month"] == cell["month"])].iloc[0]
        assert (cell["minted"], cell["burned"]) == (row["minted"], row["burned"])
    # The demo's five activities each rewarded one resident: withheld, values and all.
    social = tables["social_value"]["cells"]
    assert len(social) == 5 and all(c["suppressed"] and c["value"] is None for c in social)
    debts = [c for c in tables["debts_settled"]["cells"] if c["coin"] == coins["ARS"]]
    assert debts and all(c["suppressed"] and c["settled"] is None and c["residents"] is None for c in debts)
    rebuilt_debts = pd.read_parquet(out / FIGURES_DIR / "debts_settled.parquet")
    assert rebuilt_debts.loc[rebuilt_debts["coin"] == coins["ARS"], "settled"].sum() == 1000 + 1200

    # Filters: one coin, a month range, an area; a filter the table has no column for is refused.
    month = gkw[0]["month"]
    one = client.get(f"{TABLES}/supply", params={"coin": coins["GKW"], "from": month, "to": month}).json()
    assert {(c["coin"], c["month"]) for c in one["cells"]} == {(coins["GKW"], month)}
    assert {m["coin"] for m in one["margins"]} <= {coins["GKW"], "*"}
    flows = client.get(f"{TABLES}/network_flows", params={"area": "WK020201"}).json()
    assert all("WK020201" in (c["source_wijk"], c["target_wijk"]) for c in flows["cells"])
    refused = client.get(f"{TABLES}/lm3", params={"from": month})
    assert refused.status_code == 422 and refused.json()["field"] == "from"
    assert client.get(f"{TABLES}/supply", params={"area": "nowhere"}).status_code == 422


def test_no_public_answer_holds_a_name_a_case_number_or_a_residents_wallet(client, runtime, demo, auth):
    shop_and_settle(client, runtime, demo, auth)
    with runtime.sessions() as session:
        residents = session.execute(
            select(Resident.name, Resident.case_number, Resident.wallet_address)
        ).all()
    assert len(residents) >= 4
    paths = ("/public/research", "/public/research/dictionary", "/openbaar", "/openbaar/downloads")
    texts = [client.get(path).text for path in paths]
    texts += [json.dumps(table) for table in served(client).values()]
    everything = "\n".join(texts).lower()
    for name, case_number, wallet in residents:
        for secret in (name, case_number, wallet):
            assert secret.lower() not in everything, secret


def test_the_figures_are_computed_once_per_new_event_and_the_last_ones_served_while_computing(
    client, runtime, demo, auth, chain
):
    cache = public.FiguresCache()

    def figures():
        with runtime.sessions() as session:
            return cache.get(session, public.ledger_version(session), K)

    first = figures()
    assert figures() is first
    chain.mine(3)  # blocks without our events: nothing to compute again
    runtime.indexer.run_until_caught_up()
    assert figures() is first
    resident_with_coins(runtime, demo, auth, "2026-P200", "GKW", 700)  # new events indexed
    with cache._computing:  # as if another request were computing the newer figures
        assert figures() is first
    with runtime.sessions() as session:  # younger than the refresh time given: served as they are
        assert cache.get(session, public.ledger_version(session), K, refresh_seconds=3600) is first
    later = figures()
    assert later is not first and later.last_block > first.last_block and figures() is later


def test_the_public_pages_show_the_figures_with_their_charts_and_the_download_reads_back(
    client, runtime, demo, auth
):
    coins = shop_and_settle(client, runtime, demo, auth)
    page = client.get("/openbaar")
    assert page.status_code == 200 and "Open cijfers" in page.text
    for heading in ("Hoe vaak een munt van hand wisselt", "Inwisselen en weglekken per maand van uitgifte"):
        assert heading in page.text
    cohorts = client.get(f"{TABLES}/cohorts", params={"coin": coins["GKW"]}).json()
    assert cohorts["cells"] and {c["coin"] for c in cohorts["cells"]} == {coins["GKW"]}
    assert "cohorts" not in client.get("/public/research").json()["not_published"]
    dictionary = {t["name"]: t for t in client.get("/public/research/dictionary").json()["tables"]}
    roles = {c["name"]: c["role"] for c in dictionary["cohorts"]["columns"]}
    assert roles["debt_settlement"] == "value" and roles["leakage_share"] == "cell_only"
    assert {c["name"] for c in dictionary["hops_before_burn"]["columns"]} >= {"hops", "burned"}
    assert (
        "Content-Security-Policy" in page.headers
        and "unsafe-inline" not in page.headers["Content-Security-Policy"]
    )
    for chart in (
        "omloop",
        "sociale-waarde",
        "omloopsnelheid",
        "lokaal-aandeel",
        "actief",
        "schulden",
        "netwerk",
    ):
        assert f"/openbaar/grafiek/{chart}.svg" in page.text
        image = client.get(f"/openbaar/grafiek/{chart}.svg", params={"munt": coins["GKW"]})
        assert image.status_code == 200 and image.headers["content-type"] == "image/svg+xml"
        assert image.text.lstrip().startswith("<?xml") and "<script" not in image.text
    assert client.get("/openbaar/grafiek/nothing.svg").status_code == 404
    refused = client.get("/openbaar", params={"van": "januari"})
    assert refused.status_code == 422 and 'aria-invalid="true"' in refused.text

    downloads = client.get("/openbaar/downloads")
    assert downloads.status_code == 200 and "socialcoin research rebuild" in downloads.text
    names = ("transfers.parquet", "data-dictionary.csv", "public/supply.parquet", "public/cohorts.parquet")
    names += ("manifest.json",)
    for name in (*names, "charts/omloop.png", "charts/netwerk.svg"):
        assert f'href="/openbaar/downloads/{name}"' in downloads.text
    supply = client.get("/openbaar/downloads/public/supply.parquet")
    assert supply.status_code == 200
    served_cells = pd.read_parquet(io.BytesIO(supply.content))
    assert public.records(served_cells) == client.get(f"{TABLES}/supply").json()["cells"]
    assert client.get("/openbaar/downloads/private.csv").status_code == 404
    manifest = client.get("/openbaar/downloads/manifest.json").json()
    assert manifest["chain_id"] == runtime.chain.deployment.chain_id  # which chain to rebuild them from
    png = client.get("/openbaar/downloads/charts/omloop.png")
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert png.content.startswith(b"\x89PNG") and manifest["charts"] == sorted(
        [*charts.CHART_BY_NAME, "netwerk"]
    )
    assert manifest["files"]["charts/omloop.png"] == hashlib.sha256(png.content).hexdigest()

    english = client.get("/taal/en", params={"terug": "/openbaar"}, follow_redirects=True)
    assert "Open figures" in english.text and "Open cijfers" not in english.text
