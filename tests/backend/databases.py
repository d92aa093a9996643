"""A new empty database for a test or a benchmark: a SQLite file, or a database of its own on a PostgreSQL
server, dropped afterwards (bench/ loads this module too)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text


@contextmanager
def empty_database(folder: Path, label: str, server: str | None) -> Iterator[str]:
    """The URL of a new empty database: on the PostgreSQL `server` (a URL) when given, else a SQLite file
    `label`.db in `folder`."""
    if not server:
        yield f"sqlite:///{folder / f'{label}.db'}"
        return
    name = f"socialcoin_{label}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
