"""Jobs: the periodic and after-commit work. Each takes ids, calls services, commits.

They run inside an application context (a request's, or the scheduler's own) and never start
at import time.
"""
import logging

from flask import current_app

from . import clock
from .extensions import db
from .models import Message
from .services import outbox, slots

log = logging.getLogger(__name__)


def materialise_slots(now=None):
    created = slots.materialise(now or clock.now())
    db.session.commit()
    return created


def dispatch_outbox(booking_id=None, limit=100):
    """Send queued messages, each claimed in its own committed step before it is sent.

    The claim (queued -> sending) is committed before the provider is called, so two
    dispatchers never send one message twice.
    """
    backend = current_app.extensions["sms_backend"]
    sent = 0
    for message_id in outbox.queued_ids(limit=limit, booking_id=booking_id):
        claimed = outbox.claim(message_id)
        db.session.commit()
        if not claimed:
            continue
        try:
            provider_id = backend.send(db.session.get(Message, message_id))
        except Exception as error:  # the provider's failure is recorded, never raised
            log.warning("sending message %s failed: %s", message_id, error)
            db.session.rollback()
            outbox.record_failure(message_id, error)
        else:
            outbox.record_sent(message_id, provider_id, clock.now())
            sent += 1
        db.session.commit()
    return sent
