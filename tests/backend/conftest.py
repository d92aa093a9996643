"""Backend tests run against a real anvil node and a real database: SQLite by default, PostgreSQL
when SOCIALCOIN_TEST_DATABASE_URL names a server (make test runs the suite once with each)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine

import databases
from chainnode import PORT, ChainNode, deploy_demo
from socialcoin.api.app import create_app
from socialcoin.bootstrap import bootstrap
from socialcoin.db import models  # noqa: F401 - registers the tables
from socialcoin.db.base import Base, transaction
from socialcoin.db.migrate import stamp_head
from socialcoin.domain.access import Role, issue_token
from socialcoin.runtime import Runtime
from socialcoin.settings import Settings


@pytest.fixture(scope="session")
def node():
    chain_node = ChainNode(PORT)
    chain_node.start()
    try:
        chain_node.deployment_file = deploy_demo(chain_node)
        yield chain_node
    finally:
        chain_node.stop()


# A node of our own, for tests that stop, hang or restart it (the suite's node stays up for the others).
RESTART_PORT = int(os.environ.get("SOCIALCOIN_TEST_RESTART_PORT", "8591"))


@pytest.fixture(scope="session")
def deployed_state(node, tmp_path_factory) -> tuple[Path, Path]:
    """The suite's chain in its deployed state (the `chain` fixture reverts every test to it), saved for
    nodes of our own: they start with the same contracts at the same addresses."""
    return node.dump_state(tmp_path_factory.mktemp("anvil") / "deployed.json"), node.deployment_file


@pytest.fixture
def restart_node(deployed_state):
    """A node of the test's own, from the deployed state, that the test may stop, hang and start again."""
    state, deployment = deployed_state
    node = ChainNode(RESTART_PORT)
    node.start(load_state=state)
    node.deployment_file = deployment
    yield node
    node.resume()
    node.stop()


@pytest.fixture(scope="session")
def demo(node) -> dict:
    """The demo municipality's addresses: coins by symbol and accounts by role."""
    return json.loads(node.deployment_file.read_text())


@pytest.fixture
def chain(node):
    """The node, returned to its deployed state after the test."""
    snapshot = node.snapshot()
    yield node
    node.revert(snapshot)


def empty_database(folder: Path, label: str = "test") -> AbstractContextManager[str]:
    """A new empty database: a SQLite file in `folder`, or one of its own on the PostgreSQL server
    SOCIALCOIN_TEST_DATABASE_URL names."""
    return databases.empty_database(folder, label, os.environ.get("SOCIALCOIN_TEST_DATABASE_URL"))


@pytest.fixture
def database_url(tmp_path):
    with empty_database(tmp_path) as url:
        yield url


def settings_for(node: ChainNode, database_url: str, folder: Path) -> Settings:
    """The test service's settings, against `node` and a database."""
    return Settings(
        environment="test",
        database_url=database_url,
        rpc_url=node.url,
        deployment_file=node.deployment_file,
        evidence_dir=folder / "evidence",
        outbox_retry_seconds=0,  # tests drive the outbox round by round: no pause between tries
    )


@pytest.fixture
def settings(chain, database_url, tmp_path) -> Settings:
    return settings_for(chain, database_url, tmp_path)


@contextmanager
def started(settings: Settings) -> Iterator[Runtime]:
    """A runtime over a new database's tables, with the deployed coins indexed."""
    # Tables come from the models here; test_migrations checks that the migrations build the same.
    engine = create_engine(settings.database_url)
    Base.metadata.create_all(engine)
    engine.dispose()
    stamp_head(settings.database_url)
    runtime = bootstrap(settings)
    try:
        runtime.indexer.run_until_caught_up()  # the deployed coins, which the coin catalogue reads
        yield runtime
    finally:
        runtime.close()


@pytest.fixture
def runtime(settings):
    with started(settings) as runtime:
        yield runtime


@pytest.fixture
def client(runtime):
    """The HTTP API over the test runtime; the outbox and indexer are driven by the test itself
    (runtime.outbox.run_until_idle(), runtime.indexer.run_until_caught_up())."""
    with TestClient(create_app(runtime=runtime, run_workers=False)) as test_client:
        yield test_client


@pytest.fixture
def auth(runtime):
    """auth(Role.ADMIN) or auth(Role.RESIDENT, resident_id) -> headers with a fresh bearer token."""

    def headers(role: Role, subject_id: int | None = None) -> dict[str, str]:
        with transaction(runtime.sessions) as session:
            _row, token = issue_token(session, role, subject_id, ttl_seconds=3600, label="test")
        return {"Authorization": f"Bearer {token}"}

    return headers
