"""Confirmations leave through the outbox: the console backend, or Twilio's real library."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from scheduler import create_app
from scheduler.extensions import db
from scheduler.models import Booking, Message, MessageStatus

from . import factories
from .conftest import base_config
from .outbox import deliver
from .twilio_fake import ACCOUNT, config_overrides, twilio_http  # noqa: F401  (fixtures)


@pytest.fixture
def slot_id(app, clock):
    with app.app_context():
        slot = factories.slot(factories.office(), clock.now + timedelta(days=3))
        db.session.commit()
        return slot.id


def book(client, slot_id, locale="ar"):
    response = client.post("/api/v1/bookings", json={"slot_id": slot_id, "name": "Amina",
                                                     "phone": "0151 23456789", "locale": locale})
    deliver(client.application)
    return response


def test_the_confirmation_goes_to_twilio_in_the_residents_language(app, client, slot_id, twilio_http):
    token = book(client, slot_id).json["token"]
    [sent] = twilio_http.requests
    assert sent["method"] == "POST"
    assert sent["uri"] == f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
    assert sent["auth"] == (ACCOUNT, "secret")
    assert (sent["data"]["To"], sent["data"]["From"]) == ("+4915123456789", "+4923150000000")
    assert f"https://termine.example.org/b/{token}" in sent["data"]["Body"]
    assert "موعدك" in sent["data"]["Body"]
    with app.app_context():
        message = db.session.scalar(select(Message))
        assert message.status == MessageStatus.SENT
        assert message.provider_id == "SM" + "0" * 31 + "1"
        assert message.attempts == 1 and message.sent_at is not None


def test_cancelling_sends_one_cancellation(client, slot_id, twilio_http):
    token = book(client, slot_id, locale="en").json["token"]
    client.post(f"/api/v1/bookings/{token}/cancel")
    client.post(f"/api/v1/bookings/{token}/cancel")
    deliver(client.application)
    bodies = [r["data"]["Body"] for r in twilio_http.requests]
    assert len(bodies) == 2 and "is cancelled" in bodies[1]


def test_a_refused_send_is_recorded_and_the_booking_stands(app, client, slot_id, twilio_http):
    twilio_http.status, twilio_http.error = 400, "The 'To' number is not a valid phone number."
    assert book(client, slot_id).status_code == 201
    with app.app_context():
        message = db.session.scalar(select(Message))
        assert message.status == MessageStatus.FAILED
        assert "not a valid phone number" in message.error
        assert db.session.scalar(select(Booking.status)) == "booked"


def test_twilio_without_credentials_refuses_to_start(database_uri):
    with pytest.raises(RuntimeError, match="TWILIO_ACCOUNT_SID"):
        create_app(base_config(database_uri, SMS_BACKEND="twilio"))


def test_an_unknown_backend_refuses_to_start(database_uri):
    with pytest.raises(RuntimeError, match="unknown SMS_BACKEND"):
        create_app(base_config(database_uri, SMS_BACKEND="carrier-pigeon"))
