"""Apply the Alembic migrations (`chatops migrate`, and `serve` on the embedded default)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

from storage.db import Database


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at the packaged migrations, independent of the cwd."""
    config = Config()
    config.set_main_option("script_location", "storage:migrations")
    # configparser treats % as interpolation; URLs may contain percent-escapes.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str) -> None:
    """Bring the database at `url` to the newest schema (runs its own event loop)."""
    command.upgrade(alembic_config(url), "head")


async def upgrade_database(database: Database) -> None:
    """Bring an open database to the newest schema from inside a running event loop."""
    config = alembic_config(database.url)

    def _upgrade(connection: Connection) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    async with database.engine.begin() as connection:
        await connection.run_sync(_upgrade)
