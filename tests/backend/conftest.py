"""Backend tests run against a real anvil node and a real database: SQLite by default, PostgreSQL
when SOCIALCOIN_TEST_DATABASE_URL names a server (make test runs the suite once with each)."""

from __future__ import annotations

import json
import os
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from chainnode import PORT, ChainNode, deploy_demo
from socialcoin.api.app import create_app
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


@pytest.fixture
def database_url(tmp_path):
    server = os.environ.get("SOCIALCOIN_TEST_DATABASE_URL")
    if not server:
        yield f"sqlite:///{tmp_path / 'socialcoin.db'}"
        return
    name = f"socialcoin_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield server.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def settings(chain, database_url, tmp_path) -> Settings:
    return Settings(
        environment="test",
        database_url=database_url,
        rpc_url=chain.url,
        deployment_file=chain.deployment_file,
        evidence_dir=tmp_path / "evidence",
    )


@pytest.fixture
def runtime(settings):
    # Tables come from the models here; test_migrations checks that the migrations build the same.
    engine = create_engine(settings.database_url)
    Base.metadata.create_all(engine)
    engine.dispose()
    stamp_head(settings.database_url)
    started = Runtime.start(settings)
    yield started
    started.close()


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
