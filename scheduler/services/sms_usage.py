"""How many SMS the outbox sent, and how many segments (what the provider bills), by office
and week, for the figures.

Segments follow ``notify.segments``. On PostgreSQL the database measures each text (its
length, whether it is all GSM-7) and counts texts of the same measure together, so a year
of SMS comes back as a few hundred rows; only a text with a character that takes two units
(an escaped GSM-7 one such as "€", or an emoji) is read whole and counted by ``segments``.
Elsewhere every text is read and counted in Python.
"""
from collections import defaultdict

from sqlalchemy import case, func, select, true

from ..extensions import db
from ..models import Booking, Message, MessageStatus, Offer, WaitlistEntry
from .notify import GSM7, GSM7_EXTENSION, segments


def count(scope, tallies):
    """SMS sent in the period. One about a booking or an offer belongs to its office; one about
    neither (joining the waitlist) to the office where that number last joined the waitlist
    before the SMS was written."""
    sent = (Message.channel == "sms") & (Message.status == MessageStatus.SENT) & scope.within(Message.sent_at)
    for about, link, only in ((Booking, Booking.id == Message.booking_id, true()),
                              (Offer, Offer.id == Message.offer_id, Message.booking_id.is_(None))):
        query = (select(about.office_id.label("office_id"), scope.week(Message.sent_at).label("week"))
                 .select_from(Message).join(about, link)
                 .where(sent, only, about.office_id.in_(scope.office_ids)))
        for office_id, week, messages, parts in _measured(query, scope.postgresql):
            tally = tallies[office_id, scope.index(week)]
            tally.sms_messages += messages
            tally.sms_segments += parts
    _count_unlinked(scope, tallies, sent)


def _measured(query, in_database):
    """(office, week, messages, segments) for the texts ``query`` selects."""
    if not in_database:
        for office_id, week, body in db.session.execute(query.add_columns(Message.body)):
            yield office_id, week, 1, segments(body)
        return
    gsm = Message.body.regexp_match(f"^[{_bracketed(GSM7 + GSM7_EXTENSION)}]*$")
    # A character that takes two units: an escaped GSM-7 one, or one outside the BMP in UCS-2.
    wide = Message.body.regexp_match(f"[{_bracketed(GSM7_EXTENSION)}\\U00010000-\\U0010FFFF]")
    measured = query.add_columns(func.char_length(Message.body).label("length"), gsm.label("gsm"),
                                 case((wide, Message.body)).label("walked")).subquery()
    column = measured.c
    grouped = (
        select(column.office_id, column.week, column.length, column.gsm, column.walked, func.count())
        .group_by(column.office_id, column.week, column.length, column.gsm, column.walked)
    )
    for office_id, week, characters, is_gsm, body, number in db.session.execute(grouped):
        if body is not None:
            parts = segments(body)
        else:
            single, part = (160, 153) if is_gsm else (70, 67)
            parts = 1 if characters <= single else -(-characters // part)
        yield office_id, week, number, parts * number


def _bracketed(characters):
    """``characters`` escaped for a bracket expression of a PostgreSQL regular expression."""
    return "".join("\\" + char if char in "\\]^-[" else char for char in characters)


def _count_unlinked(scope, tallies, sent):
    unlinked = db.session.execute(
        select(scope.week(Message.sent_at), Message.body, Message.to, Message.created_at)
        .where(sent, Message.booking_id.is_(None), Message.offer_id.is_(None))
    ).all()
    if not unlinked:
        return
    joins = defaultdict(list)
    for phone, office_id, requested_at in db.session.execute(
        select(WaitlistEntry.phone, WaitlistEntry.office_id, WaitlistEntry.requested_at)
        .where(WaitlistEntry.phone.in_(list({phone for _week, _body, phone, _at in unlinked})))
        .order_by(WaitlistEntry.requested_at)
    ):
        joins[phone].append((requested_at, office_id))
    wanted = set(scope.office_ids)
    for week, body, phone, created_at in unlinked:
        before = [office_id for requested_at, office_id in joins.get(phone, ()) if requested_at <= created_at]
        if before and before[-1] in wanted:
            tally = tallies[before[-1], scope.index(week)]
            tally.sms_messages += 1
            tally.sms_segments += segments(body)
