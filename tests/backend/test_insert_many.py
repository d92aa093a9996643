"""db.base.insert_many (the indexer's bulk write) stores every value as the table's own insert does, on SQLite
and PostgreSQL, and keeps the write guard."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import create_engine, insert, select

from socialcoin.db.base import (
    Base,
    WriteOutsideTransaction,
    insert_many,
    make_engine,
    make_sessions,
    transaction,
)
from socialcoin.db.models import ChainEvent

# Text that COPY's format escapes (backslash, tab, newline) and JSON's too (quotes, non-ASCII).
AWKWARD = 'Wijkmunt "Geitenkamp"\t\\ café\nr2'


def event_row(n: int, **changes: Any) -> dict[str, Any]:
    row = {
        "block_number": 10 + n,
        "block_hash": f"0x{n:064x}",
        "tx_hash": f"0x{n + 1000:064x}",
        "log_index": n,
        "contract": "0x" + "ab" * 20,
        "event": "Transfer",
        "args": {"from": "0x" + "00" * 20, "to": "0x" + "cd" * 20, "value": 2**255 + n, "name": AWKWARD},
        "block_time": datetime(2026, 12, 5, 21, 0, n, 123456, tzinfo=UTC),
        "from_account": None,
        "to_account": "0x" + "cd" * 20,
        "companion_event": None,
        "companion_args": None,
    }
    return row | changes


@pytest.fixture
def sessions(database_url):
    engine = create_engine(database_url)
    Base.metadata.create_all(engine)
    engine.dispose()
    engine = make_engine(database_url)
    yield make_sessions(engine)
    engine.dispose()


def stored(sessions) -> list[tuple]:
    columns = [c for c in ChainEvent.__table__.columns if c.name != "id"]
    with sessions() as session:
        return [tuple(row) for row in session.execute(select(*columns).order_by(ChainEvent.log_index))]


def test_insert_many_stores_what_the_tables_insert_stores(sessions):
    rows = [
        event_row(0),
        event_row(1, companion_event="PaymentMade", companion_args={"reference": AWKWARD, "n": [1, None]}),
        event_row(
            2,
            event="CoinAdded",
            to_account=None,
            block_time=datetime(2026, 1, 1, 3, tzinfo=timezone(timedelta(hours=2))),
        ),
    ]
    with transaction(sessions) as session:
        session.execute(insert(ChainEvent.__table__), rows)
    expected = stored(sessions)
    with transaction(sessions) as session:
        session.execute(ChainEvent.__table__.delete())
    with transaction(sessions) as session:
        insert_many(session, ChainEvent, rows)
    assert stored(sessions) == expected
    assert expected[1][-1] == {"reference": AWKWARD, "n": [1, None]}
    assert expected[2][7] == datetime(2026, 1, 1, 1, tzinfo=UTC)


def test_insert_many_of_no_rows_writes_nothing(sessions):
    with transaction(sessions) as session:
        insert_many(session, ChainEvent, [])
    assert stored(sessions) == []


def test_insert_many_is_all_or_nothing(sessions):
    with pytest.raises(Exception), transaction(sessions) as session:  # noqa: B017 - each driver its own error
        insert_many(session, ChainEvent, [event_row(0), event_row(0)])  # the same (tx_hash, log_index) twice
    assert stored(sessions) == []


def test_insert_many_outside_a_write_transaction_is_refused_on_sqlite(sessions, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("the guard is SQLite's (PostgreSQL takes row locks)")
    with sessions() as session, pytest.raises(WriteOutsideTransaction):
        insert_many(session, ChainEvent, [event_row(0)])
