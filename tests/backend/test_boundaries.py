"""The promises the structure keeps, each checked where it could break: a write transaction never waits on
the chain, a write never happens outside one (SQLite), nothing outside `chain/` reaches the chain, and an
unexpected error is a problem+json 500 whose id is in the log with its traceback."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from socialcoin.api.app import create_app
from socialcoin.chain.errors import ChainCallInWriteTransaction
from socialcoin.db.base import WriteOutsideTransaction, transaction, writing
from socialcoin.domain import people
from socialcoin.domain.access import Role

PACKAGE = Path(__file__).resolve().parents[2] / "backend" / "socialcoin"


def test_the_chain_is_never_asked_inside_a_write_transaction(runtime):
    with pytest.raises(ChainCallInWriteTransaction), transaction(runtime.sessions):
        runtime.chain.head()
    runtime.chain.head()  # outside one it is


def test_a_write_outside_a_write_transaction_is_refused_on_sqlite(runtime):
    if runtime.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL takes row locks instead of one write lock")
    with runtime.sessions() as session:
        with pytest.raises(WriteOutsideTransaction):
            session.execute(text("UPDATE residents SET email = NULL"))
        session.rollback()
        with writing(session):
            session.execute(text("UPDATE residents SET email = NULL"))


def test_a_second_write_transaction_inside_one_is_refused_rather_than_waiting_for_itself(runtime):
    with transaction(runtime.sessions), pytest.raises(WriteOutsideTransaction), transaction(runtime.sessions):
        pass


# Names that mean the chain is reached directly: web3 objects, contract calls, raw JSON-RPC.
CHAIN_INTERNALS = re.compile(r"\bweb3\b|\.functions\.|\bWeb3\b|\.eth\.|make_request|requests\.post")


@pytest.mark.parametrize("package", ["domain", "api", "db"])
def test_nothing_outside_chain_reaches_the_chain_but_through_its_typed_methods(package):
    offenders = [
        f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}"
        for path in sorted((PACKAGE / package).rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if CHAIN_INTERNALS.search(line) and not line.lstrip().startswith("#")
    ]
    assert offenders == []


def test_an_unexpected_error_is_a_problem_with_an_id_that_the_log_has_with_its_traceback(
    runtime, auth, monkeypatch, caplog
):
    def broken(*_args, **_kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(people, "list_residents", broken)
    app = create_app(runtime=runtime, run_workers=False)
    with (
        TestClient(app, raise_server_exceptions=False) as client,
        caplog.at_level(logging.ERROR, logger="socialcoin.api.problems"),
    ):
        answer = client.get("/municipality/residents", headers=auth(Role.ADMIN))
    assert answer.status_code == 500
    assert answer.headers["content-type"].startswith("application/problem+json")
    body = answer.json()
    assert body["code"] == "internal_error" and body["detail"] and body["detail_en"]
    error_id = body["details"]["error_id"]
    assert error_id in body["detail"] and "a bug" not in answer.text  # the id, never the internals
    (logged,) = [r for r in caplog.records if error_id in r.getMessage()]
    assert logged.exc_info is not None and "RuntimeError: a bug" in caplog.text
