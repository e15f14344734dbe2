"""The outbox dispatcher against Twilio's real library: sends what is due, once, and retries
what failed; a dispatcher killed mid-send neither loses a message nor sends it twice."""
from datetime import timedelta

import pytest
import requests
from sqlalchemy import select

from scheduler import jobs
from scheduler.extensions import db
from scheduler.models import Message, MessageStatus, Offer, OfferStatus
from scheduler.services import booking, waitlist
from scheduler.sms import MAX_VALIDITY_SECONDS

from . import factories
from .twilio_fake import (  # noqa: F401  (twilio_http, config_overrides: fixtures)
    MESSAGES_URI,
    DiesAfterTwilioTookIt,
    DiesBeforeTwilioGotIt,
    FakeTwilioHttp,
    Killed,
    TimesOutAfterTwilioTookIt,
    config_overrides,
    twilio_config,
    twilio_http,
)

AMINA, OLENA = "+4915111111111", "+4915122222222"


@pytest.fixture
def office(ctx):
    return factories.office()


def book(office, clock, phone=AMINA, days=3, hour=9, **fields):
    """A booking of a one-seat slot ``days`` from the clock's day at ``hour`` local time."""
    start = (clock.now + timedelta(days=days)).replace(hour=hour, minute=0)
    slot = factories.slot(office, start, seats=1)
    made = booking.book(slot.id, name="Amina", phone=phone, locale="de", now=clock.now, **fields)
    db.session.commit()
    return made


def messages(kind=None):
    query = select(Message).where(Message.channel == "sms").order_by(Message.id)
    if kind is not None:
        query = query.where(Message.kind == kind)
    return list(db.session.scalars(query))


def test_a_sent_message_records_twilios_sid_and_asks_for_status_callbacks(office, clock, twilio_http):
    made = book(office, clock)

    assert jobs.dispatch_outbox() == 1

    [message] = messages()
    [post] = twilio_http.posts
    assert post["uri"] == MESSAGES_URI and post["data"]["To"] == AMINA
    assert post["data"]["StatusCallback"] == f"https://termine.example.org/sms/status?message={message.id}"
    assert "ValidityPeriod" not in post["data"]  # a confirmation is of use whenever it comes
    assert f"https://termine.example.org/b/{made.token}" in post["data"]["Body"]
    assert message.status == MessageStatus.SENT
    assert message.provider_id == twilio_http.accepted[0]["sid"]
    assert (message.attempts, message.sent_at, message.error) == (1, clock.now, None)
    assert jobs.dispatch_outbox() == 0  # sent is sent


@pytest.mark.parametrize("failure", [500, 503, 429, 401, requests.ConnectionError("connection refused")],
                         ids=["500", "503", "too-many", "wrong-token", "network"])
def test_a_transient_failure_is_retried_after_the_first_pause(office, clock, twilio_http, failure):
    book(office, clock)
    twilio_http.fail_next(failure)

    assert jobs.dispatch_outbox() == 0

    [message] = messages()
    assert message.status == MessageStatus.QUEUED and message.attempts == 1
    assert message.due_at == clock.now + timedelta(minutes=1)  # OUTBOX_RETRY_MINUTES[0]
    assert message.error and message.provider_id is None
    assert jobs.dispatch_outbox() == 0  # not before the pause is over

    clock.advance(minutes=1)
    assert jobs.dispatch_outbox() == 1

    db.session.refresh(message)
    assert message.status == MessageStatus.SENT and message.attempts == 2
    assert message.provider_id == twilio_http.accepted[0]["sid"]
    assert len(twilio_http.accepted) == 1


def test_a_number_twilio_refuses_fails_at_once_without_retry(office, clock, twilio_http):
    book(office, clock)
    twilio_http.fail_next(400)

    jobs.dispatch_outbox()
    clock.advance(hours=6)
    jobs.dispatch_outbox()

    [message] = messages()
    assert message.status == MessageStatus.FAILED and message.attempts == 1
    assert "21211" in message.error
    assert len(twilio_http.posts) == 1


def test_after_the_configured_attempts_the_message_fails(app, office, clock, twilio_http):
    app.config["OUTBOX_RETRY_MINUTES"] = [1, 5]
    book(office, clock)
    twilio_http.fail_next(500, 500, 500, 500)

    for pause in (0, 1, 5, 60):
        clock.advance(minutes=pause)
        jobs.dispatch_outbox()

    [message] = messages()
    assert message.status == MessageStatus.FAILED and message.attempts == 3
    assert len(twilio_http.posts) == 3 and twilio_http.accepted == []


def test_an_offer_made_at_night_goes_out_at_eight_and_its_hold_starts_then(office, clock, twilio_http):
    clock.set("2026-11-23T22:00")
    cancelled = book(office, clock)  # Thursday 26 November, 09:00
    entry = waitlist.join(office, name="Olena", phone=OLENA, locale="en", now=clock.now)
    booking.cancel(cancelled, now=clock.now)
    db.session.commit()

    jobs.dispatch_outbox()

    [offer] = db.session.scalars(select(Offer)).all()
    [queued] = messages("offer")
    assert offer.waitlist_entry_id == entry.id and offer.sent_at is None
    assert queued.status == MessageStatus.QUEUED
    assert queued.due_at == clock.now.replace(day=24, hour=8)
    # the resident's own answers (cancellation, waitlist) are not held for the morning
    assert {m.kind for m in messages() if m.status == MessageStatus.SENT} == {
        "confirmation", "cancellation", "waitlist"}

    clock.set("2026-11-24T07:59")
    jobs.dispatch_outbox()
    assert queued.status == MessageStatus.QUEUED
    assert not [p for p in twilio_http.posts if f"/a/{offer.token}" in p["data"]["Body"]]

    clock.set("2026-11-24T08:00")
    assert jobs.dispatch_outbox() == 1

    db.session.refresh(offer)
    db.session.refresh(queued)
    assert queued.status == MessageStatus.SENT and queued.sent_at == clock.now
    assert offer.sent_at == clock.now
    assert offer.expires_at == clock.now + timedelta(minutes=offer.hold_minutes)
    assert queued.valid_until == offer.expires_at
    [post] = [p for p in twilio_http.posts if f"/a/{offer.token}" in p["data"]["Body"]]
    assert post["data"]["To"] == OLENA
    assert int(post["data"]["ValidityPeriod"]) == offer.hold_minutes * 60


@pytest.mark.parametrize("now, validity", [
    ("2026-11-26T09:00", 2 * 3600),  # two hours before: dropped by the carrier at the appointment
    ("2026-11-25T12:00", MAX_VALIDITY_SECONDS),  # 23 hours before: Twilio's longest
])
def test_a_reminder_is_valid_until_the_appointment_at_most(office, clock, twilio_http, now, validity):
    book(office, clock, hour=11)  # Thursday 26 November, 11:00
    jobs.dispatch_outbox()

    clock.set(now)
    assert jobs.send_reminders() == 1
    assert jobs.dispatch_outbox() == 1

    [reminder] = messages("reminder")
    assert reminder.status == MessageStatus.SENT
    assert int(twilio_http.posts[-1]["data"]["ValidityPeriod"]) == validity


def test_a_message_no_longer_of_use_is_skipped_not_sent(office, clock, twilio_http):
    book(office, clock, hour=11)
    jobs.dispatch_outbox()
    clock.set("2026-11-26T09:00")
    jobs.send_reminders()
    twilio_http.fail_next(500)
    jobs.dispatch_outbox()  # fails; retried after a minute, but the next run is late

    clock.set("2026-11-26T11:00")
    assert jobs.dispatch_outbox() == 0

    [reminder] = messages("reminder")
    assert reminder.status == MessageStatus.SKIPPED and "too late" in reminder.error
    assert [p["data"]["To"] for p in twilio_http.posts].count(AMINA) == 2  # confirmation, failed try
    assert len(twilio_http.accepted) == 1


def crash_mid_send():
    with pytest.raises(Killed):
        jobs.dispatch_outbox()
    db.session.rollback()
    [message] = messages()
    assert message.status == MessageStatus.SENDING and message.provider_id is None
    return message


@pytest.mark.parametrize("twilio_http", [DiesAfterTwilioTookIt], indirect=True)
def test_a_dispatcher_killed_after_twilio_took_the_message_does_not_send_it_again(app, office, clock, twilio_http):
    book(office, clock)
    message = crash_mid_send()
    claimed_at = message.claimed_at
    assert len(twilio_http.accepted) == 1

    # Another run before the claim is stale leaves it alone: its dispatcher may be alive.
    assert jobs.recover_outbox() == 0 and jobs.dispatch_outbox() == 0

    clock.advance(minutes=app.config["OUTBOX_STALE_MINUTES"] + 1)
    twilio_http.fail_next_lookup(503)  # Twilio cannot tell now: the message waits, unsent
    assert jobs.recover_outbox() == 0 and jobs.dispatch_outbox() == 0
    assert jobs.recover_outbox() == 1
    assert jobs.dispatch_outbox() == 0

    db.session.refresh(message)
    assert message.status == MessageStatus.SENT
    assert message.provider_id == twilio_http.accepted[0]["sid"]
    assert message.sent_at == claimed_at
    assert len(twilio_http.posts) == 1
    assert [r["method"] for r in twilio_http.requests] == ["POST", "GET", "GET"]


@pytest.mark.parametrize("twilio_http", [DiesBeforeTwilioGotIt], indirect=True)
def test_a_dispatcher_killed_before_twilio_got_the_message_sends_it_once_on_recovery(app, office, clock, twilio_http):
    book(office, clock)
    message = crash_mid_send()
    assert twilio_http.posts == []

    clock.advance(minutes=app.config["OUTBOX_STALE_MINUTES"] + 1)
    assert jobs.recover_outbox() == 1
    assert jobs.dispatch_outbox() == 1
    assert jobs.recover_outbox() == 0 and jobs.dispatch_outbox() == 0

    db.session.refresh(message)
    assert message.status == MessageStatus.SENT
    assert message.provider_id == twilio_http.accepted[0]["sid"]
    assert len(twilio_http.posts) == 1 and len(twilio_http.accepted) == 1


@pytest.mark.parametrize("twilio_http", [TimesOutAfterTwilioTookIt], indirect=True)
def test_a_send_that_timed_out_after_twilio_took_it_is_not_sent_again(office, clock, twilio_http):
    book(office, clock)
    jobs.dispatch_outbox()
    [message] = messages()
    assert message.status == MessageStatus.QUEUED  # to the dispatcher it looked like a failure

    clock.advance(minutes=1)
    jobs.dispatch_outbox()

    db.session.refresh(message)
    assert message.status == MessageStatus.SENT
    assert message.provider_id == twilio_http.accepted[0]["sid"]
    assert [r["method"] for r in twilio_http.requests] == ["POST", "GET"]


def test_an_offer_whose_seat_is_gone_is_skipped(office, clock, twilio_http):
    clock.set("2026-11-23T22:00")
    cancelled = book(office, clock)
    entry = waitlist.join(office, name="Olena", phone=OLENA, locale="en", now=clock.now)
    booking.cancel(cancelled, now=clock.now)
    db.session.commit()
    waitlist.leave(entry, clock.now)  # overnight, before the offer went out
    db.session.commit()

    clock.set("2026-11-24T08:00")
    jobs.dispatch_outbox()

    [offer_message] = messages("offer")
    assert offer_message.status == MessageStatus.SKIPPED
    assert db.session.scalar(select(Offer.status)) == OfferStatus.WITHDRAWN
    assert OLENA not in {p["data"]["To"] for p in twilio_http.posts if "/a/" in p["data"]["Body"]}


def test_a_number_that_unsubscribed_with_twilio_is_recorded_as_opted_out(office, clock, twilio_http):
    from scheduler.models import OptOut

    book(office, clock)
    twilio_http.error = "unsubscribed"
    twilio_http.fail_next(400)

    jobs.dispatch_outbox()

    [message] = messages()
    assert message.status == MessageStatus.FAILED and "21610" in message.error
    assert db.session.get(OptOut, AMINA) is not None  # no offers it could never hear of


def test_a_retried_offer_gets_the_whole_hold_from_the_send_that_worked(office, clock, twilio_http):
    made = book(office, clock)
    jobs.dispatch_outbox()
    waitlist.join(office, name="Olena", phone=OLENA, locale="en", now=clock.now)
    jobs.dispatch_outbox()
    booking.cancel(made, now=clock.now)
    db.session.commit()
    twilio_http.fail_next(201, 500)  # the cancellation goes out; the offer's first try fails

    jobs.dispatch_outbox()
    offer = db.session.scalar(select(Offer))
    assert messages("offer")[0].status == MessageStatus.QUEUED

    clock.advance(minutes=1)
    jobs.dispatch_outbox()
    assert messages("offer")[0].status == MessageStatus.SENT
    db.session.refresh(offer)
    assert offer.sent_at == clock.now
    assert offer.expires_at == clock.now + timedelta(minutes=offer.hold_minutes)
