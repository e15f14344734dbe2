"""The outbox dispatcher of the scheduler process: sends messages as soon as they are written.

A thread of the leading scheduler process runs ``jobs.dispatch_outbox`` whenever there may be
something to send, and sleeps in between until woken:

- PostgreSQL: ``LISTEN outbox``. A trigger on the message table issues ``NOTIFY outbox`` in
  the transaction that writes messages, delivered at its commit (migration 0005);
- SQLite, which has no notifications: a poll of the due-message index every
  ``OUTBOX_POLL_SECONDS``, read without taking the write lock;
- a request served by this very process (``flask demo``) wakes it directly (``wake``);
- at the latest after ``OUTBOX_IDLE_SECONDS``: messages also fall due by the clock (the end
  of quiet hours, a retry's pause).
"""
import logging
import threading
import time

import psycopg
from sqlalchemy import select

from . import clock, jobs
from .database import WITHOUT_WRITE_LOCK
from .extensions import db
from .models import Message, MessageStatus

log = logging.getLogger(__name__)

CHANNEL = "outbox"  # the name migration 0005's trigger notifies


class Dispatcher:
    def __init__(self, app):
        self.app = app
        self.woken = threading.Event()
        self.stopping = threading.Event()
        self.thread = None

    def start(self):
        self.stopping.clear()
        self.app.extensions["outbox_wake"] = self.wake
        self.thread = threading.Thread(target=self._run, name="outbox-dispatcher", daemon=True)
        self.thread.start()

    def stop(self):
        """Stop after the batch in hand is recorded."""
        self.stopping.set()
        self.woken.set()
        if self.thread is not None:
            self.thread.join()
            self.thread = None
        if self.app.extensions.get("outbox_wake") == self.wake:
            del self.app.extensions["outbox_wake"]

    def wake(self):
        self.woken.set()

    def _run(self):
        with self.app.app_context():
            waiter = (Listener(db.engine) if db.engine.dialect.name == "postgresql"
                      else Poller(self.app))
        idle = self.app.config["OUTBOX_IDLE_SECONDS"]
        try:
            waiter.listen()  # before the first pass: nothing written after it goes unheard
            while not self.stopping.is_set():
                self.woken.clear()
                failed = not self._dispatch()
                waiter.wait(self, idle, calm=failed)
        finally:
            waiter.close()

    def _dispatch(self):
        with self.app.app_context():
            try:
                jobs.dispatch_outbox()
                return True
            except Exception:
                log.exception("dispatching the outbox failed; trying again shortly")
                db.session.rollback()
                return False


class Listener:
    """PostgreSQL: a connection of its own, outside the pool, that LISTENs."""

    def __init__(self, engine):
        self.engine = engine
        self.connection = None

    def listen(self):
        if self.connection is None:
            pooled = self.engine.raw_connection()  # with the engine's connect arguments
            connection = pooled.driver_connection
            pooled.detach()  # ours alone, never handed back to the pool
            connection.autocommit = True
            connection.execute(f"LISTEN {CHANNEL}")
            self.connection = connection
        return self.connection

    def wait(self, dispatcher, idle, calm=False):
        """Until notified, woken, stopped, or ``idle`` seconds passed; in slices of a
        second, so that stopping never waits long."""
        deadline = time.monotonic() + idle
        while not (dispatcher.stopping.is_set() or dispatcher.woken.is_set()):
            left = deadline - time.monotonic()
            if left <= 0:
                return
            if calm:
                dispatcher.stopping.wait(min(left, 1.0))
                continue
            try:
                for _ in self.listen().notifies(timeout=min(left, 1.0), stop_after=1):
                    return
            except psycopg.Error as error:  # the server went away: poll until it is back
                log.warning("listening for new messages failed: %s", error)
                self.close()
                calm = True

    def close(self):
        if self.connection is not None:
            try:
                self.connection.close()
            except psycopg.Error:
                pass
            self.connection = None


class Poller:
    """SQLite: a look at the due-message index, a few times a second, without the lock."""

    def __init__(self, app):
        self.app = app
        self.seconds = app.config["OUTBOX_POLL_SECONDS"]

    def listen(self):
        pass

    def wait(self, dispatcher, idle, calm=False):
        deadline = time.monotonic() + idle
        while not dispatcher.woken.wait(self.seconds):
            if dispatcher.stopping.is_set() or time.monotonic() >= deadline:
                return
            if not calm and self.anything_due():
                return

    def anything_due(self):
        with self.app.app_context():
            try:
                with db.engine.connect() as connection:
                    connection.execution_options(**{WITHOUT_WRITE_LOCK: True})
                    return connection.execute(
                        select(Message.id)
                        .where(Message.status == MessageStatus.QUEUED, Message.due_at <= clock.now())
                        .limit(1)
                    ).first() is not None
            except Exception as error:  # the next pass will tell; do not hammer meanwhile
                log.warning("looking for due messages failed: %s", error)
                return False

    def close(self):
        pass
