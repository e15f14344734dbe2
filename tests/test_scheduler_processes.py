"""Two scheduler processes on one database: every offer and every SMS happens once.

Real processes (``flask scheduler tick``) run side by side against the test database, as a
second scheduler started by mistake, or a manual tick during the loop, would.
"""

import os
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update

from scheduler.config import ROOT
from scheduler.extensions import db
from scheduler.models import Booking, Message, MessageStatus, Offer, OfferStatus, Slot
from scheduler.services import booking, waitlist

from . import factories

FREED = 30


def prepare(clock):
    """Full slots next week, 40 residents waiting, and 30 seats freed behind the loop's
    back (as a crashed request would leave them): only the loop can fill them."""
    office = factories.office(hours=())  # no weekly hours: the tick adds no new slots
    slots = [
        factories.slot(office, clock.now + timedelta(days=3, minutes=30 * n), seats=3)
        for n in range(12)
    ]
    soon = factories.slot(office, clock.now + timedelta(hours=23), seats=3)  # reminders due
    made = [
        booking.book(
            slot.id,
            name=f"R{n}",
            phone=factories.mobile(),
            locale="de",
            now=clock.now - timedelta(days=2),
        )
        for slot in [*slots, soon]
        for n in range(3)
    ]
    for n in range(40):
        waitlist.join(office, name=f"W{n}", phone=factories.mobile(), locale="ar", now=clock.now)
    freed = [b for b in made if b.slot_id != soon.id][:FREED]
    for item in freed:
        db.session.execute(update(Booking).where(Booking.id == item.id).values(status="cancelled"))
        db.session.execute(
            update(Slot).where(Slot.id == item.slot_id).values(seats_taken=Slot.seats_taken - 1)
        )
    db.session.commit()


def tick(uri, now):
    env = {
        **os.environ,
        "SQLALCHEMY_DATABASE_URI": uri,
        "SECRET_KEY": "test",
        "SMS_BACKEND": "console",
        "PUBLIC_BASE_URL": "https://termine.example.org",
        "LOG_LEVEL": "INFO",
        "OUTBOX_BATCH_SIZE": "7",  # many small batches, claimed by both processes in turn
        "SMS_NEW_NUMBERS_PER_HOUR": "0",  # 79 new numbers at once (test_sms_budget has the budget)
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "flask",
            "--app",
            "wsgi",
            "scheduler",
            "tick",
            "--now",
            now.isoformat(),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_schedulers_make_each_offer_and_send_each_sms_exactly_once(app, database_uri, clock):
    with app.app_context():
        prepare(clock)

    processes = [tick(database_uri, clock.now) for _ in range(2)]
    outputs = [process.communicate(timeout=120) for process in processes]
    for process, (_out, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err

    with app.app_context():
        offers = list(db.session.scalars(select(Offer)))
        assert len(offers) == FREED and all(o.status == OfferStatus.PENDING for o in offers)
        assert len({o.waitlist_entry_id for o in offers}) == FREED  # one offer a resident
        assert all(s.seats_taken == s.seats for s in db.session.scalars(select(Slot)))

        messages = list(db.session.scalars(select(Message)))
        assert {m.kind for m in messages} >= {"offer", "reminder", "confirmation", "waitlist"}
        assert all(m.status == MessageStatus.SENT and m.attempts == 1 for m in messages)
        assert len({m.provider_id for m in messages}) == len(messages)
        reminders = db.session.scalar(
            select(func.count()).select_from(Message).where(Message.kind == "reminder")
        )
        assert reminders == 3

    # Each SMS handed to the backend once, by one process (the console backend logs its id).
    logged = [int(found) for _, err in outputs for found in re.findall(r"SMS #(\d+) to ", err)]
    assert sorted(logged) == sorted(message.id for message in messages)


def scheduler_run(uri, **settings):
    env = {
        **os.environ,
        "SQLALCHEMY_DATABASE_URI": uri,
        "SECRET_KEY": "test",
        "SMS_BACKEND": "console",
        "LOG_LEVEL": "INFO",
        "SCHEDULER_HEARTBEAT_SECONDS": "1",
        "PYTHONUNBUFFERED": "1",
        **settings,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "scheduler", "run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for(process, words, timeout=60):
    """Read the process's output until a line has ``words``: waiting on it, not sleeping."""
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(_until(process, words)), daemon=True)
    reader.start()
    reader.join(timeout)
    assert any(words in line for line in lines), "".join(lines)


def _until(process, words):
    for line in process.stdout:
        yield line
        if words in line:
            return


def test_scheduler_run_stands_by_and_takes_over_when_the_leader_stops(database_uri):
    leader = scheduler_run(database_uri)
    standby = None
    try:
        wait_for(leader, "leads; starting the jobs")
        standby = scheduler_run(database_uri)
        wait_for(standby, "another scheduler is active")
        leader.send_signal(signal.SIGTERM)
        assert leader.wait(timeout=60) == 0
        wait_for(standby, "leads; starting the jobs")
    finally:
        stop(leader, standby)


def stop(*processes):
    for process in processes:
        if process is not None:
            if process.poll() is None:
                process.kill()
            process.wait()
            process.stdout.close()


def test_scheduler_run_sends_the_offer_of_a_cancellation_at_once(app, database_uri, clock):
    """The request writes the offer; the running scheduler's dispatcher, woken by the
    commit (NOTIFY, or its poll on SQLite), sends it long before its idle wake-up."""
    clock.now = datetime.now(UTC)  # the scheduler process reads the real clock
    app.config["QUIET_HOURS"] = "00:00-00:00"
    with app.app_context():
        office = factories.office(hours=())
        slot = factories.slot(office, clock.now + timedelta(days=3), seats=1)
        token = booking.book(
            slot.id, name="Amina", phone=factories.mobile(), locale="de", now=clock.now
        ).token
        waiting = waitlist.join(
            office, name="Olena", phone=factories.mobile(), locale="en", now=clock.now
        ).phone
        db.session.commit()
    leader = scheduler_run(database_uri, QUIET_HOURS="00:00-00:00", OUTBOX_IDLE_SECONDS="600")
    try:
        wait_for(leader, "leads; starting the jobs")
        clock.now = datetime.now(UTC)
        assert app.test_client().post(f"/api/v1/bookings/{token}/cancel").status_code == 200

        deadline = time.monotonic() + 30
        sent = None
        while sent is None and time.monotonic() < deadline:
            with app.app_context():
                sent = db.session.scalar(
                    select(Message).where(
                        Message.kind == "offer",
                        Message.to == waiting,
                        Message.status == MessageStatus.SENT,
                    )
                )
            if sent is None:
                threading.Event().wait(0.05)  # the next look, not a guess at how long it takes
        assert sent is not None, "the offer was not sent while the scheduler ran"
    finally:
        stop(leader)
