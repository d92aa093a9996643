"""The whole site served for real, for the browser tests and the pages' benchmark: an anvil of its own with
the contracts and the demo municipality deployed (scripts/deploy.py, scripts/demo.py, socialcoin.demo), and
the service (uvicorn in this process, with its outbox and indexer running) on a fresh SQLite file."""

from __future__ import annotations

import importlib.util
import json
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy import func, select

from socialcoin import demo
from socialcoin.api.app import create_app
from socialcoin.bootstrap import bootstrap
from socialcoin.db.base import transaction
from socialcoin.db.enums import OPEN_ITEM
from socialcoin.db.migrate import upgrade
from socialcoin.db.models import OutboxItem
from socialcoin.domain.access import Role, issue_token
from socialcoin.runtime import Runtime
from socialcoin.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def load_chainnode(network: str) -> Any:
    """tests/backend/chainnode.py by path (the backend tests' anvil and deployment), on `network`."""
    name = f"socialcoin_site_chainnode_{network.replace('-', '_')}"
    spec = importlib.util.spec_from_file_location(name, ROOT / "tests/backend/chainnode.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    module.NETWORK = network
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

    def settle(self, timeout: float = 120) -> None:
        """Waits until the service's own workers have sent every open outbox item and indexed every block,
        so that a test's next look is deterministic. It runs neither itself: a second outbox or indexer
        beside the workers would do the same work at the same moment."""
        deadline = time.monotonic() + timeout
        while True:
            with self.runtime.sessions() as session:
                open_items = session.scalar(
                    select(func.count()).select_from(OutboxItem).where(OutboxItem.status.in_(OPEN_ITEM))
                )
                indexed = self.runtime.indexer.last_block(session)
            if open_items == 0 and indexed >= int(self.node.rpc("eth_blockNumber"), 16):
                return
            assert time.monotonic() < deadline, f"{open_items} outbox items still open after {timeout} s"
            time.sleep(0.02)


@contextmanager
def served_site(
    work: Path, network: str, chain_port: int, block_time: float | None = None, **settings: Any
) -> Iterator[Service]:
    """The site until the block ends. `settings` override the service's (e.g. rate limits for a bench)."""
    chainnode = load_chainnode(network)
    node = chainnode.ChainNode(chain_port, block_time=block_time)
    node.start()
    try:
        deployment_file = chainnode.deploy_demo(node)
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        config = Settings(
            environment="test",
            database_url=f"sqlite:///{work / 'site.db'}",
            rpc_url=node.url,
            deployment_file=deployment_file,
            evidence_dir=work / "evidence",
            outbox_retry_seconds=0,
            public_url=url,
            **settings,
        )
        upgrade(config.database_url)
        runtime = bootstrap(config)
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
