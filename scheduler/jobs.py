"""Jobs: the periodic and after-commit work. Each is a call into the service layer that
commits its own work, is safe to run twice, and safe to run from two processes at once.

They run inside an application context (a request's, or the scheduler's own) and never start
at import time.
"""
import logging

from flask import current_app

from . import clock
from .extensions import db
from .models import Message, MessageStatus
from .services import offers, outbox, reminders, retention, slots, waitlist

log = logging.getLogger(__name__)


def materialise_slots(now=None):
    created = slots.materialise(now or clock.now())
    db.session.commit()
    return created


def make_offers(now=None):
    """The safety net: a cancellation offers its seat at once; this catches the rest (new
    slots, seats nobody could use before, work a crashed request left)."""
    now = now or clock.now()
    made = 0
    for slot_id in offers.slots_to_fill(now):
        made += len(offers.fill_slot(slot_id, now))
        db.session.commit()  # one slot at a time: short transactions, nothing held long
    return made


def expire_offers(now=None):
    now = now or clock.now()
    ended = offers.expire(now) + waitlist.lapse(now)
    db.session.commit()
    return ended


def send_reminders(now=None):
    queued = reminders.queue_due(now or clock.now())
    db.session.commit()
    return queued


def purge_personal_data(now=None):
    purged = retention.purge(now or clock.now())
    db.session.commit()
    return purged


def dispatch_outbox(now=None, message_ids=None, limit=100):
    """Send what is due. Each batch is claimed and committed before anything is sent, so two
    dispatchers never send one message twice."""
    now = now or clock.now()
    claimed = outbox.claim_due(now, limit=limit, message_ids=message_ids)
    db.session.commit()
    sent = 0
    for message_id in claimed:
        message = db.session.get(Message, message_id)
        backend = backend_for(message)
        try:
            # A failed attempt may have failed after the provider took the message (a timeout
            # on the way back): before trying again, ask it, as recover_outbox does.
            provider_id = message.attempts > 1 and backend.lookup(message, message.created_at)
            provider_id = provider_id or backend.send(message, now)
        except outbox.PermanentFailure as error:
            log.warning("message %s refused: %s", message_id, error)
            db.session.rollback()
            outbox.record_failure(message_id, error, now, permanent=True)
        except Exception as error:  # the provider's failure is recorded and retried, never raised
            log.warning("sending message %s failed: %s", message_id, error)
            db.session.rollback()
            outbox.record_failure(message_id, error, now)
        else:
            outbox.record_sent(message_id, provider_id, now)
            sent += 1
        db.session.commit()
    return sent


def recover_outbox(now=None):
    """Settle messages left in "sending" by a dispatcher that died mid-send.

    Resending blindly could text a resident twice (the crash may have come after the
    provider took the message); giving up would lose it. So we ask the provider: Twilio
    keeps every message it took, and ``lookup`` finds ours (same number, same text, created
    after the claim). Found: it was sent, record it. Not found: the provider never took it,
    so sending it again reaches the resident once. E-mail cannot be looked up; it is sent
    again with the same Message-ID, which mail systems treat as one message.
    """
    now = now or clock.now()
    recovered = 0
    for message in outbox.stale(now):
        try:
            provider_id = backend_for(message).lookup(message, message.claimed_at)
        except Exception as error:  # the provider cannot tell now: ask again next time
            log.warning("looking up message %s failed: %s", message.id, error)
            continue
        if provider_id:
            outbox.record_sent(message.id, provider_id, message.claimed_at)
        else:
            message.status, message.due_at = MessageStatus.QUEUED, now
        recovered += 1
    db.session.commit()
    return recovered


def backend_for(message):
    return current_app.extensions["mail_backend" if message.channel == "email" else "sms_backend"]


def tick(now=None):
    """One pass of every job, in the order that lets each use the last one's work."""
    now = now or clock.now()
    return {
        "slots": materialise_slots(now),
        "expired": expire_offers(now),
        "offers": make_offers(now),
        "reminders": send_reminders(now),
        "recovered": recover_outbox(now),
        "sent": dispatch_outbox(now, limit=1000),
        "purged": purge_personal_data(now),
    }
