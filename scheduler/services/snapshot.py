"""Read-only counting spread over several database connections that all see one snapshot.

A year of figures is a handful of statements, each scanning the year's bookings
(docs/figures.md, "Speed"). On PostgreSQL they run side by side on up to
``FIGURES_CONNECTIONS`` connections: the request's transaction exports its snapshot
(``pg_export_snapshot``) and each connection imports it into a read-only REPEATABLE READ
transaction, so every part counts exactly the same rows, as one transaction would. With one
connection, or on SQLite, the parts run in turn in the request's own transaction.
"""
import re
from concurrent.futures import ThreadPoolExecutor

from flask import current_app
from sqlalchemy import text

from ..extensions import db

# What pg_export_snapshot() returns ("00000003-0000001B-1"): checked, as SET TRANSACTION
# SNAPSHOT takes a literal, not a parameter.
_SNAPSHOT_ID = re.compile(r"[0-9A-F]+(-[0-9A-F]+)+")


def read_all(parts, settings=()):
    """The results of ``parts`` (callables without arguments that read through
    ``db.session`` and write nothing), in their order; give the longest first. On
    PostgreSQL, ``settings`` (``SET LOCAL`` statements) are run in each transaction first."""
    postgresql = db.session.get_bind().dialect.name == "postgresql"
    connections = min(int(current_app.config["FIGURES_CONNECTIONS"]), len(parts))
    if not postgresql or connections <= 1:
        for statement in settings if postgresql else ():
            db.session.execute(text(statement))
        return [part() for part in parts]
    snapshot = db.session.scalar(text("SELECT pg_export_snapshot()"))
    if not _SNAPSHOT_ID.fullmatch(snapshot):
        raise ValueError(f"unexpected snapshot id {snapshot!r}")
    app = current_app._get_current_object()

    def in_snapshot(part):
        with app.app_context():  # a session, and a connection, of its own
            db.session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
            db.session.execute(text(f"SET TRANSACTION SNAPSHOT '{snapshot}'"))
            for statement in settings:
                db.session.execute(text(statement))
            try:
                return part()
            finally:
                db.session.rollback()

    # The request's transaction stays open, and its snapshot importable, until all are done.
    with ThreadPoolExecutor(max_workers=connections, thread_name_prefix="figures") as pool:
        return list(pool.map(in_snapshot, parts))
