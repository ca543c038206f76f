"""Alembic environment: runs only on a connection handed over by ``store.migrate``.

The store opens its own connection (with its pragmas and write lock) and passes it in
``config.attributes["connection"]``; offline SQL generation is not supported.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from comfy_gateway.store.schema import metadata


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if not isinstance(connection, Connection):
        raise RuntimeError("run migrations through comfy_gateway.store.migrate, not the CLI")
    # Batch mode lets later revisions alter tables on SQLite (copy-and-move).
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("offline migrations are not supported")
run_migrations_online()
