"""Messages written to the outbox, in the transaction of the change they tell of: an SMS, or
an e-mail with a calendar file, about a booking, an offer or a wait. The dispatcher
(``jobs.dispatch_outbox``) sends them after the commit; what they say is ``notify``'s.
"""
import logging
import unicodedata
from datetime import datetime

from flask_babel import force_locale
from flask_babel import gettext as _

from ..extensions import db
from ..models import Booking, BookingStatus, Message, MessageStatus, Offer, Office
from ..segments import is_gsm7, segments
from . import calendar, outbox

log = logging.getLogger(__name__)


def queue_sms(phone: str, locale: str, kind: str, body: str, *, now: datetime,
              booking: Booking | None = None, offer: Offer | None = None, office: Office | None = None,
              due_at: datetime | None = None, valid_until: datetime | None = None,
              dedupe_key: str | None = None, opted_out: bool | None = None,
              write: bool = True) -> Message | None:
    """Write an SMS to the outbox, written and due at ``now`` unless ``due_at`` says later.

    ``office``: the office an SMS about neither a booking nor an offer belongs to (a waitlist
    entry's), for the figures; otherwise the booking's or the offer's.

    ``opted_out``: whether the number replied STOP, if the caller knows (then it is kept,
    as skipped). If not, nobody looks it up here: the dispatcher checks every number it
    sends to, and skips the message then, which spares a request a query.

    No number, no SMS: staff may book a walk-in without one (returns None).
    """
    if not phone:
        return None
    message = Message(
        channel="sms", to=phone, kind=kind, locale=locale, body=plain_spaces(body), booking=booking,
        offer=offer, office=office, valid_until=valid_until, dedupe_key=dedupe_key, created_at=now,
        due_at=due_at or now, subject=None, attachment=None,
    )
    message.segments = parts = segments(message.body)
    if parts > (2 if is_gsm7(message.body) else 3):
        # tests/test_sms_texts.py keeps every text within two parts (three in Unicode) with a
        # 45-character base URL; a longer PUBLIC_BASE_URL or office name can still push one
        # over. Sent anyway; the log names the kind, never the number.
        log.warning("An SMS (%s, %s) takes %d parts: shorten PUBLIC_BASE_URL or the office name",
                    kind, locale, parts)
    if opted_out:
        message.status, message.error = MessageStatus.SKIPPED, "opted out (STOP)"
    if write:
        _write(message)
    return message


def _write(message):
    db.session.add(message)
    outbox.track(message)


def plain_spaces(text):
    """Babel puts narrow or no-break spaces in times ("9:00\u202fAM"): not in the GSM
    alphabet, one of them would make an English SMS a Unicode one, of half the length."""
    spaces = {ord(char): " " for char in set(text) if char != " " and unicodedata.category(char) == "Zs"}
    return text.translate(spaces) if spaces else text


def queue_calendar_email(booking, now, text, *, write=True):
    """The invitation, or its cancellation, for residents who gave an e-mail address; the
    text is the SMS's, which says what happened and links to the booking or the office."""
    if not booking.email:
        return None
    office = booking.office
    cancelled = booking.status == BookingStatus.CANCELLED
    with force_locale(booking.locale):
        subject = (
            _("Cancelled: appointment at lokal willkommen %(office)s", office=office.name)
            if cancelled else _("Appointment at lokal willkommen %(office)s", office=office.name)
        )
    message = Message(
        channel="email", to=booking.email, kind="cancellation" if cancelled else "invitation",
        locale=booking.locale, subject=subject, body=text, booking=booking, created_at=now,
        due_at=now, offer=None, valid_until=None, dedupe_key=None,
        attachment=calendar.booking_calendar(
            booking, now, method="CANCEL" if cancelled else "REQUEST"
        ).decode(),
    )
    if write:
        _write(message)
    return message
