"""Jobs: the periodic work of the scheduler process. Each is a call into the service layer
that commits its own work, is safe to run twice, and safe to run from two processes at once.

They run inside an application context (the scheduler's own, or a CLI command's) and never
start at import time.
"""
import logging
from datetime import timedelta

from flask import current_app

from . import clock, delivery
from .database import allow_long_statements
from .extensions import db
from .services import offers, outbox, reminders, retention, slots, verification, waitlist

log = logging.getLogger(__name__)


def materialise_slots(now=None):
    allow_long_statements(current_app.config["DATABASE_JOB_STATEMENT_TIMEOUT_SECONDS"])
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


def expire_holds(now=None):
    """Phone verification: free the seats of holds nobody confirmed in time, offered on."""
    now = now or clock.now()
    expired = verification.expire(now)
    db.session.commit()
    return expired


def send_reminders(now=None):
    allow_long_statements(current_app.config["DATABASE_JOB_STATEMENT_TIMEOUT_SECONDS"])
    queued = reminders.queue_due(now or clock.now())
    db.session.commit()
    return queued


def purge_personal_data(now=None):
    allow_long_statements(current_app.config["DATABASE_JOB_STATEMENT_TIMEOUT_SECONDS"])
    purged = retention.purge(now or clock.now())
    db.session.commit()
    return purged


def dispatch_outbox(now=None, limit=None):
    """Send what is due, a batch at a time, until nothing due is left (or ``limit`` messages
    were handled, or the provider asked us to slow down). Returns how many were sent.

    Each batch is claimed and committed before anything is sent, so two dispatchers never
    send one message twice, and no transaction is open while the providers are called.
    """
    now = now or clock.now()
    config = current_app.config
    size = config["OUTBOX_BATCH_SIZE"]
    pause = timedelta(seconds=config["OUTBOX_RATE_LIMIT_PAUSE_SECONDS"])
    sent = handled = 0
    while limit is None or handled < limit:
        batch, seen = outbox.claim_due(now, limit=size if limit is None else min(size, limit - handled))
        db.session.commit()
        handled += seen
        if not batch:
            if seen:
                continue  # all of them skipped (opted out, too late): look at the next ones
            break
        results = delivery.send_batch(batch, now)
        sent += outbox.record(results, now, pause=pause)
        db.session.commit()
        if any(not result.tried for result in results):
            log.warning("the SMS provider asks us to slow down; the outbox pauses for %s", pause)
            break
    return sent


def recover_outbox(now=None):
    """Settle messages left in "sending" by a dispatcher that died mid-send.

    Resending blindly could text a resident twice (the crash may have come after the
    provider took the message); giving up would lose it. So we ask the provider: Twilio
    keeps every message it took, and ``lookup`` finds ours (same number, same text, created
    after the claim). Found: it was sent, record it. Not found: the provider never took it,
    so sending it again reaches the resident once. E-mail cannot be looked up; it is sent
    again with the same Message-ID, which mail systems treat as one message.

    The provider is asked with no transaction open; what it says is recorded only for
    messages still in the claim that was looked up.
    """
    now = now or clock.now()
    stale = outbox.stale(now)
    db.session.commit()
    found, lost = [], []
    for message in stale:
        try:
            provider_id = delivery.backend_for(message).lookup(message, message.claimed_at)
        except Exception as error:  # the provider cannot tell now: ask again next time
            log.warning("looking up message %s failed: %s", message.id, error)
            continue
        if provider_id:
            found.append((message, provider_id))
        else:
            lost.append(message)
    if not found and not lost:
        return 0
    recovered = outbox.record_recovered(found, lost, now)
    db.session.commit()
    return recovered


def tick(now=None):
    """One pass of every job, in the order that lets each use the last one's work."""
    now = now or clock.now()
    return {
        "slots": materialise_slots(now),
        "expired": expire_offers(now),
        "holds": expire_holds(now),
        "offers": make_offers(now),
        "reminders": send_reminders(now),
        "recovered": recover_outbox(now),
        "sent": dispatch_outbox(now),
        "purged": purge_personal_data(now),
    }
