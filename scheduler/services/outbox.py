"""The outbox: claiming due messages in batches, and recording what became of them.

A message moves queued -> sending (claimed, committed before the provider is called) ->
sent, or back to queued with a backoff after a transient failure, or to failed or skipped.
A claimed message leaves the session as an ``Outgoing`` snapshot: the provider is called
with no transaction open, so nothing may load from the database while it is.

What must happen just before a kind of message goes out (an offer's hold starts when its
SMS does) belongs to the service that writes that kind: it registers a hook with
``before_send``. The outbox knows no offers.
"""
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, bindparam, select, update
from sqlalchemy.orm import Load
from sqlalchemy.orm.attributes import set_committed_value

from ..extensions import db
from ..models import Message, MessageStatus, OptOut
from . import sms_budget

OPTED_OUT = "opted out (STOP)"


class PermanentFailure(Exception):
    """The provider refused the message for good (an invalid number, say): no retry.

    ``unsubscribed``: the number has opted out with the carrier or Twilio (STOP sent to them
    directly); we record it as our own opt-out, so it gets no offers it cannot hear of."""

    def __init__(self, text, unsubscribed=False):
        super().__init__(text)
        self.unsubscribed = unsubscribed


@dataclass(frozen=True)
class Outgoing:
    """A claimed message as the backends see it, detached from the database."""

    id: int
    channel: str
    to: str
    kind: str
    locale: str
    subject: str | None
    body: str
    attachment: str | None
    valid_until: datetime | None
    due_at: datetime
    created_at: datetime
    claimed_at: datetime
    attempts: int  # this one included


@dataclass(frozen=True)
class Result:
    """What became of one send. ``tried`` is False for a message the batch never handed
    to the provider (it paused: the provider asked us to slow down)."""

    message: Outgoing
    provider_id: str | None = None
    error: Exception | None = None
    permanent: bool = False
    tried: bool = True


# What must happen before a message of a kind goes out: hook(message, now, opted_out) runs
# in the claiming transaction and returns a reason to skip the message, or None.
BeforeSend = Callable[[Message, datetime, bool], str | None]
_before_send: dict[str, BeforeSend] = {}
_load_options: list[Load] = []


def before_send(kind: str, *load: Load) -> Callable[[BeforeSend], BeforeSend]:
    """Register the hook of ``kind`` (a decorator); ``load``: loader options for the rows
    it reads, so a batch loads them in one query rather than one per message."""

    def register(hook: BeforeSend) -> BeforeSend:
        _before_send[kind] = hook
        _load_options.extend(load)
        return hook

    return register


def track(message: Message) -> None:
    """Remember that this transaction wrote a message (``web.outbox`` wakes the dispatcher)."""
    db.session.info.setdefault("outbox", []).append(message)


def tracked() -> list[Message]:
    """The messages this request wrote; forgets them."""
    return db.session.info.pop("outbox", [])


def claim_due(now: datetime, limit: int) -> tuple[list[Outgoing], int]:
    """Claim up to ``limit`` due messages for sending (queued -> sending); returns them, and
    how many due messages it took on (the claimed, those it skipped, those put off).

    One ``UPDATE … RETURNING`` takes the batch: on PostgreSQL its ``FOR UPDATE SKIP
    LOCKED`` lets two dispatchers claim different messages side by side; on SQLite every
    transaction holds the write lock from its start, so claims queue up. Then, in the same
    transaction: SMS to numbers that opted out, messages too late and those a kind's hook
    refuses are skipped, and SMS to new numbers over the hour's budget (``sms_budget``) go
    back to the queue until the next hour. Only kinds with a hook load ORM objects. The
    caller commits before sending, so no other dispatcher can take them.
    """
    due = (select(Message.id)
           .where(Message.status == MessageStatus.QUEUED, Message.due_at <= now)
           .order_by(Message.due_at, Message.id)
           .limit(limit)
           .with_for_update(skip_locked=True))
    rows = sorted(db.session.execute(
        update(Message).where(Message.id.in_(due.scalar_subquery()))
        .values(status=MessageStatus.SENDING, attempts=Message.attempts + 1, claimed_at=now)
        .returning(*_CLAIMED)
        .execution_options(synchronize_session=False)
    ).all(), key=lambda row: (row.due_at, row.id))
    if not rows:
        return [], 0
    phones = {row.to for row in rows if row.channel == "sms"}
    opted_out = set(db.session.scalars(
        select(OptOut.phone).where(OptOut.phone.in_(phones))
    )) if phones else set()
    skipped: dict[str, list[int]] = {}
    late = [row for row in rows if row.kind not in _before_send and row.valid_until is not None
            and row.valid_until <= now]
    for row in rows:
        if row.kind not in _before_send and row.channel == "sms" and row.to in opted_out:
            skipped.setdefault(OPTED_OUT, []).append(row.id)
    for row in late:
        skipped.setdefault(TOO_LATE, []).append(row.id)
    gone = {id_ for ids in skipped.values() for id_ in ids}
    waiting = sms_budget.admit(
        [row.to for row in rows if row.channel == "sms" and row.id not in gone
         and row.to not in opted_out], now)
    put_off = [row.id for row in rows
               if row.channel == "sms" and row.to in waiting and row.id not in gone]
    gone.update(put_off)
    hooked = {row.id for row in rows if row.kind in _before_send and row.id not in gone}
    loaded = {message.id: message for message in db.session.scalars(
        select(Message).where(Message.id.in_(hooked)).options(*_load_options)
        .execution_options(populate_existing=True)
    )} if hooked else {}
    for message in loaded.values():
        # The hook sees the message as it was before this claim (a retry has attempts > 0).
        set_committed_value(message, "attempts", message.attempts - 1)
        opted = message.channel == "sms" and message.to in opted_out
        reason = reason_to_skip(message, now, opted)
        if reason:
            skipped.setdefault(reason, []).append(message.id)
            gone.add(message.id)
    for reason, ids in skipped.items():
        _unclaim(ids, status=MessageStatus.SKIPPED, error=reason)
    if put_off:
        _unclaim(put_off, status=MessageStatus.QUEUED, error=sms_budget.WAITING,
                 due_at=sms_budget.resume_at(now))
    return [_outgoing(loaded.get(row.id, row), now, row.attempts)
            for row in rows if row.id not in gone], len(rows)


TOO_LATE = "too late: no longer of use"
_CLAIMED = (Message.id, Message.channel, Message.to, Message.kind, Message.locale,
            Message.subject, Message.body, Message.attachment, Message.valid_until,
            Message.due_at, Message.created_at, Message.attempts)


def _unclaim(ids: list[int], **values) -> None:
    """Give back messages the claim took on but will not send: the attempt is not counted."""
    db.session.execute(
        update(Message).where(Message.id.in_(ids))
        .values(attempts=Message.attempts - 1, **values)
        .execution_options(synchronize_session=False)
    )


def reason_to_skip(message: Message, now: datetime, opted_out: bool) -> str | None:
    hook = _before_send.get(message.kind)
    reason = hook(message, now, opted_out) if hook else (OPTED_OUT if opted_out else None)
    if reason:
        return reason
    if message.valid_until is not None and message.valid_until <= now:
        return TOO_LATE
    return None


def _outgoing(message: Message, claimed_at: datetime, attempts: int) -> Outgoing:
    return Outgoing(
        id=message.id, channel=message.channel, to=message.to, kind=message.kind,
        locale=message.locale, subject=message.subject, body=message.body,
        attachment=message.attachment, valid_until=message.valid_until, due_at=message.due_at,
        created_at=message.created_at, claimed_at=claimed_at, attempts=attempts,
    )


def record(results: Iterable[Result], now: datetime, pause: timedelta | None = None) -> int:
    """Record a batch's results in two statements at most; returns how many were sent.

    Only messages still in the dispatcher's claim are changed: a status callback that
    recorded the send first is not undone. Messages the batch never tried go back to the
    queue without losing an attempt, due after ``pause``.
    """
    rows, untried, unsubscribed = [], [], set()
    pauses = current_app.config["OUTBOX_RETRY_MINUTES"]
    for result in results:
        message = result.message
        if not result.tried:
            untried.append(message.id)
            continue
        row = {"_id": message.id, "_claimed": message.claimed_at, "_provider_id": result.provider_id,
               "_sent_at": None, "_error": None, "_due_at": message.due_at}
        if result.error is None:
            row.update(_status=MessageStatus.SENT, _sent_at=now)
        else:
            row["_error"] = str(result.error)[:2000]
            if result.permanent or message.attempts > len(pauses):
                row["_status"] = MessageStatus.FAILED
            else:
                row.update(_status=MessageStatus.QUEUED,
                           _due_at=now + timedelta(minutes=pauses[message.attempts - 1]))
            if getattr(result.error, "unsubscribed", False):
                unsubscribed.add(message.to)
        rows.append(row)
    for phone in unsubscribed:
        opt_out(phone, now)
    if rows:
        db.session.execute(
            update(Message.__table__)
            .where(Message.id == bindparam("_id"), Message.status == MessageStatus.SENDING,
                   Message.claimed_at == bindparam("_claimed"))
            .values(status=bindparam("_status"), provider_id=bindparam("_provider_id"),
                    sent_at=bindparam("_sent_at"), error=bindparam("_error"),
                    due_at=bindparam("_due_at")),
            rows,
        )
    if untried:
        db.session.execute(
            update(Message).where(Message.id.in_(untried), Message.status == MessageStatus.SENDING)
            .values(status=MessageStatus.QUEUED, attempts=Message.attempts - 1,
                    due_at=now + (pause or timedelta()))
            .execution_options(synchronize_session=False)
        )
    return sum(1 for row in rows if row["_status"] == MessageStatus.SENT)


def opt_out(phone: str, now: datetime) -> None:
    if db.session.get(OptOut, phone) is None:
        db.session.add(OptOut(phone=phone, created_at=now))


def stale(now: datetime, limit: int = 100) -> list[Outgoing]:
    """Messages claimed long ago and never recorded: their dispatcher died mid-send.

    Read without a lock: the provider is asked about them after this transaction ends, and
    ``record_recovered`` changes only messages still in the claim that was looked up."""
    cutoff = now - timedelta(minutes=current_app.config["OUTBOX_STALE_MINUTES"])
    messages = db.session.scalars(
        select(Message)
        .where(Message.status == MessageStatus.SENDING, Message.claimed_at < cutoff)
        .order_by(Message.id)
        .limit(limit)
    ).all()
    return [_outgoing(message, message.claimed_at, message.attempts) for message in messages]


def record_recovered(found: Sequence[tuple[Outgoing, str]], lost: Sequence[Outgoing],
                     now: datetime) -> int:
    """What the provider said of stale messages: ``found`` were sent (at their claim),
    ``lost`` never reached it and are due again now. Returns how many were settled."""
    settled = 0
    for message, provider_id in found:
        settled += _settle(message, status=MessageStatus.SENT, provider_id=provider_id,
                           sent_at=message.claimed_at, error=None)
    for message in lost:
        settled += _settle(message, status=MessageStatus.QUEUED, due_at=now)
    return settled


def _settle(message: Outgoing, **values) -> int:
    return db.session.execute(
        update(Message)
        .where(and_(Message.id == message.id, Message.status == MessageStatus.SENDING,
                    Message.claimed_at == message.claimed_at))
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount


def record_delivery(provider_id, status, error_code, message_id=None):
    """What Twilio's status callback reports. Repeated or late callbacks change nothing.

    ``message_id`` comes from our callback URL: it finds a message whose send was never
    recorded because its dispatcher died right after Twilio took it, or whose send looked
    failed (a timeout) and waits for a retry that would text the resident twice.
    """
    if status not in DELIVERY_ORDER:  # a status Twilio added (e.g. partially_delivered)
        return None
    message = db.session.scalar(select(Message).where(Message.provider_id == provider_id))
    if message is None and message_id is not None:
        message = db.session.get(Message, message_id)
        if message is not None and message.provider_id is None and message.status in (
                MessageStatus.SENDING, MessageStatus.QUEUED):
            message.provider_id = provider_id
            message.status = MessageStatus.SENT
            message.sent_at = message.claimed_at
    if message is None or message.provider_id != provider_id:
        return None
    if DELIVERY_ORDER.get(status, 0) >= DELIVERY_ORDER.get(message.delivery_status, 0):
        message.delivery_status = status
        if error_code:
            message.error = f"Twilio error {error_code}"
    return message


# Twilio's statuses in the order they happen; a callback that arrives late never moves a
# message back (a "sent" after a "delivered" is ignored).
DELIVERY_ORDER = {
    "accepted": 1, "scheduled": 1, "queued": 2, "sending": 3, "sent": 4,
    "delivered": 5, "undelivered": 5, "failed": 5, "read": 6,
}


def listing(to=None):
    query = select(Message).order_by(Message.id)
    if to is not None:
        query = query.where(Message.to == to)
    return list(db.session.scalars(query))
