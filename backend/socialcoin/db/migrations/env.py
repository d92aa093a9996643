"""Alembic environment: the URL comes from the caller (socialcoin.db.migrate) or the settings."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from socialcoin.db import models  # noqa: F401 - registers the tables
from socialcoin.db.base import Base
from socialcoin.settings import Settings

config = context.config
url = config.get_main_option("sqlalchemy.url") or Settings.from_env().database_url


def run_offline() -> None:
    context.configure(url=url, target_metadata=Base.metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    with create_engine(url).connect() as connection:
        context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
