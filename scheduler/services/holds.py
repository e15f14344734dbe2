"""What phone verification (``BOOKING_VERIFICATION=sms``) shares between bookings and waits:
whether it is on, how long a hold lasts, the one answer every number gets, and holding a
wait. Confirming and expiring are in ``verification``; docs/verification.md explains it.

Kept apart from ``verification`` so that ``waitlist`` can hold a wait without importing the
module that confirms it (which needs ``waitlist``).
"""
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import Message, WaitlistEntry, WaitlistStatus
from . import notify


@dataclass(frozen=True)
class Pending:
    """The answer to every booking or waitlist request while verification is on."""

    minutes: int


def enabled():
    return current_app.config["BOOKING_VERIFICATION"] == "sms"


def hold_minutes():
    return current_app.config["VERIFICATION_HOLD_MINUTES"]


def told_recently(kind, now, *, booking=None, entry=None):
    """Whether the number was sent ``kind`` about this booking or wait within a hold's time:
    a form must not be a way to flood a phone with "you already have ..." SMS."""
    since = now - timedelta(minutes=hold_minutes())
    about = (Message.booking_id == booking.id if booking is not None
             else Message.dedupe_key.like(f"{kind}:{entry.id}:%"))
    return db.session.scalar(select(Message.id).where(
        about, Message.kind == kind, Message.created_at > since,
    ).limit(1)) is not None


def hold_wait(office, details, preferences, upcoming, now):
    """Hold a wait for ``details`` (``waitlist.join`` calls this under the phone's lock).

    ``upcoming``: the number's bookings at the office. The answer is ``Pending`` whatever
    happened; only the SMS to the number says what: a new wait asks to be confirmed, a number
    that already has an appointment or already waits is told so, an open hold gets nothing."""
    answer = Pending(hold_minutes())
    if upcoming:
        if not told_recently("verification_known", now, booking=upcoming[0]):
            notify.verification_known(upcoming[0], now)
        return answer
    same = select(WaitlistEntry).where(WaitlistEntry.office_id == office.id,
                                       WaitlistEntry.phone == details["phone"])
    waiting = db.session.scalar(same.where(WaitlistEntry.status == WaitlistStatus.WAITING))
    if waiting is not None:
        if not told_recently("waitlist_known", now, entry=waiting):
            notify.waitlist_known(waiting, now)
        return answer
    if db.session.scalar(same.where(WaitlistEntry.status == WaitlistStatus.HELD,
                                    WaitlistEntry.hold_until > now).limit(1)) is not None:
        return answer  # the first SMS still stands: no second text to the number
    entry = WaitlistEntry(office_id=office.id, requested_at=now, status=WaitlistStatus.HELD,
                          hold_until=now + timedelta(minutes=answer.minutes),
                          **details, **preferences)
    db.session.add(entry)
    db.session.flush()
    notify.waitlist_verification(entry, answer.minutes, now)
    return answer
