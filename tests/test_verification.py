"""Phone verification (BOOKING_VERIFICATION=sms): a booking is held until the resident
confirms it, every number gets the same answer, and only the SMS says what happened."""
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from scheduler import jobs
from scheduler.extensions import db
from scheduler.models import Booking, BookingStatus, Message, Offer, OfferStatus, Slot, WaitlistEntry
from scheduler.services import agenda, booking, offer_answers, offers, replies, verification, waitlist

from . import factories
from .test_browser import ARTIFACTS, browser, live_server  # noqa: F401  (fixtures)
from .test_browser_languages import axe_source, phone_page, step  # noqa: F401  (fixtures)

ANSWER = {"status": "verification_sent", "confirm_within_minutes": 15}


@pytest.fixture
def config_overrides():
    return {"BOOKING_VERIFICATION": "sms",
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 4, "max_overflow": 2}}


def make_slot(app, clock, seats=1, days=3):
    with app.app_context():
        office = factories.office()
        slot = factories.slot(office, clock.now + timedelta(days=days), seats=seats)
        db.session.commit()
        return slot.id


def request(slot_id, phone):
    return {"slot_id": slot_id, "name": "Amina Khalil", "phone": phone, "locale": "de"}


def texts(phone):
    phone = stored(phone)
    return [(message.kind, message.body) for message in db.session.scalars(
        select(Message).where(Message.to == phone, Message.channel == "sms").order_by(Message.id))]


def kinds(phone):
    return [kind for kind, _body in texts(phone)]


def held_booking(phone):
    return db.session.scalar(select(Booking).where(Booking.phone == stored(phone)))


def waits(office, phone, now):
    """A confirmed wait: with verification on, joining holds it until the SMS is answered."""
    waitlist.join(office, name="Olena Koval", phone=phone, locale="uk", now=now)
    held = db.session.scalar(select(WaitlistEntry).where(WaitlistEntry.phone == stored(phone)))
    assert verification.confirm_wait(held, now)


def stored(phone):
    return "+49" + phone[1:].replace(" ", "") if phone.startswith("0") else phone


def test_a_held_booking_takes_the_seat_until_confirmed(app, client, clock):
    slot_id = make_slot(app, clock, seats=1)
    phone = factories.mobile()
    response = client.post("/api/v1/bookings", json=request(slot_id, phone))
    assert (response.status_code, response.json) == (202, ANSWER)
    refused = client.post("/api/v1/bookings", json=request(slot_id, factories.mobile()))
    assert refused.status_code == 409
    with app.app_context():
        assert db.session.get(Slot, slot_id).seats_taken == 1
        held = held_booking(phone)
        assert held.status == BookingStatus.HELD
        assert held.hold_until == clock.now + timedelta(minutes=15)
        assert kinds(phone) == ["verification"]
        assert f"/v/{held.token}" in texts(phone)[0][1]


def test_the_link_shows_first_and_confirms_only_when_the_button_is_pressed(app, client, clock):
    slot_id = make_slot(app, clock)
    phone = factories.mobile()
    client.post("/api/v1/bookings", json=request(slot_id, phone))
    with app.app_context():
        token = held_booking(phone).token
    page = client.get(f"/v/{token}")
    assert page.status_code == 200 and "<form" in page.text
    with app.app_context():
        assert held_booking(phone).status == BookingStatus.HELD
    confirmed = client.post(f"/v/{token}", data={"csrf_token": factories.csrf_token(page.text)})
    assert confirmed.status_code == 303 and confirmed.location.endswith(f"/b/{token}/booked")
    again = client.post(f"/v/{token}", data={"csrf_token": factories.csrf_token(page.text)})
    assert again.status_code == 200 and "<form" not in again.text
    with app.app_context():
        confirmed = held_booking(phone)
        assert (confirmed.status, confirmed.hold_until) == (BookingStatus.BOOKED, None)
        assert kinds(phone) == ["verification", "confirmation"]


def test_a_reply_of_1_confirms(ctx, clock):
    office = factories.office()
    slot = factories.slot(office, clock.now + timedelta(days=3))
    phone = factories.mobile()
    booking.book(slot.id, name="Amina Khalil", phone=phone, locale="de", now=clock.now)
    assert replies.handle("SM1", stored(phone), "1", clock.now + timedelta(minutes=5)) == ""
    assert held_booking(phone).status == BookingStatus.BOOKED
    assert replies.handle("SM2", stored(phone), "ja", clock.now + timedelta(minutes=6)) != ""  # no hold left
    assert kinds(phone) == ["verification", "confirmation"]


def test_a_1_answers_what_was_texted_last(ctx, clock):
    """A resident waiting at one office is offered a time there, then books at another:
    1 confirms the hold (texted last); the next 1 accepts the offer."""
    first, second = factories.office(), factories.office(slug="eving", name="Eving")
    phone = factories.mobile()
    waits(first, phone, clock.now)
    free = factories.slot(first, clock.now + timedelta(days=2), seats=1)
    [offer] = offers.fill_slot(free.id, clock.now)
    offer.sent_at = clock.now
    later = clock.now + timedelta(minutes=1)
    slot = factories.slot(second, clock.now + timedelta(days=3))
    booking.book(slot.id, name="Olena Koval", phone=phone, locale="uk", now=later)
    replies.handle("SM1", stored(phone), "1", later)
    held = db.session.scalar(select(Booking).where(Booking.slot_id == slot.id))
    assert held.status == BookingStatus.BOOKED
    assert db.session.get(Offer, offer.id).status == OfferStatus.PENDING
    replies.handle("SM2", stored(phone), "1", later)
    assert db.session.get(Offer, offer.id).status == OfferStatus.ACCEPTED


def test_an_unconfirmed_hold_expires_and_its_seat_is_offered_on(app, clock):
    slot_id = make_slot(app, clock, seats=1)
    phone, waiting = factories.mobile(), factories.mobile()
    with app.app_context():
        slot = db.session.get(Slot, slot_id)
        booking.book(slot_id, name="Amina Khalil", phone=phone, locale="de", now=clock.now)
        waits(slot.office, waiting, clock.now)
        assert db.session.scalar(select(Offer)) is None  # the held seat is not free
        db.session.commit()
        assert jobs.expire_holds(clock.now + timedelta(minutes=14)) == 0
        assert jobs.expire_holds(clock.now + timedelta(minutes=15)) == 1
        assert jobs.expire_holds(clock.now + timedelta(minutes=16)) == 0
        assert held_booking(phone).status == BookingStatus.EXPIRED
        [offer] = db.session.scalars(select(Offer))
        assert (offer.phone, offer.slot_id) == (stored(waiting), slot_id)
        assert db.session.get(Slot, slot_id).seats_taken == 1  # now held by the offer
        late = verification.confirm(held_booking(phone), clock.now + timedelta(minutes=17))
        assert late is False and kinds(phone) == ["verification"]


@pytest.fixture
def three_numbers(app, clock):
    """A new number, one that already has an appointment, one that waits at the office."""
    slot_id = make_slot(app, clock, seats=3)
    new, booked, waiting = factories.mobile(), factories.mobile(), factories.mobile()
    with app.app_context():
        office_slot = db.session.get(Slot, slot_id)
        other = factories.slot(office_slot.office, clock.now + timedelta(days=4))
        booking.book(other.id, name="Amina Khalil", phone=booked, locale="de", now=clock.now)
        verification.confirm(held_booking(booked), clock.now)
        waits(office_slot.office, waiting, clock.now)
        db.session.commit()
    return slot_id, {"new": new, "booked": booked, "waiting": waiting}


def test_the_api_answers_the_same_for_every_number(app, client, three_numbers):
    slot_id, numbers = three_numbers
    answers = {who: client.post("/api/v1/bookings", json=request(slot_id, phone))
               for who, phone in numbers.items()}
    assert {(r.status_code, tuple(sorted(r.json.items()))) for r in answers.values()} == {
        (202, tuple(sorted(ANSWER.items())))}
    with app.app_context():
        assert kinds(numbers["new"]) == ["verification"]
        assert kinds(numbers["booked"])[-1] == "verification_known"
        assert "/b/" in texts(numbers["booked"])[-1][1]
        assert kinds(numbers["waiting"])[-1] == "verification"


def test_the_page_answers_the_same_for_every_number(app, client, three_numbers):
    slot_id, numbers = three_numbers
    form_page = client.get(f"/o/lanstrop/book/{slot_id}")
    token = factories.csrf_token(form_page.text)
    answers = [client.post(f"/o/lanstrop/book/{slot_id}", data={
        "csrf_token": token, "name": "Amina Khalil", "phone": phone}) for phone in numbers.values()]
    assert {(r.status_code, r.location) for r in answers} == {(303, "/o/lanstrop/held")}
    page = client.get("/o/lanstrop/held")
    assert page.status_code == 200 and "15" in page.text
    with app.app_context():
        assert kinds(numbers["booked"])[-1] == "verification_known"


def test_nothing_is_texted_twice(ctx, clock):
    office = factories.office()
    first, second = (factories.slot(office, clock.now + timedelta(days=n)) for n in (3, 4))
    phone, booked = factories.mobile(), factories.mobile()
    for slot in (first, second, first):
        booking.book(slot.id, name="Amina Khalil", phone=phone, locale="de", now=clock.now)
    assert kinds(phone) == ["verification"]  # the open hold stands; no new text, no new seat
    assert first.seats_taken + second.seats_taken == 1
    booking.book(first.id, name="Amina Khalil", phone=booked, locale="de", now=clock.now)
    verification.confirm(held_booking(booked), clock.now)
    for _ in range(3):
        booking.book(second.id, name="Amina Khalil", phone=booked, locale="de", now=clock.now)
    assert kinds(booked) == ["verification", "confirmation", "verification_known"]


def held_in(app, clock, phone):
    slot_id = make_slot(app, clock)
    with app.app_context():
        booking.book(slot_id, name="Amina Khalil", phone=phone, locale="de", now=clock.now)
        db.session.commit()
        return held_booking(phone).id, slot_id


def at_once(app, actions):
    barrier = threading.Barrier(len(actions))

    def run(action):
        with app.app_context():
            barrier.wait()
            result = action()
            db.session.commit()
            return result

    with ThreadPoolExecutor(max_workers=len(actions)) as pool:
        return list(pool.map(run, actions))


def test_two_confirmations_at_once_confirm_once(app, clock):
    phone = factories.mobile()
    booking_id, slot_id = held_in(app, clock, phone)
    confirm = lambda: verification.confirm(db.session.get(Booking, booking_id), clock.now)  # noqa: E731
    assert sorted(at_once(app, [confirm, confirm])) == [False, True]
    with app.app_context():
        assert kinds(phone) == ["verification", "confirmation"]
        assert db.session.get(Slot, slot_id).seats_taken == 1


def test_a_confirmation_racing_the_expiry_leaves_one_outcome(app, clock):
    phone = factories.mobile()
    booking_id, slot_id = held_in(app, clock, phone)
    just_in_time = clock.now + timedelta(minutes=14, seconds=59)
    results = at_once(app, [
        lambda: verification.confirm(db.session.get(Booking, booking_id), just_in_time),
        lambda: verification.expire(clock.now + timedelta(minutes=15)),
    ])
    with app.app_context():
        status = db.session.get(Booking, booking_id).status
        taken = db.session.get(Slot, slot_id).seats_taken
        sent = kinds(phone)
    if results[0]:
        assert (results[1], status, taken, sent) == (0, BookingStatus.BOOKED, 1, ["verification", "confirmation"])
    else:
        assert (results[1], status, taken, sent) == (1, BookingStatus.EXPIRED, 0, ["verification"])


def test_staff_see_no_appointment_until_it_is_confirmed(ctx, clock):
    office = factories.office()
    slot = factories.slot(office, clock.now + timedelta(days=3))
    held, expired, confirmed = factories.mobile(), factories.mobile(), factories.mobile()
    booking.book(slot.id, name="Amina Khalil", phone=expired, locale="de", now=clock.now)
    verification.expire(clock.now + timedelta(minutes=15))
    for phone in (held, confirmed):
        booking.book(slot.id, name="Amina Khalil", phone=phone, locale="de", now=clock.now)
    verification.confirm(held_booking(confirmed), clock.now)
    day = slot.starts_at.astimezone(office.tz).date()
    assert [b.phone for b in agenda.bookings_between(office, day, day)] == [stored(confirmed)]


@pytest.mark.browser
@pytest.mark.parametrize("database_uri", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("lang", "width"), [("ar", 320), ("de", 390)])
def test_a_resident_books_and_confirms_on_a_phone_without_javascript(
        phone_page, app, axe_source, lang, width):
    ARTIFACTS.mkdir(exist_ok=True)
    page = phone_page(width)
    page.goto(f"/o/lanstrop?lang={lang}")
    page.locator("section.day a.time").first.tap()
    page.locator("input[name=name]").fill("Amina Khalil")
    page.locator("input[name=phone]").fill("0151 23456789")
    page.locator("form button[type=submit]").tap()
    expect(page).to_have_url(re.compile(r"/o/lanstrop/held$"))
    expect(page.locator("html")).to_have_attribute("lang", lang)
    step(page, axe_source, f"verify-{lang}-{width}-1-held")
    with app.app_context():
        token = held_booking("+4915123456789").token
    page.goto(f"/v/{token}")
    step(page, axe_source, f"verify-{lang}-{width}-2-confirm")
    page.locator("form button[type=submit]").tap()
    expect(page).to_have_url(re.compile(rf"/b/{token}/booked$"))
    page.goto(f"/v/{token}")
    expect(page.locator("form button[type=submit]")).to_have_count(0)
    step(page, axe_source, f"verify-{lang}-{width}-3-confirmed")


def test_taking_an_offer_ends_a_hold_at_the_same_office(ctx, clock):
    """A resident who waits is offered a time while a time they booked waits for their
    confirmation: taking the offer gives them their appointment, and the hold goes back."""
    office = factories.office()
    phone = factories.mobile()
    waits(office, phone, clock.now)
    later = factories.slot(office, clock.now + timedelta(days=5), seats=1)
    booking.book(later.id, name="Olena Koval", phone=phone, locale="uk", now=clock.now)
    free = factories.slot(office, clock.now + timedelta(days=2), seats=1)
    [offer] = offers.fill_slot(free.id, clock.now)
    offer_answers.accept(offer, clock.now)
    mine = {b.slot_id: b.status for b in db.session.scalars(select(Booking).where(Booking.phone == stored(phone)))}
    assert mine == {free.id: BookingStatus.BOOKED, later.id: BookingStatus.EXPIRED}
    assert db.session.get(Slot, later.id).seats_taken == 0
