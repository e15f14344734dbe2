"""Test data for the agenda and the office desk: two offices, their staff and an administrator.

Monday 23 November 2026, 09:00 (the ``clock`` fixture); Lanstrop is open on Thursdays, so
its next day of consultation hours is Thursday 26 November.
"""
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import AuditEntry, Message
from scheduler.services import booking, waitlist

from . import factories
from .conftest import BERLIN

THURSDAY = datetime(2026, 11, 26, 9, 0, tzinfo=BERLIN)


@dataclass
class Desk:
    """Ids and API tokens, usable outside the application context."""

    lanstrop: int
    nordstadt: int
    tokens: dict  # "anna" (Lanstrop), "ben" (Nordstadt), "admin"

    def headers(self, who):
        return {"Authorization": f"Bearer {self.tokens[who]}"}


def make_desk(app):
    with app.app_context():
        # Lanstrop's Thursday, and a Monday hour whose slots are never made here: a wish for a
        # Monday is one the office can meet, yet nothing is free for it.
        lanstrop = factories.office(hours=((3, "08:30", "11:30", 30, 2), (0, "09:00", "12:00", 30, 1)))
        nordstadt = factories.office(slug="nordstadt", name="Nordstadt", address="Dortmund-Nordstadt")
        accounts = {
            "anna": factories.staff("anna@example.org", offices=[lanstrop]),
            "ben": factories.staff("ben@example.org", offices=[nordstadt]),
            "admin": factories.staff("admin@example.org", admin=True),
        }
        tokens = {who: factories.api_token(account) for who, account in accounts.items()}
        db.session.commit()
        return Desk(lanstrop.id, nordstadt.id, tokens)


def logged_in(app, email="anna@example.org"):
    """A browser of a staff member, reading English (pages fall back to English in tests)."""
    client = app.test_client()
    factories.log_in(client, email)
    client.get("/staff/?lang=en")
    return client


def form_token(client, path):
    return factories.csrf_token(client.get(path).get_data(as_text=True))


def book(slot, now, name="Amina Khalil", locale="ar", **details):
    return booking.book(slot.id, name=name, phone=factories.mobile(), locale=locale, now=now, **details)


def join(office, now, name="Olena Koval", locale="en", **preferences):
    return waitlist.join(office, name=name, phone=factories.mobile(), locale=locale, now=now, **preferences)


def messages_to(phone, kind=None):
    query = select(Message).where(Message.to == phone).order_by(Message.id)
    if kind is not None:
        query = query.where(Message.kind == kind)
    return list(db.session.scalars(query))


def audit_entries(action=None):
    query = select(AuditEntry).order_by(AuditEntry.id)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    return list(db.session.scalars(query))
