"""E-mail invitations, sent through the outbox to a real SMTP server (aiosmtpd) on this machine."""
import socket
from contextlib import contextmanager
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from flask_babel import force_locale, gettext
from icalendar import Calendar
from sqlalchemy import select

from scheduler import jobs
from scheduler.extensions import db
from scheduler.models import Booking, Message, MessageStatus

from . import factories
from .outbox import deliver

SENDER = "termine@lokal-willkommen.dortmund.de"
REFUSED = "gibt-es-nicht@example.org"
BUSY = "voll@example.org"


class Inbox:
    """An aiosmtpd handler: keeps what it receives, refuses one address for good and
    another for now."""

    def __init__(self):
        self.received = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == REFUSED:
            return "550 5.1.1 No such user"
        if address == BUSY:
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.append(envelope)
        return "250 Message accepted for delivery"

    def mails(self):
        return [message_from_bytes(e.content, policy=policy.default) for e in self.received]


@contextmanager
def smtp_server(port):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture
def smtp_port():
    """A free port; nothing listens on it until ``inbox`` starts a server there."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def config_overrides(smtp_port):
    return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp_port}


@pytest.fixture
def inbox(smtp_port):
    with smtp_server(smtp_port) as inbox:
        yield inbox


@pytest.fixture
def slots(app, clock):
    """Two slots on Thursday, one seat each: 09:00 and 10:00."""
    with app.app_context():
        office = factories.office()
        ids = [factories.slot(office, clock.now + timedelta(days=3, hours=hours), seats=1).id
               for hours in (0, 1)]
        db.session.commit()
        return ids


def book(client, slot_id, **fields):
    response = client.post("/api/v1/bookings", json={
        "slot_id": slot_id, "name": "أمينة حداد", "phone": factories.mobile(), "locale": "ar",
        **fields,
    })
    assert response.status_code == 201, response.json
    deliver(client.application)
    return response.json


def invitation(mail):
    """The calendar part's ``method`` parameter and the calendar's one event."""
    [part] = [p for p in mail.walk() if p.get_content_type() == "text/calendar"]
    assert part.get_content_charset() == "utf-8"
    return part.get_param("method"), Calendar.from_ical(part.get_content())


def email_messages(app):
    with app.app_context():
        return list(db.session.scalars(
            select(Message).where(Message.channel == "email").order_by(Message.id)
        ))


def translated(app, locale, text, **values):
    with app.app_context(), force_locale(locale):
        return gettext(text, **values)


def test_a_booking_with_an_address_sends_an_invitation(app, client, slots, inbox):
    made = book(client, slots[0], email="amina@example.org", topic="Kindergeld")

    [envelope] = inbox.received
    assert (envelope.mail_from, envelope.rcpt_tos) == (SENDER, ["amina@example.org"])
    [mail] = inbox.mails()
    [message] = email_messages(app)
    assert message.status == MessageStatus.SENT and message.locale == "ar"
    assert mail["Message-ID"] == message.provider_id == (
        f"<outbox-{message.id}@lokal-willkommen.dortmund.de>")
    assert mail["To"] == "amina@example.org" and mail["Content-Language"] == "ar"
    assert mail["Subject"] == translated(
        app, "ar", "Appointment at lokal willkommen %(office)s", office="Lanstrop")
    text = mail.get_body(("plain",)).get_content()
    assert f"https://termine.example.org/b/{made['token']}" in text

    method, parsed = invitation(mail)
    assert method == parsed["METHOD"] == "REQUEST"
    [event] = parsed.walk("VEVENT")
    with app.app_context():
        uid = db.session.scalar(select(Booking.uid).where(Booking.token == made["token"]))
    assert event["UID"] == f"{uid}@lokal-willkommen.dortmund.de"
    assert event["SEQUENCE"] == 0 and event["STATUS"] == "CONFIRMED"
    assert event["ORGANIZER"] == f"mailto:{SENDER}"
    assert event["ORGANIZER"].params["CN"] == "lokal willkommen Lanstrop"
    attendee = event["ATTENDEE"]
    assert attendee == "mailto:amina@example.org"
    assert dict(attendee.params) == {"CN": "أمينة حداد", "ROLE": "REQ-PARTICIPANT",
                                     "PARTSTAT": "ACCEPTED", "RSVP": "FALSE"}
    assert event.walk("VALARM")
    [attached] = [p for p in mail.iter_attachments() if p.get_filename() == "invite.ics"]
    assert Calendar.from_ical(attached.get_content()) == parsed


def test_cancelling_sends_a_cancellation_of_the_same_event(app, client, slots, inbox):
    made = book(client, slots[0], email="amina@example.org")
    response = client.post(f"/api/v1/bookings/{made['token']}/cancel")
    assert response.status_code == 200 and response.json["status"] == "cancelled"
    deliver(app)

    invite, cancel = inbox.mails()
    assert cancel["Subject"] == translated(
        app, "ar", "Cancelled: appointment at lokal willkommen %(office)s", office="Lanstrop")
    assert cancel["Message-ID"] != invite["Message-ID"]
    (_, invited), (method, cancelled) = invitation(invite), invitation(cancel)
    assert method == cancelled["METHOD"] == "CANCEL"
    [before], [after] = invited.walk("VEVENT"), cancelled.walk("VEVENT")
    assert after["UID"] == before["UID"]
    assert after["SEQUENCE"] > before["SEQUENCE"]
    assert after["STATUS"] == "CANCELLED"
    assert after["ORGANIZER"] == before["ORGANIZER"] and after["ATTENDEE"] == before["ATTENDEE"]
    assert not after.walk("VALARM")  # RFC 5546: a cancellation carries no alarm


def test_moving_to_an_earlier_time_updates_the_same_event(app, client, slots, inbox):
    """Accepting a move-up offer sends the invitation again: same UID, next SEQUENCE."""
    first = book(client, slots[0])
    mover = book(client, slots[1], email="amina@example.org", notify_earlier=True)
    client.post(f"/api/v1/bookings/{first['token']}/cancel")
    deliver(app)
    offer = client.get(f"/api/v1/bookings/{mover['token']}").json["offer"]
    response = client.post(f"/api/v1/offers/{offer['token']}/accept")
    assert response.status_code == 200 and response.json["booking"]["slot_id"] == slots[0]
    deliver(app)

    invite, moved = inbox.mails()
    (_, invited), (method, updated) = invitation(invite), invitation(moved)
    [before], [after] = invited.walk("VEVENT"), updated.walk("VEVENT")
    assert method == "REQUEST"
    assert after["UID"] == before["UID"] and after["SEQUENCE"] == before["SEQUENCE"] + 1
    assert after.start == before.start - timedelta(hours=1)


def test_no_address_no_email(app, client, slots, inbox):
    made = book(client, slots[0])
    client.post(f"/api/v1/bookings/{made['token']}/cancel")
    assert inbox.received == [] and email_messages(app) == []


def test_a_refused_address_fails_for_good(app, client, slots, inbox, clock):
    book(client, slots[0], email=REFUSED)
    [message] = email_messages(app)
    assert message.status == MessageStatus.FAILED and message.attempts == 1
    assert "550" in message.error

    clock.advance(days=1)
    with app.app_context():
        assert jobs.dispatch_outbox() == 0
    [message] = email_messages(app)
    assert message.status == MessageStatus.FAILED and message.attempts == 1
    assert inbox.received == []


def test_an_unreachable_server_is_retried_with_backoff(app, client, slots, clock, smtp_port):
    booked_at = clock.now
    book(client, slots[0], email="amina@example.org")  # no server listens on smtp_port yet
    [message] = email_messages(app)
    assert message.status == MessageStatus.QUEUED and message.attempts == 1
    assert message.due_at == booked_at + timedelta(minutes=app.config["OUTBOX_RETRY_MINUTES"][0])
    assert message.error

    with smtp_server(smtp_port) as inbox, app.app_context():
        assert jobs.dispatch_outbox() == 0  # not due yet
        clock.advance(minutes=app.config["OUTBOX_RETRY_MINUTES"][0])
        assert jobs.dispatch_outbox() == 1
    [mail] = inbox.mails()
    [message] = email_messages(app)
    assert message.status == MessageStatus.SENT and message.attempts == 2
    assert mail["Message-ID"] == message.provider_id


def test_a_recipient_refused_for_now_is_retried(app, client, slots, inbox, clock):
    book(client, slots[0], email=BUSY)
    [message] = email_messages(app)
    assert message.status == MessageStatus.QUEUED and message.attempts == 1
    assert message.due_at > clock.now and "451" in message.error
