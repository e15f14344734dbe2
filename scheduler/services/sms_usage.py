"""How many SMS the outbox sent, and how many segments (what the provider bills), by office
and week, for the figures.

Each SMS's segments (as ``segments.segments`` counts them) and the office it belongs to are
recorded on its row when it is written (``models.message``; migration 0010 filled them in
for the messages before): the database sums a column, no text is read.
"""
from sqlalchemy import func, select

from ..extensions import db
from ..models import Message, MessageStatus


def count(scope, tallies):
    """SMS sent in the period. One about a booking or an offer belongs to its office; one about
    neither to the office of the waitlist entry it is about."""
    sent = (
        select(Message.office_id, scope.week(Message.sent_at).label("week"), func.count(),
               func.coalesce(func.sum(Message.segments), 0))
        .where(Message.channel == "sms", Message.status == MessageStatus.SENT, scope.within(Message.sent_at),
               Message.office_id.in_(scope.office_ids))
        .group_by(Message.office_id, "week")
    )
    for office_id, week, messages, parts in db.session.execute(sent):
        tally = tallies[office_id, week]
        tally.sms_messages += messages
        tally.sms_segments += int(parts)
