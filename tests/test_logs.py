"""At INFO the log names messages, not people: no number, address, name or link."""
import logging
from datetime import timedelta

from scheduler import logs
from scheduler.extensions import db

from . import factories
from .outbox import deliver


def test_a_booking_its_sms_and_its_email_leave_no_personal_data_at_info(app, client, clock, caplog):
    with app.app_context():
        slot = factories.slot(factories.office(), clock.now + timedelta(days=3))
        db.session.commit()
        slot_id = slot.id
    caplog.set_level(logging.INFO)
    response = client.post("/api/v1/bookings", json={
        "slot_id": slot_id, "name": "Amina Haddad", "phone": "0151 23456789", "locale": "de",
        "email": "amina.haddad@example.org", "topic": "Kindergeld"})
    assert response.status_code == 201
    deliver(app)
    text = caplog.text
    assert "SMS #" in text and "e-mail #" in text  # the console backends did log the sends
    assert "+49 ••••• 89" in text
    for personal in ("23456789", "amina.haddad", "Amina", "Kindergeld", response.json["token"]):
        assert personal not in text


def test_debug_shows_the_text(app, client, clock, caplog):
    with app.app_context():
        slot = factories.slot(factories.office(), clock.now + timedelta(days=3))
        db.session.commit()
        slot_id = slot.id
    caplog.set_level(logging.DEBUG, logger="scheduler")
    client.post("/api/v1/bookings", json={"slot_id": slot_id, "name": "Amina", "phone": "0151 23456789",
                                          "locale": "de"})
    deliver(app)
    assert "+4915123456789" in caplog.text


def test_the_filter_masks_what_a_call_site_forgot():
    record = logging.LogRecord("scheduler.x", logging.WARNING, __file__, 1,
                               "Twilio: The 'To' number %s is not valid; see /b/%s and %s", (
                                   "+4915123456789", "AbCdEfGhIjKlMnOp", "a@example.org"), None)
    logs.RedactingFilter().filter(record)
    assert record.getMessage() == ("Twilio: The 'To' number +49 ••••• 89 is not valid; "
                                   "see /b/••••• and •••••@example.org")
    assert logs.phone("+380671234567") == "+380 ••••• 67"
