"""The scheduler process: one leader runs the APScheduler loop, any other waits.

Leadership is a database lock, so it holds across hosts: on PostgreSQL a session advisory
lock on a connection the leader keeps open (it is released the moment the leader's
connection dies); on SQLite a lease row the leader renews, which another process may take
once it has expired. Either way the leader writes a heartbeat that ``/healthz`` reports.
"""
import logging
import os
import socket
import uuid
from datetime import UTC, datetime, timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from flask import current_app
from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from . import clock, jobs
from .dispatcher import Dispatcher
from .extensions import db
from .models import SchedulerLease
from .services.locks import lock_key

log = logging.getLogger(__name__)

LEASE = "scheduler"

# (job, seconds between runs). Every job is safe to run late, twice, or beside another
# process, so the settings below only keep the loop calm, never correct. The outbox is not
# among them: the dispatcher sends it as soon as messages are written (see ``dispatcher``).
SCHEDULE = [
    (jobs.expire_offers, 30),
    (jobs.expire_holds, 30),
    (jobs.make_offers, 60),
    (jobs.send_reminders, 300),
    (jobs.recover_outbox, 300),
    (jobs.materialise_slots, 3600),
    (jobs.purge_personal_data, 24 * 3600),
]


def holder_name():
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class PostgresLeadership:
    def __init__(self, engine, holder, seconds):
        self.engine = engine
        self.holder = holder
        self.seconds = seconds
        self.connection = None

    def acquire(self, now):
        """Take the advisory lock, or keep it, and beat; False while another process holds it."""
        if self.connection is not None:
            try:
                self.connection.execute(text("SELECT 1"))
            except SQLAlchemyError:
                self.release()  # our connection died, and with it the lock
        if self.connection is None:
            connection = self.engine.connect()
            got = connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": lock_key(LEASE)}).scalar()
            connection.commit()
            if not got:
                connection.close()
                return False
            self.connection = connection
        heartbeat(self.holder, now, self.seconds)
        return True

    def release(self):
        if self.connection is not None:
            try:
                self.connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": lock_key(LEASE)})
                self.connection.commit()
                self.connection.close()
            except SQLAlchemyError:
                self.connection.invalidate()  # a dead connection: its lock died with it
            self.connection = None


class LeaseLeadership:
    """SQLite has no advisory locks: a lease row, renewed by its holder, taken over when
    it has expired (the holder died or hangs)."""

    def __init__(self, holder, seconds):
        self.holder = holder
        self.seconds = seconds

    def acquire(self, now):
        expires = now + timedelta(seconds=self.seconds)
        renewed = db.session.execute(
            update(SchedulerLease)
            .where(SchedulerLease.name == LEASE,
                   (SchedulerLease.holder == self.holder) | (SchedulerLease.expires_at <= now))
            .values(holder=self.holder, expires_at=expires, heartbeat_at=now)
        ).rowcount == 1
        if not renewed:
            try:
                with db.session.begin_nested():
                    db.session.add(SchedulerLease(name=LEASE, holder=self.holder,
                                                  expires_at=expires, heartbeat_at=now))
                renewed = True
            except IntegrityError:
                renewed = False
        db.session.commit()
        return renewed

    def release(self):
        db.session.execute(
            update(SchedulerLease)
            .where(SchedulerLease.name == LEASE, SchedulerLease.holder == self.holder)
            .values(expires_at=clock.now())
        )
        db.session.commit()


def leadership_for(holder, lease_seconds):
    """The database's kind of lock. Call inside an application context."""
    if db.engine.dialect.name == "postgresql":
        return PostgresLeadership(db.engine, holder, lease_seconds)
    return LeaseLeadership(holder, lease_seconds)


def heartbeat(holder, now, seconds):
    """The PostgreSQL leader's sign of life, for /healthz (on SQLite the lease is that)."""
    expires = now + timedelta(seconds=seconds)
    updated = db.session.execute(
        update(SchedulerLease).where(SchedulerLease.name == LEASE)
        .values(holder=holder, heartbeat_at=now, expires_at=expires)
    ).rowcount
    if not updated:
        db.session.add(SchedulerLease(name=LEASE, holder=holder, heartbeat_at=now, expires_at=expires))
    db.session.commit()


def scheduler_health(now):
    lease = db.session.scalar(select(SchedulerLease).where(SchedulerLease.name == LEASE))
    if lease is None:
        return {"status": "never_run"}
    heartbeat_seconds = current_app.config["SCHEDULER_HEARTBEAT_SECONDS"]
    late = now - lease.heartbeat_at > timedelta(seconds=3 * heartbeat_seconds)
    return {"status": "stopped" if late else "running", "holder": lease.holder,
            "heartbeat_at": lease.heartbeat_at.isoformat()}


class SchedulerProcess:
    """``flask scheduler run``: wait for leadership, run the loop while leader, step down
    when leadership is lost."""

    def __init__(self, app):
        self.app = app
        self.holder = holder_name()
        self.lease_seconds = app.config["SCHEDULER_LEASE_SECONDS"]
        with app.app_context():
            self.leadership = leadership_for(self.holder, self.lease_seconds)
        self.scheduler = None
        self.dispatcher = None

    def step(self):
        """Become or stay leader and run the jobs, or stop them; returns whether leading."""
        with self.app.app_context():
            now = clock.now()
            try:
                leading = self.leadership.acquire(now)  # the lease is the heartbeat on SQLite
            except SQLAlchemyError:
                log.exception("the database is unreachable; stepping down")
                db.session.rollback()
                leading = False
        if leading and self.scheduler is None:
            log.info("scheduler %s leads; starting the jobs", self.holder)
            self.scheduler = self._start_jobs()
        elif not leading and self.scheduler is not None:
            log.warning("scheduler %s lost leadership; stopping the jobs", self.holder)
            self._stop_jobs()
        return leading

    def run(self, stop_event):
        announced = False
        while not stop_event.is_set():
            if not self.step() and not announced:
                log.info("another scheduler is active; %s waits to take over", self.holder)
                announced = True
            stop_event.wait(self.app.config["SCHEDULER_HEARTBEAT_SECONDS"])
        self.stop()

    def stop(self):
        self._stop_jobs()
        with self.app.app_context():
            self.leadership.release()

    def _start_jobs(self):
        # coalesce: after a pause (a suspended host) a job runs once, not once per missed
        # interval. max_instances=1: a slow run is not overlapped by the next. No misfire
        # grace limit: a late run still runs, since every job catches up on all that is due.
        scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=3)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone="UTC",
        )
        for job, seconds in SCHEDULE:
            scheduler.add_job(self._run, "interval", seconds=seconds, args=[job], id=job.__name__,
                              next_run_time=datetime.now(UTC))
        scheduler.start()
        self.dispatcher = Dispatcher(self.app)
        self.dispatcher.start()
        return scheduler

    def _stop_jobs(self):
        if self.dispatcher is not None:
            self.dispatcher.stop()
            self.dispatcher = None
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=True)
            self.scheduler = None

    def _run(self, job):
        with self.app.app_context():
            try:
                job()
            except Exception:
                db.session.rollback()
                raise
