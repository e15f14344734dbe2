"""Twilio's webhooks: residents' SMS replies and delivery reports, signed as Twilio signs them."""

from datetime import timedelta
from itertools import count
from xml.etree import ElementTree

import pytest
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from scheduler import create_app, jobs
from scheduler.extensions import db
from scheduler.models import (
    Booking,
    BookingStatus,
    InboundMessage,
    Message,
    MessageStatus,
    Offer,
    OfferStatus,
    Office,
    OptOut,
)
from scheduler.services import booking, waitlist

from . import factories
from .conftest import base_config
from .outbox import deliver
from .twilio_fake import (  # noqa: F401  (twilio_http, config_overrides: fixtures)
    ACCOUNT,
    SENDER,
    TOKEN,
    DiesAfterTwilioTookIt,
    FakeTwilioHttp,
    Killed,
    TimesOutAfterTwilioTookIt,
    config_overrides,
    twilio_config,
    twilio_http,
)

PUBLIC = "https://termine.example.org"
AMINA, OLENA, JONAS = "+4915111111111", "+4915122222222", "+4915133333333"
_sids = count(1)


def signed(client, path, params, token=TOKEN, url=None, **kwargs):
    """POST ``params`` as Twilio does, signed for ``url`` (by default the public one)."""
    signature = RequestValidator(token).compute_signature(url or PUBLIC + path, params)
    return client.post(path, data=params, headers={"X-Twilio-Signature": signature}, **kwargs)


def reply(client, phone, body, sid=None):
    """A resident's SMS to us, as Twilio hands it to the inbound webhook; then the
    dispatcher sends what the answer wrote, as the scheduler does right after the commit."""
    params = {
        "MessageSid": sid or f"SMin{next(_sids):028d}",
        "AccountSid": ACCOUNT,
        "From": phone,
        "To": SENDER,
        "Body": body,
        "NumMedia": "0",
        "NumSegments": "1",
    }
    response = signed(client, "/sms/inbound", params)
    deliver(client.application)
    return response


def status_report(client, sid, status, message_id=None, error_code=None):
    path = "/sms/status" + (f"?message={message_id}" if message_id is not None else "")
    params = {
        "MessageSid": sid,
        "MessageStatus": status,
        "AccountSid": ACCOUNT,
        "To": AMINA,
        "From": SENDER,
        "ApiVersion": "2010-04-01",
    }
    if error_code:
        params["ErrorCode"] = error_code
    return signed(client, path, params)


def twiml(response):
    """The texts of a TwiML answer; fails unless it is one."""
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    root = ElementTree.fromstring(response.data)
    assert root.tag == "Response"
    return [element.text for element in root.iter("Message")]


def texts_to(twilio_http, phone):
    return [p["data"]["Body"] for p in twilio_http.posts if p["data"]["To"] == phone]


@pytest.fixture
def office_id(app):
    with app.app_context():
        office = factories.office()
        db.session.commit()
        return office.id


def setup(app, make):
    """Run ``make(office)`` in its own application context, commit, dispatch what it wrote.
    Nothing stays open: on SQLite an open transaction would block the webhook's."""
    with app.app_context():
        office = db.session.scalar(select(Office))
        made = make(office)
        db.session.commit()
        jobs.dispatch_outbox()
        return made


def book(office, clock, phone=AMINA, days=3, seats=1):
    slot = factories.slot(
        office, (clock.now + timedelta(days=days)).replace(hour=9, minute=0), seats=seats
    )
    return booking.book(slot.id, name="Amina", phone=phone, locale="de", now=clock.now)


def join(office, clock, phone, locale="en"):
    return waitlist.join(office, name="Olena", phone=phone, locale=locale, now=clock.now)


@pytest.fixture
def offered(app, clock, office_id):
    """Amina's seat, cancelled, is offered to Olena (first in line) by SMS; Jonas waits too."""

    def make(office):
        cancelled = book(office, clock)
        join(office, clock, OLENA)
        clock.advance(minutes=1)
        join(office, clock, JONAS, locale="ar")
        booking.cancel(cancelled, now=clock.now)
        return cancelled.slot_id

    slot_id = setup(app, make)
    with app.app_context():
        offer = db.session.scalar(select(Offer).where(Offer.phone == OLENA))
        assert offer.sent_at is not None and offer.status == OfferStatus.PENDING
        return {"slot_id": slot_id, "offer_id": offer.id, "token": offer.token}


# -- the signature -----------------------------------------------------------------------


def test_a_signed_reply_is_answered_in_twiml(client, app):
    response = reply(client, AMINA, "Hallo?")

    [text] = twiml(response)  # nothing to answer: the help text
    assert text and "charset=utf-8" in response.content_type
    with app.app_context():
        assert db.session.scalar(select(InboundMessage.phone)) == AMINA


@pytest.mark.parametrize(
    "forge",
    [
        lambda c, params: c.post("/sms/inbound", data=params),
        lambda c, params: signed(c, "/sms/inbound", params, token="not-the-token"),
        lambda c, params: c.post(
            "/sms/inbound",
            data={**params, "Body": "2"},
            headers={
                "X-Twilio-Signature": RequestValidator(TOKEN).compute_signature(
                    f"{PUBLIC}/sms/inbound", params
                )
            },
        ),
        lambda c, params: signed(c, "/sms/inbound", params, url="http://localhost/sms/inbound"),
        lambda c, params: signed(c, "/sms/inbound", params, url=f"{PUBLIC}/sms/status"),
    ],
    ids=["unsigned", "wrong-token", "tampered-body", "internal-url", "other-path"],
)
def test_unsigned_or_forged_replies_are_refused(client, app, forge):
    params = {
        "MessageSid": "SMforged",
        "AccountSid": ACCOUNT,
        "From": AMINA,
        "To": SENDER,
        "Body": "1",
    }

    assert forge(client, params).status_code == 403

    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(InboundMessage)) == 0


def test_status_reports_are_signature_checked_with_their_query(
    client, app, office_id, clock, twilio_http
):
    setup(app, lambda office: book(office, clock))
    sid = twilio_http.accepted[0]["sid"]
    params = {"MessageSid": sid, "MessageStatus": "delivered"}

    assert client.post("/sms/status?message=1", data=params).status_code == 403
    # signed without the query string Twilio called: forged
    assert (
        signed(client, "/sms/status?message=1", params, url=f"{PUBLIC}/sms/status").status_code
        == 403
    )
    with app.app_context():
        assert db.session.scalar(select(Message.delivery_status)) is None


def test_behind_a_proxy_the_signature_is_checked_against_the_public_url(database_uri, clock):
    app = create_app(
        base_config(
            database_uri,
            CLOCK=clock,
            TRUSTED_PROXIES=1,
            **twilio_config(FakeTwilioHttp(clock=clock)),
        )
    )
    client = app.test_client()
    params = {
        "MessageSid": "SMbehindproxy",
        "AccountSid": ACCOUNT,
        "From": AMINA,
        "To": SENDER,
        "Body": "hallo",
    }
    forwarded = {
        "X-Forwarded-For": "54.172.60.1",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "termine.example.org",
    }
    internal = "http://10.0.0.5:8000"

    def post(url_signed, headers):
        signature = RequestValidator(TOKEN).compute_signature(url_signed, params)
        return client.post(
            "/sms/inbound",
            data=params,
            base_url=internal,
            headers={"X-Twilio-Signature": signature, **headers},
        )

    assert post(f"{PUBLIC}/sms/inbound", forwarded).status_code == 200
    assert post(f"{internal}/sms/inbound", forwarded).status_code == 403
    # a proxy that forwards another host changes nothing: the public URL is configured
    assert (
        post(f"{PUBLIC}/sms/inbound", {**forwarded, "X-Forwarded-Host": "10.0.0.5"}).status_code
        == 200
    )
    with app.app_context():
        db.engine.dispose()


# -- replies to an offer -----------------------------------------------------------------


@pytest.mark.parametrize("word", ["1", "yes", "YES!", "١", "Ja", "نعم"])
def test_reply_1_or_yes_accepts_the_offer_and_the_confirmation_is_the_answer(
    client, app, offered, twilio_http, word
):
    response = reply(client, OLENA, word)

    assert twiml(response) == []  # the confirmation SMS says it all
    with app.app_context():
        offer = db.session.get(Offer, offered["offer_id"])
        assert offer.status == OfferStatus.ACCEPTED
        made = db.session.scalar(select(Booking).where(Booking.phone == OLENA))
        assert made.slot_id == offered["slot_id"] and made.status == BookingStatus.BOOKED
        confirmation = db.session.scalar(
            select(Message).where(Message.booking_id == made.id, Message.kind == "confirmation")
        )
        assert confirmation.status == MessageStatus.SENT and confirmation.to == OLENA
        assert any(f"{PUBLIC}/b/{made.token}" in text for text in texts_to(twilio_http, OLENA))


@pytest.mark.parametrize("word", ["2", "no", "٢", "Nein", "لا"])
def test_reply_2_or_no_declines_and_the_seat_goes_to_the_next_at_once(
    client, app, offered, twilio_http, word
):
    response = reply(client, OLENA, word)

    [answer] = twiml(response)
    assert answer
    with app.app_context():
        assert db.session.get(Offer, offered["offer_id"]).status == OfferStatus.DECLINED
        passed = db.session.scalar(select(Offer).where(Offer.phone == JONAS))
        assert passed.slot_id == offered["slot_id"] and passed.status == OfferStatus.PENDING
        assert passed.sent_at is not None  # offered at once, not at the next tick
        assert db.session.scalar(select(Booking).where(Booking.phone == OLENA)) is None
        assert any(f"{PUBLIC}/a/{passed.token}" in text for text in texts_to(twilio_http, JONAS))


def test_a_repeated_webhook_acts_once_and_answers_the_same(client, app, offered, twilio_http):
    first = reply(client, OLENA, "2", sid="SMrepeated")
    again = reply(client, OLENA, "2", sid="SMrepeated")

    assert again.data == first.data
    with app.app_context():
        assert (
            db.session.scalar(select(func.count()).select_from(Offer).where(Offer.phone == JONAS))
            == 1
        )
        assert db.session.scalar(select(func.count()).select_from(InboundMessage)) == 1
    assert len(texts_to(twilio_http, JONAS)) == 2  # the waitlist message and one offer


def test_reply_1_after_the_hold_ran_out_books_nothing(client, app, clock, offered):
    clock.advance(hours=9)  # held for 8 hours

    [answer] = twiml(reply(client, OLENA, "1"))

    assert answer
    with app.app_context():
        assert db.session.scalar(select(Booking).where(Booking.phone == OLENA)) is None


# -- replies without an offer ------------------------------------------------------------


def test_reply_2_without_an_offer_cancels_the_next_appointment_and_offers_the_seat_on(
    client, app, clock, office_id, twilio_http
):
    def make(office):
        made = book(office, clock)
        join(office, clock, OLENA)
        return made.id

    booking_id = setup(app, make)

    response = reply(client, AMINA, "2")

    assert twiml(response) == []  # the cancellation SMS is the answer
    with app.app_context():
        cancelled = db.session.get(Booking, booking_id)
        assert cancelled.status == BookingStatus.CANCELLED
        message = db.session.scalar(select(Message).where(Message.kind == "cancellation"))
        assert (message.to, message.status) == (AMINA, MessageStatus.SENT)
        offer = db.session.scalar(select(Offer).where(Offer.phone == OLENA))
        assert offer.slot_id == cancelled.slot_id and offer.sent_at is not None
        assert any(f"{PUBLIC}/a/{offer.token}" in text for text in texts_to(twilio_http, OLENA))
    assert sorted(p["data"]["To"] for p in twilio_http.posts[-2:]) == [AMINA, OLENA]


def test_the_same_cancelling_webhook_twice_cancels_one_appointment(client, app, clock, twilio_http):
    def make(_):
        first = book(factories.office(slug="eving", name="Eving"), clock, days=3)
        second = book(factories.office(slug="hoerde", name="Hörde"), clock, days=10)
        return first.id, second.id

    first_id, second_id = setup(app, make)

    first = reply(client, AMINA, "2", sid="SMcancel")
    again = reply(client, AMINA, "2", sid="SMcancel")

    assert again.data == first.data
    with app.app_context():
        assert db.session.get(Booking, first_id).status == BookingStatus.CANCELLED
        assert db.session.get(Booking, second_id).status == BookingStatus.BOOKED
        assert (
            db.session.scalar(
                select(func.count()).select_from(Message).where(Message.kind == "cancellation")
            )
            == 1
        )

    reply(client, AMINA, "2", sid="SMcancel-the-other")  # a new SMS is a new answer
    with app.app_context():
        assert db.session.get(Booking, second_id).status == BookingStatus.CANCELLED


def test_reply_1_without_an_offer_books_nothing(client, app, clock, office_id):
    setup(app, lambda office: book(office, clock))

    [answer] = twiml(reply(client, AMINA, "1"))

    assert answer
    with app.app_context():
        assert db.session.scalar(select(Booking.status)) == BookingStatus.BOOKED


# -- STOP and START ----------------------------------------------------------------------


def test_stop_ends_all_sms_and_offers_until_start(client, app, clock, office_id, twilio_http):
    def make(office):
        made = book(office, clock)
        join(office, clock, OLENA)
        clock.advance(minutes=1)
        join(office, clock, JONAS)
        return made.id

    booking_id = setup(app, make)
    texts_before = len(texts_to(twilio_http, OLENA))

    [answer] = twiml(reply(client, OLENA, "STOP"))

    assert answer
    with app.app_context():
        assert db.session.get(OptOut, OLENA) is not None
        booking.cancel(db.session.get(Booking, booking_id), now=clock.now)
        db.session.commit()
        jobs.dispatch_outbox()
        # Olena is first in line, but gets no offer: it goes to Jonas
        assert db.session.scalar(select(Offer.phone)) == JONAS
        # and what the service writes to her is kept, as skipped, and never sent
        office = db.session.scalar(select(Office))
        later = book(office, clock, phone=OLENA, days=10, seats=2)
        db.session.commit()
        jobs.dispatch_outbox()
        skipped = db.session.scalar(select(Message).where(Message.booking_id == later.id))
        assert skipped.status == MessageStatus.SKIPPED and skipped.provider_id is None
        later_id = later.id
    assert len(texts_to(twilio_http, OLENA)) == texts_before

    [answer] = twiml(reply(client, OLENA, "start"))

    assert answer
    with app.app_context():
        assert db.session.get(OptOut, OLENA) is None
        booking.cancel(db.session.get(Booking, later_id), now=clock.now)
        db.session.commit()
        jobs.dispatch_outbox()
    assert len(texts_to(twilio_http, OLENA)) == texts_before + 1  # the cancellation


def test_an_offer_held_for_the_morning_is_withdrawn_if_its_resident_said_stop(
    client, app, clock, office_id, twilio_http
):
    clock.set("2026-11-23T22:00")

    def make(office):
        cancelled = book(office, clock)
        join(office, clock, OLENA)
        join(office, clock, JONAS)
        booking.cancel(cancelled, now=clock.now)

    setup(app, make)
    clock.set("2026-11-23T23:00")
    reply(client, OLENA, "STOP")

    clock.set("2026-11-24T08:00")
    with app.app_context():
        jobs.dispatch_outbox()
        jobs.dispatch_outbox()
        skipped = db.session.scalar(select(Offer).where(Offer.phone == OLENA))
        passed = db.session.scalar(select(Offer).where(Offer.phone == JONAS))
        # her seat is not held for an SMS that never goes out: it goes to the next person
        assert skipped.status == OfferStatus.WITHDRAWN
        assert passed.status == OfferStatus.PENDING and passed.sent_at == clock.now
    assert not [t for t in texts_to(twilio_http, OLENA) if "/a/" in t]


# -- delivery reports --------------------------------------------------------------------


@pytest.fixture
def sent(app, clock, office_id, twilio_http):
    """Amina's confirmation, sent."""
    setup(app, lambda office: book(office, clock))
    with app.app_context():
        message = db.session.scalar(select(Message))
        assert message.provider_id == twilio_http.accepted[0]["sid"]
        return {"id": message.id, "sid": message.provider_id}


def delivery(app, message_id):
    with app.app_context():
        message = db.session.get(Message, message_id)
        return message.status, message.delivery_status, message.error


def test_a_status_report_records_the_delivery(client, app, sent):
    response = status_report(client, sent["sid"], "delivered", sent["id"])

    assert twiml(response) == []
    assert delivery(app, sent["id"]) == (MessageStatus.SENT, "delivered", None)


def test_repeated_and_late_status_reports_never_move_a_message_back(client, app, sent):
    for status in ("sent", "delivered", "delivered", "sent", "queued"):
        assert status_report(client, sent["sid"], status, sent["id"]).status_code == 200

    assert delivery(app, sent["id"])[1] == "delivered"


def test_an_undelivered_message_keeps_twilios_error(client, app, sent):
    status_report(client, sent["sid"], "sent", sent["id"])
    status_report(client, sent["sid"], "undelivered", sent["id"], error_code="30003")

    _, status, error = delivery(app, sent["id"])
    assert status == "undelivered" and "30003" in error


def test_a_status_we_do_not_know_is_ignored_not_an_error(client, app, sent):
    # one of Twilio's statuses, longer than the column: it must not fail the callback
    assert status_report(client, sent["sid"], "partially_delivered", sent["id"]).status_code == 200
    assert delivery(app, sent["id"])[1] is None

    status_report(client, sent["sid"], "delivered", sent["id"])
    assert delivery(app, sent["id"])[1] == "delivered"


def test_a_report_for_another_message_changes_nothing(client, app, sent):
    assert status_report(client, "SMunknown", "delivered", sent["id"]).status_code == 200

    assert delivery(app, sent["id"]) == (MessageStatus.SENT, None, None)


@pytest.mark.parametrize("twilio_http", [DiesAfterTwilioTookIt], indirect=True)
def test_a_report_for_a_send_never_recorded_records_it(client, app, clock, office_id, twilio_http):
    with app.app_context():
        book(db.session.scalar(select(Office)), clock)
        db.session.commit()
        with pytest.raises(Killed):
            jobs.dispatch_outbox()
        db.session.rollback()
        message = db.session.scalar(select(Message))
        assert (message.status, message.provider_id) == (MessageStatus.SENDING, None)
        message_id = message.id
    sid = twilio_http.accepted[0]["sid"]

    status_report(client, sid, "sent", message_id)

    with app.app_context():
        message = db.session.get(Message, message_id)
        assert (message.status, message.provider_id, message.delivery_status) == (
            MessageStatus.SENT,
            sid,
            "sent",
        )
        clock.advance(minutes=app.config["OUTBOX_STALE_MINUTES"] + 1)
        assert jobs.recover_outbox() == 0 and jobs.dispatch_outbox() == 0
    assert len(twilio_http.posts) == 1


@pytest.mark.parametrize("twilio_http", [TimesOutAfterTwilioTookIt], indirect=True)
def test_a_report_for_a_send_that_timed_out_stops_its_retry(
    client, app, clock, office_id, twilio_http
):
    setup(app, lambda office: book(office, clock))
    with app.app_context():
        message = db.session.scalar(select(Message))
        assert (message.status, message.provider_id) == (MessageStatus.QUEUED, None)
        message_id = message.id
    sid = twilio_http.accepted[0]["sid"]

    status_report(client, sid, "delivered", message_id)

    clock.advance(hours=1)
    with app.app_context():
        assert jobs.dispatch_outbox() == 0
        message = db.session.get(Message, message_id)
        assert (message.status, message.provider_id, message.delivery_status) == (
            MessageStatus.SENT,
            sid,
            "delivered",
        )
    assert [r["method"] for r in twilio_http.requests] == ["POST"]
