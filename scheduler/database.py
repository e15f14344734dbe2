"""Engine settings that keep concurrent requests correct, and every wait bounded, on both
databases."""
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from .config import ROOT
from .extensions import db

# An execution option: this connection only reads, and on SQLite takes no write lock for it
# (the dispatcher's poll of the due messages, a few times a second).
WITHOUT_WRITE_LOCK = "without_write_lock"


def register_database(app):
    """No ``pool_pre_ping``: it costs a round trip on every checkout (four per booking,
    measured). A connection the server dropped fails its next statement once instead, and
    SQLAlchemy then discards the whole pool, so after a database restart each process
    answers one request with an error. ``pool_recycle`` renews connections before a
    firewall or proxy drops them for idleness."""
    config = app.config
    options = config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
    options.setdefault("pool_recycle", 1800)
    if config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        connect_args = options.setdefault("connect_args", {})
        connect_args.setdefault("connect_timeout", max(1, int(config["DATABASE_CONNECT_TIMEOUT_SECONDS"])))
        connect_args.setdefault("options", timeout_options(
            config["DATABASE_STATEMENT_TIMEOUT_SECONDS"], config["DATABASE_LOCK_TIMEOUT_SECONDS"]))
    db.init_app(app)
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            _serialise_sqlite_writers(engine, config["SQLITE_BUSY_TIMEOUT_SECONDS"])


def timeout_options(statement_seconds, lock_seconds):
    """PostgreSQL settings for every session: no statement runs, and no lock is waited for
    (advisory locks included), longer than configured. 0 switches a limit off."""
    return (f"-c statement_timeout={int(statement_seconds * 1000)} "
            f"-c lock_timeout={int(lock_seconds * 1000)}")


def allow_long_statements(seconds):
    """Let the statements of the current transaction run up to ``seconds`` (PostgreSQL):
    the scheduler's bulk jobs may take longer than a request may."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text(f"SET LOCAL statement_timeout = {int(seconds * 1000)}"))


def _serialise_sqlite_writers(engine, busy_timeout):
    """Begin every SQLite transaction with ``BEGIN IMMEDIATE``.

    A deferred transaction that reads and then writes fails with "database is locked" when
    another writer got there first, and no busy timeout helps it. Taking the write lock at
    BEGIN makes concurrent requests queue for up to ``busy_timeout`` seconds instead. WAL
    lets readers of other connections go on meanwhile. Reads queue too, which at the scale
    SQLite is meant for here (one small office network) costs a few milliseconds; a
    connection with the ``WITHOUT_WRITE_LOCK`` option reads without any transaction.
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
        if not connection.get_execution_options().get(WITHOUT_WRITE_LOCK):
            connection.exec_driver_sql("BEGIN IMMEDIATE")


# --- Whether the database can serve: reachable, and migrated to the code's schema -----------

UNREACHABLE, NOT_MIGRATED, LOCKED, READY = "unreachable", "not_migrated", "locked", "ok"


def migrations_head():
    """The revision the code expects (the head of migrations/), read once per process."""
    global _head
    if _head is None:
        config = Config()
        config.set_main_option("script_location", str(ROOT / "migrations"))
        _head = ScriptDirectory.from_config(config).get_current_head()
    return _head


_head = None


def schema_state(connection):
    """READY, UNREACHABLE or NOT_MIGRATED (no alembic_version, or another revision)."""
    try:
        revisions = set(connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalars())
    except DBAPIError as error:
        return classify(error) or NOT_MIGRATED
    return READY if revisions == {migrations_head()} else NOT_MIGRATED


def database_state():
    """``schema_state`` on a connection of its own, outside the session's transaction."""
    try:
        with db.engine.connect().execution_options(**{WITHOUT_WRITE_LOCK: True}) as connection:
            return schema_state(connection)
    except DBAPIError as error:
        return classify(error) or UNREACHABLE


def classify(error):
    """Why a statement failed, when the cause is the database's state and not our code:
    UNREACHABLE (no connection), NOT_MIGRATED (a table or column missing) or LOCKED (a lock
    or statement timeout, SQLite's "database is locked"); None for anything else."""
    original = getattr(error, "orig", error)
    state = getattr(original, "sqlstate", None) or ""
    text = str(original).lower()
    if getattr(error, "connection_invalidated", False) or state[:2] == "08" or state in ("57P01", "57P02", "57P03"):
        return UNREACHABLE
    if state in ("42P01", "42703") or "no such table" in text or "no such column" in text:
        return NOT_MIGRATED
    if state in ("55P03", "57014", "40P01") or "database is locked" in text:
        return LOCKED
    if "unable to open database file" in text:
        return UNREACHABLE
    # psycopg raises OperationalError without a SQLSTATE when it cannot connect at all.
    if type(original).__module__.startswith("psycopg") and type(original).__name__ == "OperationalError":
        return UNREACHABLE
    return None


def describe(uri):
    """The database URL as it may be shown: with any password masked."""
    try:
        return make_url(uri).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy understands: show nothing that might be secret
        return "(the configured SQLALCHEMY_DATABASE_URI)"
