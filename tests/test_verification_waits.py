"""Phone verification of waits (BOOKING_VERIFICATION=sms): joining the waitlist holds a
place until the resident confirms it by the link or a reply of 1; every number is answered
the same, and only the SMS to the number says what happened."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from scheduler import jobs
from scheduler.extensions import db
from scheduler.models import Booking, Offer, Office, WaitlistEntry, WaitlistStatus
from scheduler.services import booking, replies, verification, waitlist

from . import factories
from .test_verification import ANSWER, at_once, kinds, stored, texts, waits


@pytest.fixture
def config_overrides():
    return {"BOOKING_VERIFICATION": "sms",
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 4, "max_overflow": 2}}


@pytest.fixture
def office_slug(app):
    with app.app_context():
        factories.office()
        db.session.commit()
    return "lanstrop"


def join(phone, **fields):
    return {"office": "lanstrop", "name": "Karim Haddad", "phone": phone, "locale": "ar", **fields}


def entry_of(phone):
    return db.session.scalar(select(WaitlistEntry).where(WaitlistEntry.phone == stored(phone)))


def test_joining_holds_a_place_outside_the_queue_until_confirmed(app, client, clock, office_slug):
    phone = factories.mobile()
    response = client.post("/api/v1/waitlist", json=join(phone))
    assert (response.status_code, response.json) == (202, ANSWER)
    with app.app_context():
        held = entry_of(phone)
        assert (held.status, held.hold_until) == (WaitlistStatus.HELD, clock.now + timedelta(minutes=15))
        # A seat frees: a held place is not in the queue, so nobody is offered it.
        free = factories.slot(held.office, clock.now + timedelta(days=2), seats=1)
        db.session.commit()
        assert db.session.scalar(select(Offer)) is None
        assert kinds(phone) == ["verification"]
        assert f"/w/{held.token}/confirm" in texts(phone)[0][1]
        token, free_id = held.token, free.id

    shown = client.get(f"/w/{token}/confirm?lang=en")  # a link preview only looks
    assert shown.status_code == 200 and "Confirm my place" in shown.text
    with app.app_context():
        assert entry_of(phone).status == WaitlistStatus.HELD
    confirmed = client.post(f"/w/{token}/confirm", data={
        "csrf_token": factories.csrf_token(shown.text)})
    assert (confirmed.status_code, confirmed.location) == (303, f"/w/{token}")
    with app.app_context():
        entry = entry_of(phone)
        assert (entry.status, entry.requested_at) == (WaitlistStatus.WAITING, clock.now)
        # In the queue now, and offered the free seat at once.
        [offer] = db.session.scalars(select(Offer))
        assert (offer.phone, offer.slot_id) == (stored(phone), free_id)


def test_a_reply_of_1_confirms_the_held_place(ctx, clock):
    office = factories.office()
    phone = factories.mobile()
    waitlist.join(office, name="Karim Haddad", phone=phone, locale="ar", now=clock.now)
    assert replies.handle("SM1", stored(phone), "1", clock.now + timedelta(minutes=3)) == ""
    assert entry_of(phone).status == WaitlistStatus.WAITING
    assert kinds(phone) == ["verification", "waitlist"]  # "you are number 1" answers the 1


def test_every_number_is_answered_the_same_and_only_the_sms_differs(app, client, clock, office_slug):
    new, waiting, booked, holding = (factories.mobile() for _ in range(4))
    with app.app_context():
        office = db.session.scalar(select(Office))
        waits(office, waiting, clock.now)
        slot = factories.slot(office, clock.now + timedelta(days=3))
        booking.book(slot.id, name="Amina Khalil", phone=booked, locale="de", now=clock.now)
        verification.confirm(db.session.scalar(select(Booking).where(Booking.phone == stored(booked))),
                             clock.now)
        waitlist.join(office, name="Olena Koval", phone=holding, locale="uk", now=clock.now)
        db.session.commit()
    answers = [client.post("/api/v1/waitlist", json=join(phone)) for phone in (new, waiting, booked, holding)]
    assert {(r.status_code, tuple(sorted(r.json.items()))) for r in answers} == {
        (202, tuple(sorted(ANSWER.items())))}

    form = client.get("/o/lanstrop/waitlist")
    pages = [client.post("/o/lanstrop/waitlist", data={
        "csrf_token": factories.csrf_token(form.text), "name": "Karim Haddad", "phone": phone})
        for phone in (factories.mobile(), waiting, booked)]
    assert {(r.status_code, r.location) for r in pages} == {(303, "/o/lanstrop/held?wait=1")}
    assert client.get("/o/lanstrop/held?wait=1").status_code == 200

    with app.app_context():
        assert kinds(new) == ["verification"]
        # Told once per hold time, though asked twice (API and page).
        assert kinds(waiting) == ["verification", "waitlist", "waitlist_known"]
        assert kinds(booked)[-1] == "verification_known"
        assert kinds(holding) == ["verification"]  # the first SMS stands: no second text
        assert entry_of(waiting).status == WaitlistStatus.WAITING


def test_an_unconfirmed_place_expires_and_a_late_confirmation_changes_nothing(app, clock, office_slug):
    phone = factories.mobile()
    with app.app_context():
        office = db.session.scalar(select(Office))
        waitlist.join(office, name="Karim Haddad", phone=phone, locale="ar", now=clock.now)
        db.session.commit()
        assert jobs.expire_holds(clock.now + timedelta(minutes=14)) == 0
        assert jobs.expire_holds(clock.now + timedelta(minutes=15)) == 1
        held = entry_of(phone)
        assert held.status == WaitlistStatus.EXPIRED
        assert verification.confirm_wait(held, clock.now + timedelta(minutes=16)) is False
        assert entry_of(phone).status == WaitlistStatus.EXPIRED and kinds(phone) == ["verification"]
        # Joining again starts afresh.
        waitlist.join(office, name="Karim Haddad", phone=phone, locale="ar", now=clock.now + timedelta(minutes=20))
        assert kinds(phone) == ["verification", "verification"]


def test_two_confirmations_at_once_queue_the_place_once(app, clock, office_slug):
    phone = factories.mobile()
    with app.app_context():
        waitlist.join(db.session.scalar(select(Office)), name="Karim Haddad", phone=phone,
                      locale="ar", now=clock.now)
        db.session.commit()
        entry_id = entry_of(phone).id
    confirm = lambda: verification.confirm_wait(db.session.get(WaitlistEntry, entry_id), clock.now)  # noqa: E731
    assert sorted(at_once(app, [confirm, confirm])) == [False, True]
    with app.app_context():
        assert kinds(phone) == ["verification", "waitlist"]
