"""Many residents at once: the database decides, nobody gets a 500, no seat is sold twice.

Each thread is its own client with its own connection, as gunicorn workers would be.
"""
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from scheduler.extensions import db
from scheduler.models import Booking, BookingStatus, Slot

from . import factories

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
