"""What a booking costs the database: every statement and every round trip of a transaction."""
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event

from scheduler.extensions import db

from . import factories

# BEGIN, the slot (whose statement takes the number's lock), what the number holds at the
# office, one statement for the seat, the booking and its messages, COMMIT. SQLite takes
# the seat, inserts the booking and each message in statements of their own.
MOST_STATEMENTS_PER_BOOKING = {"postgresql": 5, "sqlite": 8}


@contextmanager
def counted(app):
    """Every statement the engine sends: the cursor's (SQLite's ``BEGIN IMMEDIATE`` among
    them), and BEGIN (psycopg sends it on its own), COMMIT and ROLLBACK."""
    with app.app_context():
        engine = db.engine
    seen = []
    separate_begin = engine.dialect.name == "postgresql"

    def statement(conn, cursor, text, parameters, context, executemany):
        seen.append(" ".join(text.split()))

    def begin(conn):
        if separate_begin:
            seen.append("BEGIN")

    listeners = [("before_cursor_execute", statement), ("begin", begin),
                 ("commit", lambda conn: seen.append("COMMIT")),
                 ("rollback", lambda conn: seen.append("ROLLBACK"))]
    for name, listener in listeners:
        event.listen(engine, name, listener)
    try:
        yield seen
    finally:
        for name, listener in listeners:
            event.remove(engine, name, listener)


@pytest.mark.parametrize("extra", [{}, {"email": "amina@example.org", "notify_earlier": True,
                                        "topic": "Kindergeld"}], ids=["plain", "email-and-earlier"])
def test_a_booking_takes_six_statements_on_postgresql(app, client, clock, extra):
    with app.app_context():
        slot_id = factories.slot(factories.office(), clock.now + timedelta(days=3), seats=5).id
        db.session.commit()
    client.post("/api/v1/bookings", json={"slot_id": slot_id, "name": "Warm", "phone": factories.mobile(),
                                          "locale": "de"})  # first request: connections, caches

    with counted(app) as statements:
        response = client.post("/api/v1/bookings", json={
            "slot_id": slot_id, "name": "Amina", "phone": factories.mobile(), "locale": "ar", **extra})

    assert response.status_code == 201 and response.json["offer"] is None
    with app.app_context():
        dialect = db.engine.dialect.name
    assert len(statements) <= MOST_STATEMENTS_PER_BOOKING[dialect], "\n".join(s[:80] for s in statements)
    assert statements[-1] == "COMMIT"  # nothing read back after it
    if dialect == "postgresql":
        # The lock comes with the slot; what it guards is read by the statements after it.
        assert "pg_advisory_xact_lock" in statements[1] and statements[1].startswith("SELECT slot.")
        assert not any("pg_advisory" in statement for statement in statements[2:])
