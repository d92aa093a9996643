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

import importlib.util
import json
import os
import re
import socket
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from socialcoin import demo
from socialcoin.api.app import create_app
from socialcoin.bootstrap import bootstrap
from socialcoin.db.base import transaction
from socialcoin.db.migrate import upgrade
from socialcoin.domain.access import Role, issue_token
from socialcoin.runtime import Runtime
from socialcoin.settings import Settings

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
PHONE = {"width": 360, "height": 780}
TABLET = {"width": 1024, "height": 768}


def load_chainnode() -> Any:
    """tests/backend/chainnode.py by path (the backend tests' anvil and deployment), on our network."""
    spec = importlib.util.spec_from_file_location(
        "socialcoin_e2e_chainnode", ROOT / "tests/backend/chainnode.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    module.NETWORK = NETWORK
    return module


@dataclass
class Service:
    url: str
    runtime: Runtime
    node: Any
    deployment: dict
    loaded: demo.Loaded
    tokens: dict[tuple[str, int | None], str] = field(default_factory=dict)

    def token(self, role: Role, subject_id: int | None = None) -> str:
        """An access code (API token) for a role, issued once per session and role."""
        key = (str(role), subject_id)
        if key not in self.tokens:
            with transaction(self.runtime.sessions) as session:
                _row, token = issue_token(session, role, subject_id, ttl_seconds=8 * 3600, label="e2e")
            self.tokens[key] = token
        return self.tokens[key]

    def api(self, role: Role = Role.ADMIN, subject_id: int | None = None) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {self.token(role, subject_id)}"}, timeout=60
        )

    def settle(self) -> None:
        """Waits until the outbox has sent everything and the indexer has read it (the workers run on
        their own; this only makes a test's next look deterministic)."""
        self.runtime.outbox.run_until_idle()
        self.runtime.indexer.run_until_caught_up()


@pytest.fixture(scope="session")
def service(tmp_path_factory) -> Iterator[Service]:
    chainnode = load_chainnode()
    node = chainnode.ChainNode(CHAIN_PORT)
    node.start()
    work = tmp_path_factory.mktemp("e2e")
    try:
        deployment_file = chainnode.deploy_demo(node)
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        settings = Settings(
            environment="test",
            database_url=f"sqlite:///{work / 'e2e.db'}",
            rpc_url=node.url,
            deployment_file=deployment_file,
            evidence_dir=work / "evidence",
            outbox_retry_seconds=0,
            public_url=url,
        )
        upgrade(settings.database_url)
        runtime = bootstrap(settings)
        loaded = demo.load(runtime)
        app = create_app(runtime=runtime, run_workers=True)
        server = uvicorn.Server(
            uvicorn.Config(app, log_level="warning", timeout_keep_alive=75, proxy_headers=False)
        )
        thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
        thread.start()
        started = threading.Event()
        for _ in range(2000):
            if server.started:
                break
            started.wait(0.01)
        assert server.started, "the service did not start"
        try:
            yield Service(url, runtime, node, json.loads(deployment_file.read_text()), loaded)
        finally:
            server.should_exit = True
            thread.join(timeout=30)
            listener.close()
            runtime.close()
    finally:
        node.stop()


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


def assert_english(page: Page) -> None:
    """The page in English shows no text of the Dutch catalogue (every text went through a catalogue)."""
    assert page.evaluate("document.documentElement.lang") == "en"
    text = page.inner_text("body")
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
