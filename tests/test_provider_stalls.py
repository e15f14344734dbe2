"""A provider that stalls holds up nobody but the dispatcher: bookings go on, on both
databases, while a send or a look-up hangs on a connection to Twilio that never answers.

The stall is real: the ``twilio`` library's own HTTP client goes through a local proxy
(127.0.0.1) that accepts the connection and never says a word.
"""
import socket
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from twilio.http.http_client import TwilioHttpClient

from scheduler import jobs
from scheduler.extensions import db
from scheduler.models import Message, MessageStatus

from . import factories
from .test_webhooks import status_report
from .twilio_fake import twilio_config

DEADLINE = 60  # seconds; only ever reached when something is broken


class SilentProxy:
    """Accepts connections on 127.0.0.1 and never answers, until ``release``."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.05)  # so that the accepting thread sees ``release``
        self.port = self.server.getsockname()[1]
        self.connections = []
        self.connected = threading.Event()
        self.released = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while not self.released.is_set():
            try:
                connection, _ = self.server.accept()
            except TimeoutError:
                continue
            self.connections.append(connection)
            self.connected.set()
        self.server.close()

    def release(self):
        """Hang up: the stalled request fails as a network error does."""
        self.released.set()
        self.thread.join(DEADLINE)
        for connection in self.connections:
            connection.close()


@pytest.fixture
def proxy():
    proxy = SilentProxy()
    yield proxy
    proxy.release()


@pytest.fixture
def config_overrides(proxy):
    http = TwilioHttpClient(proxy={"https": f"http://127.0.0.1:{proxy.port}"}, timeout=DEADLINE)
    # A short busy timeout: a booking queued behind a dispatcher holding SQLite's write
    # lock would fail with "database is locked" within the test.
    return {**twilio_config(http), "SQLITE_BUSY_TIMEOUT_SECONDS": 1, "OUTBOX_SEND_CONCURRENCY": 1}


@pytest.fixture
def slot_id(app, clock):
    with app.app_context():
        slot = factories.slot(factories.office(), clock.now + timedelta(days=3), seats=5)
        db.session.commit()
        return slot.id


def book(client, slot_id):
    return client.post("/api/v1/bookings", json={
        "slot_id": slot_id, "name": "Amina", "phone": factories.mobile(), "locale": "de"})


def in_background(app, job):
    """Run ``job`` in its own thread and application context, as the scheduler does."""
    failures = []

    def run():
        try:
            with app.app_context():
                job()
        except Exception as error:  # reported by the test
            failures.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, failures


def test_a_booking_returns_while_the_dispatcher_is_stuck_in_a_send(app, client, slot_id, proxy):
    assert book(client, slot_id).status_code == 201
    dispatcher, failures = in_background(app, lambda: jobs.dispatch_outbox(limit=1))
    assert proxy.connected.wait(DEADLINE), "the dispatcher never reached the provider"

    second = book(client, slot_id)  # no "database is locked", no wait on the provider

    assert second.status_code == 201, second.get_data(as_text=True)
    assert dispatcher.is_alive()  # still stuck in the send while the booking was made
    with app.app_context():
        statuses = db.session.scalars(select(Message.status).order_by(Message.id)).all()
    assert statuses == [MessageStatus.SENDING, MessageStatus.QUEUED]

    proxy.release()
    dispatcher.join(DEADLINE)
    assert not dispatcher.is_alive() and failures == []
    with app.app_context():
        first = db.session.scalar(select(Message).order_by(Message.id))
        assert first.status == MessageStatus.QUEUED and first.attempts == 1 and first.error


def test_recovery_asks_twilio_without_holding_the_message(app, client, clock, slot_id, proxy):
    """A dispatcher died mid-send; recover_outbox's look-up at Twilio hangs. Meanwhile
    Twilio's status callback for that very message, and a booking, go through."""
    assert book(client, slot_id).status_code == 201
    with app.app_context():
        message_id = db.session.scalar(select(Message.id))
        db.session.execute(update(Message).values(status=MessageStatus.SENDING, attempts=1,
                                                  claimed_at=clock.now))
        db.session.commit()
    clock.advance(minutes=app.config["OUTBOX_STALE_MINUTES"] + 1)
    recovery, failures = in_background(app, jobs.recover_outbox)
    assert proxy.connected.wait(DEADLINE), "recovery never asked the provider"

    reported = status_report(client, "SM" + "7" * 32, "delivered", message_id)
    booked = book(client, slot_id)

    assert reported.status_code == 200 and booked.status_code == 201
    assert recovery.is_alive()
    proxy.release()
    recovery.join(DEADLINE)
    assert not recovery.is_alive() and failures == []
    with app.app_context():
        message = db.session.get(Message, message_id)
        assert (message.status, message.delivery_status) == (MessageStatus.SENT, "delivered")
