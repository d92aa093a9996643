"""Brings a database to the newest schema with Alembic (idempotent: run it at every start)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url)
    return config


def upgrade(url: str) -> None:
    command.upgrade(alembic_config(url), "head")


def stamp_head(url: str) -> None:
    """Marks a database whose tables were created from the models as being at the newest revision."""
    command.stamp(alembic_config(url), "head")


def pending_changes(url: str) -> list:
    """Differences between the models and a database migrated to head (empty when they agree)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine

    from . import models  # noqa: F401 - registers the tables
    from .base import Base

    upgrade(url)
    engine = create_engine(url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    return diff


def revision(url: str, message: str) -> None:
    """Writes a new migration from the difference between the models and the database at `url`."""
    command.revision(alembic_config(url), message=message, autogenerate=True)
