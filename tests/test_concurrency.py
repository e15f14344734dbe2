"""Many residents at once: the database decides, nobody gets a 500, no seat is sold twice.

Each thread is its own client with its own connection, as gunicorn workers would be.
"""
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from scheduler.extensions import db
from scheduler.models import Booking, BookingStatus, Offer, Slot

from . import factories
from .outbox import deliver

RESIDENTS = 16


@pytest.fixture
def config_overrides():
    # A pool as large as the crowd, so that every thread really holds its own connection.
    return {"SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": RESIDENTS, "max_overflow": 4}}


def race(app, requests):
    """Send all ``requests`` (json bodies) at the same moment; return the status codes."""
    barrier = threading.Barrier(len(requests))

    def send(body):
        client = app.test_client()
        barrier.wait()
        return client.post("/api/v1/bookings", json=body).status_code

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return sorted(pool.map(send, requests))


def make_slots(app, clock, seats, count=1):
    with app.app_context():
        office = factories.office()
        ids = [factories.slot(office, clock.now + timedelta(days=3, minutes=30 * n), seats=seats).id
               for n in range(count)]
        db.session.commit()
        return ids


def request(slot_id, phone=None):
    return {"slot_id": slot_id, "name": "Resident", "phone": phone or factories.mobile(), "locale": "de"}


@pytest.mark.parametrize("seats", [1, 2])
def test_exactly_as_many_win_as_there_are_seats(app, clock, seats):
    [slot_id] = make_slots(app, clock, seats)
    codes = race(app, [request(slot_id) for _ in range(RESIDENTS)])
    assert codes == [201] * seats + [409] * (RESIDENTS - seats)
    with app.app_context():
        assert db.session.scalar(select(Slot.seats_taken)) == seats
        assert db.session.scalar(select(func.count()).select_from(Booking)) == seats


def test_one_phone_racing_for_several_slots_gets_one(app, clock):
    slot_ids = make_slots(app, clock, seats=2, count=4)
    phone = factories.mobile()
    codes = race(app, [request(slot_ids[n % 4], phone) for n in range(8)])
    assert codes.count(201) == 1
    assert set(codes) == {201, 409}
    with app.app_context():
        assert db.session.scalar(select(func.sum(Slot.seats_taken))) == 1


def test_cancellations_racing_free_the_seat_once(app, clock):
    [slot_id] = make_slots(app, clock, seats=2)
    client = app.test_client()
    token = client.post("/api/v1/bookings", json=request(slot_id)).json["token"]
    client.post("/api/v1/bookings", json=request(slot_id))
    barrier = threading.Barrier(8)

    def cancel(_):
        other = app.test_client()
        barrier.wait()
        return other.post(f"/api/v1/bookings/{token}/cancel").status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert set(pool.map(cancel, range(8))) == {200}
    with app.app_context():
        assert db.session.scalar(select(Slot.seats_taken)) == 1
        statuses = db.session.scalars(select(Booking.status).order_by(Booking.id)).all()
        assert statuses == [BookingStatus.CANCELLED, BookingStatus.BOOKED]


def test_a_freed_seat_racing_bookers_goes_to_the_queue_or_to_one_booker_never_both(app, clock):
    """While someone waits, a cancellation and a crowd of bookers meet at the same seat."""
    [slot_id] = make_slots(app, clock, seats=1)
    client = app.test_client()
    token = client.post("/api/v1/bookings", json=request(slot_id)).json["token"]
    assert client.post("/api/v1/waitlist", json={
        "office": "lanstrop", "name": "Waiting", "phone": factories.mobile(), "locale": "de"}).status_code == 201
    barrier = threading.Barrier(RESIDENTS)

    def act(n):
        other = app.test_client()
        barrier.wait()
        if n == 0:
            return other.post(f"/api/v1/bookings/{token}/cancel").status_code
        return other.post("/api/v1/bookings", json=request(slot_id)).status_code

    with ThreadPoolExecutor(max_workers=RESIDENTS) as pool:
        codes = list(pool.map(act, range(RESIDENTS)))
    assert codes[0] == 200 and set(codes[1:]) <= {201, 409}
    with app.app_context():
        booked = db.session.scalar(select(func.count()).select_from(Booking).where(Booking.status == "booked"))
        offered = db.session.scalar(select(func.count()).select_from(Offer).where(Offer.status == "pending"))
        assert booked + offered == 1 == db.session.scalar(select(Slot.seats_taken))
        assert codes[1:].count(201) == booked


def test_answers_racing_for_one_offer_settle_it_once(app, clock):
    """The resident taps "accept" twice and replies by SMS, all at once."""
    [slot_id] = make_slots(app, clock, seats=1)
    client = app.test_client()
    token = client.post("/api/v1/bookings", json=request(slot_id)).json["token"]
    waiting = client.post("/api/v1/waitlist", json={
        "office": "lanstrop", "name": "Waiting", "phone": factories.mobile(), "locale": "de"}).json
    client.post(f"/api/v1/bookings/{token}/cancel")
    deliver(app)
    offer = client.get(f"/api/v1/waitlist/{waiting['token']}").json["offer"]["token"]
    barrier = threading.Barrier(8)

    def answer(n):
        other = app.test_client()
        barrier.wait()
        return other.post(f"/api/v1/offers/{offer}/{'accept' if n % 2 else 'decline'}").status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(answer, range(8)))
    assert set(codes) <= {200, 410} and 200 in codes
    with app.app_context():
        [status] = db.session.scalars(select(Offer.status)).all()
        booked = db.session.scalar(select(func.count()).select_from(Booking).where(Booking.status == "booked"))
        assert (status, booked) in {("accepted", 1), ("declined", 0)}
        assert db.session.scalar(select(Slot.seats_taken)) == booked
