"""The dispatcher in batches: many messages claimed at once, sent a few at a time, recorded
together; still each sent exactly once, by two dispatchers at once or after a crash."""
from datetime import timedelta

import pytest
from sqlalchemy import DateTime, select

from scheduler import jobs
from scheduler.extensions import db
from scheduler.models import Message, MessageStatus
from scheduler.services import booking

from . import factories
from .outbox import two_dispatchers_at_once
from .twilio_fake import (  # noqa: F401  (twilio_http: a fixture)
    DiesAfterTwilioTookIt,
    DiesBeforeTwilioGotIt,
    Killed,
    twilio_config,
    twilio_http,
)


@pytest.fixture
def config_overrides(twilio_http):
    return {**twilio_config(twilio_http), "OUTBOX_BATCH_SIZE": 4, "OUTBOX_SEND_CONCURRENCY": 3}


def confirmations(app, clock, count, now=None):
    """``count`` bookings of one slot, each with its confirmation SMS queued; returns ids."""
    with app.app_context():
        office = factories.office()
        slot = factories.slot(office, clock.now + timedelta(days=3), seats=count)
        for _ in range(count):
            booking.book(slot.id, name="Amina", phone=factories.mobile(), locale="de",
                         now=now or clock.now)
        db.session.commit()
        return list(db.session.scalars(select(Message.id).order_by(Message.id)))


def outbox(app):
    with app.app_context():
        return list(db.session.scalars(select(Message).order_by(Message.id)))


def sent_once(app, twilio_http, count):
    """Every message sent, each exactly once: Twilio took ``count`` messages, all different."""
    messages = outbox(app)
    assert [m.status for m in messages] == [MessageStatus.SENT] * count
    bodies = [m["body"] for m in twilio_http.accepted]
    assert len(bodies) == count and set(bodies) == {m.body for m in messages}
    assert {m.provider_id for m in messages} == {m["sid"] for m in twilio_http.accepted}


def test_a_batch_is_claimed_sent_and_recorded_together(app, clock, twilio_http):
    ids = confirmations(app, clock, 10)
    with app.app_context():
        assert jobs.dispatch_outbox() == 10  # three batches of at most four
        assert jobs.dispatch_outbox() == 0
    sent_once(app, twilio_http, 10)
    assert {m.id for m in outbox(app)} == set(ids)
    assert all(m.attempts == 1 and m.sent_at == clock.now for m in outbox(app))


def test_two_dispatchers_at_once_send_each_message_once(app, clock, twilio_http):
    confirmations(app, clock, 24)
    assert sum(two_dispatchers_at_once(app)) == 24
    sent_once(app, twilio_http, 24)


@pytest.mark.parametrize("twilio_http", [DiesAfterTwilioTookIt, DiesBeforeTwilioGotIt], indirect=True,
                         ids=["after-twilio-took-it", "before-twilio-got-it"])
def test_a_dispatcher_killed_mid_batch_loses_nothing_and_sends_nothing_twice(app, clock, twilio_http):
    confirmations(app, clock, 4)
    with app.app_context(), pytest.raises(Killed):
        jobs.dispatch_outbox()
    messages = outbox(app)
    assert {m.status for m in messages} == {MessageStatus.SENDING}  # nothing recorded: it died
    assert len(twilio_http.accepted) <= 4

    clock.advance(minutes=app.config["OUTBOX_STALE_MINUTES"] + 1)
    with app.app_context():
        assert jobs.recover_outbox() == 4  # found at Twilio: sent; never got there: queued
        jobs.dispatch_outbox()
        assert jobs.recover_outbox() == 0 and jobs.dispatch_outbox() == 0
    sent_once(app, twilio_http, 4)


@pytest.fixture
def one_at_a_time(app):
    app.config["OUTBOX_SEND_CONCURRENCY"] = 1  # so that the order of the sends is known


def test_twilios_too_many_requests_pauses_the_rest_of_the_batch(app, clock, twilio_http, one_at_a_time):
    confirmations(app, clock, 4)
    twilio_http.fail_next(201, 429)
    pause = timedelta(seconds=app.config["OUTBOX_RATE_LIMIT_PAUSE_SECONDS"])

    with app.app_context():
        assert jobs.dispatch_outbox() == 1
    first, limited, *untried = outbox(app)
    assert len(twilio_http.posts) == 2  # nothing more after the 429
    assert first.status == MessageStatus.SENT
    assert (limited.status, limited.attempts) == (MessageStatus.QUEUED, 1)
    assert limited.due_at == clock.now + timedelta(minutes=app.config["OUTBOX_RETRY_MINUTES"][0])
    assert all(m.status == MessageStatus.QUEUED and m.attempts == 0 for m in untried)
    assert all(m.due_at == clock.now + pause for m in untried)  # an attempt not lost

    clock.advance(seconds=pause.total_seconds())
    with app.app_context():
        assert jobs.dispatch_outbox() == 2
    clock.advance(minutes=app.config["OUTBOX_RETRY_MINUTES"][0])
    with app.app_context():
        assert jobs.dispatch_outbox() == 1
    sent_once(app, twilio_http, 4)


def test_a_message_takes_its_times_from_the_services_now(app, clock, twilio_http):
    """A booking made "in the past" (a moved clock, ``scheduler tick --now``) writes its
    confirmation at that time, and a dispatcher at that time sends it."""
    then = clock.now - timedelta(days=2)
    confirmations(app, clock, 1, now=then)
    [message] = outbox(app)
    assert message.created_at == then and message.due_at == then

    with app.app_context():
        assert jobs.dispatch_outbox(now=then) == 1
    [message] = outbox(app)
    assert message.status == MessageStatus.SENT and message.sent_at == then


def test_no_model_default_reads_a_clock(app):
    """Every time a row holds comes from the ``now`` of the service that writes it."""
    times = [column for table in db.metadata.sorted_tables for column in table.columns
             if isinstance(getattr(column.type, "impl", column.type), DateTime)]
    assert len(times) > 10
    assert [f"{c.table.name}.{c.name}" for c in times
            if c.default is not None or c.server_default is not None] == []
