"""The pages in a real browser: Debian's Chromium driven by Playwright (headless), against the service
served for real (uvicorn with its outbox and indexer running) on a real anvil with the contracts and the
demo municipality (scripts/deploy.py, scripts/demo.py, socialcoin.demo), on SQLite.

One chain and one service serve the whole session; tests admit residents of their own where they change
a resident's state. Every context loads axe-core (from npm) before the page's own scripts, so that
`assert_accessible(page)` can run it. Screenshots go to reports/e2e/.

Ports and brownie network: SOCIALCOIN_E2E_NETWORK (default socialcoin-e2e, declared by `make networks`)
and SOCIALCOIN_E2E_CHAIN_PORT (8559).
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from served import Service, served_site

ROOT = Path(__file__).resolve().parents[2]
NETWORK = os.environ.get("SOCIALCOIN_E2E_NETWORK", "socialcoin-e2e")
CHAIN_PORT = int(os.environ.get("SOCIALCOIN_E2E_CHAIN_PORT", "8559"))
CHROMIUM = os.environ.get("SOCIALCOIN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "reports" / "e2e"
# The bound on a wallet page's JavaScript, gzipped: 60 KB read strictly (60,000 bytes), every script
# it loads and the service worker counted.
WALLET_JS_BUDGET = 60_000
PHONE = {"width": 360, "height": 780}
TABLET = {"width": 1024, "height": 768}


# Tests that move the chain's clock forward (evm_increaseTime: a recovery's delay) leave it ahead of the
# wall clock for the rest of the session, and a page that shows "today" or "this month" by block time would
# then miss what happened a moment ago, depending on the hour the suite runs. They run last.
MOVES_CHAIN_CLOCK = "moves_chain_clock"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{MOVES_CHAIN_CLOCK}: moves the chain's clock forward; runs last")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.get_closest_marker(MOVES_CHAIN_CLOCK) is not None)  # stable


@pytest.fixture(scope="session")
def service(tmp_path_factory) -> Iterator[Service]:
    # Every test's browser signs in from 127.0.0.1: the per-address limit on sign-ins (20 a minute) would
    # refuse the suite's own. The limit itself is tested against the API (tests/backend/test_front_door.py).
    with served_site(
        tmp_path_factory.mktemp("e2e"), NETWORK, CHAIN_PORT, login_limit_per_client="10000/minute"
    ) as site:
        yield site


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


def new_context(
    browser: Browser, service: Service, viewport: dict[str, int], **options: Any
) -> BrowserContext:
    context = browser.new_context(
        base_url=service.url, viewport=viewport, locale="nl-NL", timezone_id="Europe/Amsterdam", **options
    )
    context.add_init_script(path=str(AXE))  # before the page's scripts, outside its CSP
    context.set_default_timeout(20_000)
    return context


@pytest.fixture
def phone(browser, service) -> Iterator[Page]:
    context = new_context(browser, service, PHONE, has_touch=True, is_mobile=True)
    yield context.new_page()
    context.close()


@pytest.fixture
def tablet(browser, service) -> Iterator[Page]:
    context = new_context(browser, service, TABLET)
    yield context.new_page()
    context.close()


# --------------------------------------------------------------------------------------------------
# What every page is checked for
# --------------------------------------------------------------------------------------------------

SERIOUS = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations
    .filter(v => v.impact === "serious" || v.impact === "critical")
    .map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))}));
}"""


def assert_accessible(page: Page) -> None:
    """axe-core finds no serious or critical violation on the page as it is now."""
    violations = page.evaluate(SERIOUS)
    assert violations == [], f"{page.url}: {json.dumps(violations, indent=1)}"


def assert_fits(page: Page) -> None:
    """Nothing makes the page wider than the screen (a phone scrolls down, never sideways)."""
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the screen"


def _dutch_texts() -> list[re.Pattern[str]]:
    sys.path.insert(0, str(ROOT / "tools"))
    import catalogue

    patterns = []
    for source, dutch in catalogue.translated("nl").items():
        # Only texts that give themselves away: several words and not the same in English.
        plain = re.sub(r"%\([a-z_]+\)[sd]", "", dutch).strip()
        if dutch != source and len(plain.split()) >= 3:
            first = max(re.split(r"%\([a-z_]+\)[sd]", dutch), key=len).strip()
            patterns.append(re.compile(re.escape(first)))
    return patterns


DUTCH = _dutch_texts()


# The page's text without proper names (a coin's, a shop's), which HTML marks translate="no": they are
# data, the same in every language.
INTERFACE_TEXT = """() => {
  const copy = document.body.cloneNode(true);
  copy.querySelectorAll('[translate="no"]').forEach(element => element.remove());
  return copy.innerText ?? copy.textContent;
}"""


def assert_english(page: Page) -> None:
    """The page in English shows no text of the Dutch catalogue (every text went through a catalogue)."""
    assert page.evaluate("document.documentElement.lang") == "en"
    text = page.evaluate(INTERFACE_TEXT)
    left = [p.pattern for p in DUTCH if p.search(text)]
    assert left == [], f"{page.url} shows Dutch in English: {left}"


def switch_language(page: Page, language: str) -> None:
    label = {"en": "English", "nl": "Nederlands"}[language]
    page.get_by_role("link", name=label).click()
    page.wait_for_load_state()


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"] if page.viewport_size else 0
    path = ARTIFACTS / f"{name}-{width}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def screenshots_at_both_sizes(page: Page, name: str) -> None:
    """A step of a journey as a phone (360 px) and a tablet (1024 px) show it; the page keeps its size."""
    size = page.viewport_size or PHONE
    for viewport in (PHONE, TABLET):
        page.set_viewport_size(viewport)
        screenshot(page, name)
    page.set_viewport_size(size)
