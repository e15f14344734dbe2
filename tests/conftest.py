"""A fresh application and database per test, on SQLite and on PostgreSQL.

Every test that takes ``app`` (or anything built on it) runs once per database. The schema
comes from the migrations, as in production: it is built once per session and per database,
then copied (SQLite) or emptied (PostgreSQL) between tests.
"""
import os
import shutil
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest
from flask_migrate import upgrade
from pytest_postgresql.janitor import DatabaseJanitor
from sqlalchemy import text

from scheduler import create_app
from scheduler.config import ROOT
from scheduler.extensions import db

BERLIN = ZoneInfo("Europe/Berlin")
PG = {
    "host": os.environ.get("TEST_PGHOST", "127.0.0.1"),
    "port": int(os.environ.get("TEST_PGPORT", "5432")),
    "user": os.environ.get("TEST_PGUSER", "postgres"),
}
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


class Clock:
    """The application's clock in tests: set or moved, never slept on."""

    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now

    def set(self, local_iso):
        self.now = datetime.fromisoformat(local_iso).replace(tzinfo=BERLIN)

    def advance(self, **delta):
        self.now += timedelta(**delta)


def base_config(uri, **extra):
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": uri,
        "SECRET_KEY": "test-secret",
        "RATELIMIT_ENABLED": False,
        "PUBLIC_BASE_URL": "https://termine.example.org",
        "SMS_BACKEND": "console",
        **extra,
    }


def migrate_to_head(uri):
    app = create_app(base_config(uri))
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        db.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("schema") / "template.db"
    migrate_to_head(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgresql_database():
    """A database of our own on the machine's PostgreSQL, migrated to head, dropped at the end."""
    name = f"lw_test_{uuid.uuid4().hex[:10]}"
    try:
        psycopg.connect(dbname="postgres", connect_timeout=5, **PG).close()
    except psycopg.OperationalError as error:
        message = f"PostgreSQL is not reachable at {PG['host']}:{PG['port']}: {error}"
        if IN_CI:
            pytest.fail(f"{message} (CI requires PostgreSQL)", pytrace=False)
        pytest.skip(message)
    janitor = DatabaseJanitor(dbname=name, connection_timeout=5, **PG)
    janitor.init()
    uri = f"postgresql+psycopg://{PG['user']}@{PG['host']}:{PG['port']}/{name}"
    migrate_to_head(uri)
    yield uri
    janitor.drop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_uri(request, tmp_path):
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    uri = request.getfixturevalue("postgresql_database")
    yield uri
    _empty_postgresql(uri)


def _empty_postgresql(uri):
    app = create_app(base_config(uri))
    with app.app_context():
        tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
        with db.engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        db.engine.dispose()


@pytest.fixture
def clock():
    """Monday 23 November 2026, 09:00 in Dortmund."""
    return Clock(datetime(2026, 11, 23, 9, 0, tzinfo=BERLIN))


@pytest.fixture
def config_overrides():
    """Override in a test module to change the configuration of ``app``."""
    return {}


@pytest.fixture
def app(database_uri, clock, config_overrides):
    app = create_app(base_config(database_uri, CLOCK=clock, **config_overrides))
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def ctx(app):
    """An application context for calling services directly."""
    with app.app_context():
        yield
        db.session.rollback()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def pytest_sessionstart(session):
    """Tests read the compiled catalogues, as the service does: compile them first."""
    from babel.messages.frontend import CommandLineInterface

    CommandLineInterface().run(["pybabel", "-q", "compile", "-D", "messages staff", "-d", str(ROOT / "translations")])
