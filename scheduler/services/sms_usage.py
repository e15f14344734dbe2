"""How many SMS the outbox sent, and how many segments (what the provider bills), by office
and week, for the figures.

Segments follow ``notify.segments``. On PostgreSQL the database measures each text (its
length, whether it is all GSM-7) and counts texts of the same measure together, so a year
of SMS comes back as a few hundred rows; only a text with a character that takes two units
(an escaped GSM-7 one such as "€", or an emoji) is read whole and counted by ``segments``.
Elsewhere every text is read and counted in Python.
"""
from sqlalchemy import case, func, select, true

from ..extensions import db
from ..models import Booking, Message, MessageStatus, Offer, WaitlistEntry
from .notify import GSM7, GSM7_EXTENSION, segments


def count(scope, tallies):
    """SMS sent in the period. One about a booking or an offer belongs to its office; one about
    neither (joining the waitlist) to the office where that number last joined the waitlist
    before the SMS was written."""
    sent = (Message.channel == "sms") & (Message.status == MessageStatus.SENT) & scope.within(Message.sent_at)
    entry = WaitlistEntry
    joined = (
        select(entry.office_id.label("office_id"), scope.week(Message.sent_at).label("week"),
               Message.body.label("body"),
               func.row_number().over(partition_by=Message.id, order_by=entry.requested_at.desc()).label("latest"))
        .join(entry, (entry.phone == Message.to) & (entry.requested_at <= Message.created_at))
        .where(sent, Message.booking_id.is_(None), Message.offer_id.is_(None))
    ).subquery()
    queries = [
        (select(about.office_id.label("office_id"), scope.week(Message.sent_at).label("week"))
         .select_from(Message).join(about, link).where(sent, only, about.office_id.in_(scope.office_ids)),
         Message.body)
        for about, link, only in ((Booking, Booking.id == Message.booking_id, true()),
                                  (Offer, Offer.id == Message.offer_id, Message.booking_id.is_(None)))
    ]
    queries.append((select(joined.c.office_id, joined.c.week)
                    .where(joined.c.latest == 1, joined.c.office_id.in_(scope.office_ids)), joined.c.body))
    for query, body in queries:
        for office_id, week, messages, parts in _measured(query, body, scope.postgresql):
            tally = tallies[office_id, week]
            tally.sms_messages += messages
            tally.sms_segments += parts


def _measured(query, body, in_database):
    """(office, week, messages, segments) for the texts (``body``) ``query`` selects."""
    if not in_database:
        for office_id, week, text in db.session.execute(query.add_columns(body)):
            yield office_id, week, 1, segments(text)
        return
    # Most texts are read once: plain GSM-7. The rest fail that test early (an Arabic text at
    # its first Arabic letter), then are either GSM-7 with escaped characters such as "€" (rare:
    # walked) or UCS-2, walked only with a character outside the BMP (an emoji).
    plain = body.regexp_match(f"^[{_bracketed(GSM7)}]*$")
    escaped = body.regexp_match(f"^[{_bracketed(GSM7 + GSM7_EXTENSION)}]*$")
    astral = body.regexp_match("[\\U00010000-\\U0010FFFF]")
    gsm = case((plain, True), (escaped, True), else_=False)
    walked = case((plain, None), (escaped, body), (astral, body))
    measured = query.add_columns(func.char_length(body).label("length"), gsm.label("gsm"),
                                 walked.label("walked")).subquery()
    column = measured.c
    grouped = (
        select(column.office_id, column.week, column.length, column.gsm, column.walked, func.count())
        .group_by(column.office_id, column.week, column.length, column.gsm, column.walked)
    )
    for office_id, week, characters, is_gsm, text, number in db.session.execute(grouped):
        if text is not None:
            parts = segments(text)
        else:
            single, part = (160, 153) if is_gsm else (70, 67)
            parts = 1 if characters <= single else -(-characters // part)
        yield office_id, week, number, parts * number


def _bracketed(characters):
    """``characters`` escaped for a bracket expression of a PostgreSQL regular expression."""
    return "".join("\\" + char if char in "\\]^-[" else char for char in characters)
