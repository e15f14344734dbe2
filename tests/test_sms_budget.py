"""The hourly budget of SMS to numbers never texted before (the SMS-pumping guard): above
it those SMS wait for the next hour, in order, never dropped; known numbers are not held."""
import itertools
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, select, update

from scheduler import jobs
from scheduler.extensions import db
from scheduler.models import Message, MessageStatus
from scheduler.models.message import KnownNumber
from scheduler.services import booking, sms_budget

from . import factories
from .outbox import two_dispatchers_at_once
from .twilio_fake import twilio_config, twilio_http  # noqa: F401  (twilio_http: a fixture)

BUDGET = 3
OFFICES = itertools.count()


@pytest.fixture
def config_overrides(twilio_http):
    return {**twilio_config(twilio_http), "SMS_NEW_NUMBERS_PER_HOUR": BUDGET,
            "OUTBOX_BATCH_SIZE": 2, "OUTBOX_SEND_CONCURRENCY": 2}


def book(app, clock, phones):
    """One booking, and so one confirmation SMS, per number; returns the messages' ids."""
    with app.app_context():
        office = factories.office(slug=f"office-{next(OFFICES)}")
        slot = factories.slot(office, clock.now + timedelta(days=3), seats=len(phones))
        for phone in phones:
            booking.book(slot.id, name="Amina", phone=phone, locale="de", now=clock.now)
        db.session.commit()
        return list(db.session.scalars(select(Message.id).order_by(Message.id)))


def messages(app):
    with app.app_context():
        return list(db.session.scalars(select(Message).order_by(Message.id)))


def texted(twilio_http):
    return [message["to"] for message in twilio_http.accepted]


def test_above_the_budget_sms_to_new_numbers_wait_for_the_next_hour_in_order(app, clock, twilio_http):
    phones = [factories.mobile() for _ in range(5)]
    book(app, clock, phones)
    with app.app_context():
        assert jobs.dispatch_outbox() == BUDGET
    first, waiting = messages(app)[:BUDGET], messages(app)[BUDGET:]
    assert [m.status for m in first] == [MessageStatus.SENT] * BUDGET
    next_hour = clock.now.replace(minute=0) + timedelta(hours=1)
    assert [(m.status, m.due_at, m.error, m.attempts) for m in waiting] == [
        (MessageStatus.QUEUED, next_hour, sms_budget.WAITING, 0)] * 2

    clock.advance(minutes=59)
    with app.app_context():
        assert jobs.dispatch_outbox() == 0  # still this hour
    clock.advance(minutes=1)
    with app.app_context():
        assert jobs.dispatch_outbox() == 2
    assert [m.status for m in messages(app)] == [MessageStatus.SENT] * 5
    assert texted(twilio_http) == [m.to for m in messages(app)]  # in the order written


def test_sms_put_off_in_the_evening_wait_for_the_end_of_quiet_hours(app, clock, twilio_http):
    clock.set("2026-11-23T19:30")
    book(app, clock, [factories.mobile() for _ in range(BUDGET + 1)])
    with app.app_context():
        assert jobs.dispatch_outbox() == BUDGET
    morning = datetime(2026, 11, 24, 8, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    assert messages(app)[-1].due_at == morning


def test_known_numbers_are_not_held_also_after_the_purge(app, clock, twilio_http):
    known = factories.mobile()
    book(app, clock, [known])
    with app.app_context():
        assert jobs.dispatch_outbox() == 1
        db.session.execute(delete(Message))  # the retention purge: the number itself is gone
        db.session.commit()
    clock.advance(hours=1)
    book(app, clock, [factories.mobile() for _ in range(BUDGET)] + [known])
    with app.app_context():
        assert jobs.dispatch_outbox() == BUDGET + 1
        assert sms_budget.used(clock.now) == BUDGET
        # Only a keyed hash is kept, never the number.
        assert known not in {k for k in db.session.scalars(select(KnownNumber.key))}
    assert {m.status for m in messages(app)} == {MessageStatus.SENT}


def test_a_waiting_sms_whose_validity_ends_meanwhile_is_skipped_as_too_late(app, clock, twilio_http):
    ids = book(app, clock, [factories.mobile() for _ in range(BUDGET + 1)])
    with app.app_context():
        db.session.execute(update(Message).where(Message.id == ids[-1])
                           .values(valid_until=clock.now + timedelta(minutes=30)))
        db.session.commit()
        assert jobs.dispatch_outbox() == BUDGET
    clock.advance(hours=1)
    with app.app_context():
        assert jobs.dispatch_outbox() == 0
    last = messages(app)[-1]
    assert (last.status, last.error) == (MessageStatus.SKIPPED, "too late: no longer of use")


def test_no_limit_with_a_budget_of_zero(app, clock, twilio_http):
    app.config["SMS_NEW_NUMBERS_PER_HOUR"] = 0
    book(app, clock, [factories.mobile() for _ in range(BUDGET + 2)])
    with app.app_context():
        assert jobs.dispatch_outbox() == BUDGET + 2
        assert sms_budget.used(clock.now) == BUDGET + 2  # still known for later


def test_two_dispatchers_at_once_stay_within_the_budget(app, clock, twilio_http):
    book(app, clock, [factories.mobile() for _ in range(12)])
    assert sum(two_dispatchers_at_once(app)) == BUDGET
    assert len(texted(twilio_http)) == BUDGET
    statuses = [m.status for m in messages(app)]
    assert statuses.count(MessageStatus.SENT) == BUDGET
    assert statuses.count(MessageStatus.QUEUED) == 12 - BUDGET


def test_healthz_reports_the_budget(app, clock, twilio_http):
    book(app, clock, [factories.mobile() for _ in range(BUDGET + 2)])
    with app.app_context():
        jobs.dispatch_outbox()
    assert app.test_client().get("/healthz").json["sms"] == {
        "new_numbers_this_hour": BUDGET, "budget": BUDGET, "waiting": 2}


def test_the_migration_knows_the_numbers_already_texted(app, clock, twilio_http):
    from flask_migrate import downgrade, upgrade

    from scheduler.config import ROOT

    phone = "+4915112345678"
    with app.app_context():
        downgrade(directory=str(ROOT / "migrations"), revision="0006")
        db.session.execute(Message.__table__.insert().values(
            channel="sms", to=phone, kind="confirmation", locale="de", body="Hallo",
            status=MessageStatus.SENT, due_at=clock.now, attempts=1, created_at=clock.now,
            sent_at=clock.now - timedelta(days=3)))
        db.session.commit()
        upgrade(directory=str(ROOT / "migrations"))
        known = db.session.get(KnownNumber, sms_budget.number_key(phone))
        assert known is not None and known.first_texted_at == clock.now - timedelta(days=3)
        assert sms_budget.used(clock.now) == 0
