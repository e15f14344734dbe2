"""Handing claimed messages to their providers: a batch at a time, a few at once, and never
inside a database transaction (the caller has committed the claim and holds no lock).

A provider that stalls stalls only the sends of this batch; requests never wait on it. A
provider that asks us to slow down (HTTP 429) pauses the batch: what was not yet handed
over goes back to the queue (``outbox.record``).
"""
import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from flask import current_app

from . import logs
from .services.outbox import Outgoing, PermanentFailure, Result

log = logging.getLogger(__name__)


def send_batch(batch: list[Outgoing], now) -> list[Result]:
    """Send every message of ``batch`` (``OUTBOX_SEND_CONCURRENCY`` at a time); one result
    each, in order. An exception that is not a send's failure (the process being killed)
    is raised, and nothing of the batch is recorded: ``recover_outbox`` settles it."""
    app = current_app._get_current_object()
    paused = threading.Event()

    def send(message: Outgoing) -> Result:
        if paused.is_set():
            return Result(message, tried=False)
        with app.app_context():  # backends build links from the configuration
            return send_one(message, now, paused)

    workers = min(app.config["OUTBOX_SEND_CONCURRENCY"], len(batch))
    if workers <= 1:
        return [send(message) for message in batch]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="outbox-send") as pool:
        return list(pool.map(send, batch))


def send_one(message: Outgoing, now, paused: threading.Event) -> Result:
    backend = backend_for(message)
    try:
        # A failed attempt may have failed after the provider took the message (a timeout
        # on the way back): before trying again, ask it, as recover_outbox does.
        provider_id = message.attempts > 1 and backend.lookup(message, message.created_at)
        provider_id = provider_id or backend.send(message, now)
    except PermanentFailure as error:
        log.warning("message %s refused: %s", message.id, logs.redact(str(error)))
        return Result(message, error=error, permanent=True)
    except Exception as error:  # the provider's failure is recorded and retried, never raised
        if rate_limited(error):
            paused.set()
        log.warning("sending message %s failed: %s", message.id, logs.redact(str(error)))
        return Result(message, error=error)
    return Result(message, provider_id=provider_id)


def rate_limited(error: Exception) -> bool:
    """The provider's "too many requests" (Twilio answers HTTP 429)."""
    return getattr(error, "status", None) == 429


def backend_for(message):
    return current_app.extensions["mail_backend" if message.channel == "email" else "sms_backend"]
