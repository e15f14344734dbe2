"""A database that cannot serve: the command line names it, the web answers 503, not 500."""
import sqlite3
from datetime import timedelta

import psycopg
import pytest

from scheduler import create_app
from scheduler.extensions import db

from . import factories
from .conftest import PG, base_config

UNREACHABLE = f"postgresql+psycopg://postgres:hunter2@127.0.0.1:{PG['port'] + 1}/nowhere"


@pytest.fixture(params=["unreachable", "not_migrated"])
def broken(request, tmp_path):
    uri = UNREACHABLE if request.param == "unreachable" else f"sqlite:///{tmp_path / 'empty.db'}"
    app = create_app(base_config(uri, DATABASE_CONNECT_TIMEOUT_SECONDS=1))
    yield request.param, app
    with app.app_context():
        db.engine.dispose()


def test_healthz_tells_unreachable_from_not_migrated(broken):
    state, app = broken
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == state


def test_pages_api_and_webhooks_answer_503(broken):
    _, app = broken
    client = app.test_client()
    page = client.get("/")
    assert page.status_code == 503 and "text/html" in page.content_type and page.headers["Retry-After"]
    api = client.get("/api/v1/offices")
    assert api.status_code == 503 and api.json["code"] == "unavailable"
    twiml = client.post("/sms/inbound", data={"From": "+4915123456789", "Body": "1"})
    assert twiml.status_code in (403, 503)  # unsigned: refused before the database is asked
    if twiml.status_code == 503:
        assert twiml.data.startswith(b"<?xml")


def test_the_command_line_names_the_database(broken):
    state, app = broken
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code != 0
    if state == "not_migrated":
        assert "run flask --app wsgi db upgrade" in result.output
    else:
        assert "postgresql+psycopg://postgres:***@127.0.0.1" in result.output
        assert "hunter2" not in result.output
    assert "Traceback" not in result.output


@pytest.fixture
def config_overrides():
    return {"DATABASE_LOCK_TIMEOUT_SECONDS": 0.2, "SQLITE_BUSY_TIMEOUT_SECONDS": 0}


def test_a_lock_held_elsewhere_answers_503_with_retry_after(app, client, clock, database_uri):
    """Another connection holds the slot's row (PostgreSQL) or the write lock (SQLite)."""
    with app.app_context():
        slot = factories.slot(factories.office(), clock.now + timedelta(days=3))
        db.session.commit()
        slot_id = slot.id
    if database_uri.startswith("postgresql"):
        holder = psycopg.connect(database_uri.replace("postgresql+psycopg", "postgresql"))
        holder.execute("SELECT id FROM slot WHERE id = %s FOR UPDATE", (slot_id,))
    else:
        holder = sqlite3.connect(database_uri.removeprefix("sqlite:///"), isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
    try:
        response = client.post("/api/v1/bookings", json={
            "slot_id": slot_id, "name": "Amina", "phone": "0151 23456789", "locale": "de"})
    finally:
        holder.rollback()
        holder.close()
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.json["code"] == "unavailable"
    assert client.post("/api/v1/bookings", json={
        "slot_id": slot_id, "name": "Amina", "phone": "0151 23456789", "locale": "de"}).status_code == 201
