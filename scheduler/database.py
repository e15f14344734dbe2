"""Engine settings that keep concurrent requests correct on both databases."""
from sqlalchemy import event

from .extensions import db


def register_database(app):
    options = app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
    options.setdefault("pool_pre_ping", True)
    db.init_app(app)
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            _serialise_sqlite_writers(engine, app.config["SQLITE_BUSY_TIMEOUT_SECONDS"])


def _serialise_sqlite_writers(engine, busy_timeout):
    """Begin every SQLite transaction with ``BEGIN IMMEDIATE``.

    A deferred transaction that reads and then writes fails with "database is locked" when
    another writer got there first, and no busy timeout helps it. Taking the write lock at
    BEGIN makes concurrent requests queue for up to ``busy_timeout`` seconds instead. WAL
    lets readers of other connections go on meanwhile. Reads queue too, which at the scale
    SQLite is meant for here (one small office network) costs a few milliseconds.
    """

    @event.listens_for(engine, "connect")
    def connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # pysqlite must not emit its own BEGIN
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        cursor.execute("PRAGMA foreign_keys = ON")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")
