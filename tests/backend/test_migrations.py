"""The Alembic migrations build exactly the schema the models describe."""

from socialcoin.db.migrate import pending_changes


def test_migrations_match_the_models(database_url):
    assert pending_changes(database_url) == []
