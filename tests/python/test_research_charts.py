"""research/charts.py and the exports' charts on hand-built ledgers: every chart of the dashboard and the
network picture are written as PNG and SVG, each decodable at its drawn size, titled, listed in the manifest
with its hash, and showing only what the privacy gate lets through."""

from __future__ import annotations

import hashlib
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import matplotlib.image
import pytest
from test_research_metrics import RESIDENT_A, RESIDENT_B, SHOP, S, at, ledger

from socialcoin.research import charts
from socialcoin.research.exports import CHARTS_DIR, write_exports
from socialcoin.research.ledger import Ledger
from socialcoin.research.public import public_figures
from socialcoin.research.schema import ZERO

A, B, SHOP_1, SHOP_2 = "0xa1", "0xb2", "0x51", "0x52"
PEOPLE = {A: RESIDENT_A, B: RESIDENT_B, SHOP_1: SHOP, SHOP_2: SHOP}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SVG = "{http://www.w3.org/2000/svg}"
TWO_RESIDENTS = [
    (at(1), ZERO, A, 1000, S.ACTIVITY_REWARD, "act"),
    (at(1), ZERO, B, 500, S.ACTIVITY_REWARD, "act"),
    (at(2), A, SHOP_1, 400, S.PAYMENT),
    (at(2), B, SHOP_1, 300, S.PAYMENT),
    (at(3, 2), SHOP_1, SHOP_2, 100, S.PAYMENT),
    (at(4, 2), A, ZERO, 200, S.DEBT_SETTLEMENT),
]
EVERY_CHART = [*(chart.name for chart in charts.CHARTS), charts.NETWORK]


def exported(moves: list[tuple], directory: Path, k: int = 2) -> dict:
    found = public_figures(Ledger(*ledger(moves, PEOPLE)), k)
    drawn = charts.every_chart(found.publications, charts.chart_texts())
    manifest = write_exports(found.ledger, directory, charts=drawn)
    return json.loads(manifest.read_text(encoding="utf-8"))


def texts_of(path: Path) -> list[str]:
    """Every text of an SVG, which must parse as XML with an <svg> root."""
    root = ET.parse(path).getroot()
    assert root.tag == f"{SVG}svg"
    return ["".join(node.itertext()).strip() for node in root.iter(f"{SVG}text")]


def test_every_chart_is_written_as_png_and_svg_and_listed_in_the_manifest_with_its_hash(tmp_path):
    manifest = exported(TWO_RESIDENTS, tmp_path)
    assert manifest["charts"] == sorted(EVERY_CHART)
    titles = charts.chart_texts().titles
    for name in EVERY_CHART:
        png, svg = tmp_path / CHARTS_DIR / f"{name}.png", tmp_path / CHARTS_DIR / f"{name}.svg"
        data = png.read_bytes()
        assert data.startswith(PNG_MAGIC)
        # 100 dots per inch of the drawn size: 6.4 x 3.4 inches a line chart, 6.4 x 5.0 the network.
        height = 500 if name == charts.NETWORK else 340
        assert matplotlib.image.imread(png).shape[:2] == (height, 640)
        assert titles[name] in texts_of(svg)
        for path in (png, svg):
            listed = manifest["files"][f"{CHARTS_DIR}/{path.name}"]
            assert listed == hashlib.sha256(path.read_bytes()).hexdigest()
    # The supply chart has one line, for the coin, with the month's circulation in euros on its axis.
    supply = texts_of(tmp_path / CHARTS_DIR / "omloop.svg")
    assert "euro" in supply and "2025-01" in supply


def test_a_chart_shows_only_what_the_privacy_gate_publishes(tmp_path):
    # At k=3 the two residents' flows to the shop are withheld; the flow between the two shops rests on no
    # resident and is shown.
    exported(TWO_RESIDENTS, tmp_path, k=3)
    network = texts_of(tmp_path / CHARTS_DIR / f"{charts.NETWORK}.svg")
    assert any(text.startswith("merchant") for text in network)
    assert not any(text.startswith("resident") for text in network)
    shown = exported(TWO_RESIDENTS, tmp_path / "k2", k=2)
    assert shown["charts"] == sorted(EVERY_CHART)
    network = texts_of(tmp_path / "k2" / CHARTS_DIR / f"{charts.NETWORK}.svg")
    assert any(text.startswith("resident") for text in network)


def test_the_same_figures_give_the_same_svg_and_a_wrong_format_is_refused(tmp_path):
    first = exported(TWO_RESIDENTS, tmp_path / "one")
    second = exported(TWO_RESIDENTS, tmp_path / "two")
    svgs = {name: hash for name, hash in first["files"].items() if name.endswith(".svg")}
    assert svgs and all(second["files"][name] == hash for name, hash in svgs.items())
    figure = charts.network_chart(
        public_figures(Ledger(*ledger(TWO_RESIDENTS, PEOPLE)), 2).publications["network_flows"].cells,
        charts.chart_texts(),
    )
    with pytest.raises(ValueError, match="png"):
        charts.image(figure, "gif")
