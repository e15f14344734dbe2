"""One open offer per phone, across offices: the README's promise, kept by the code."""
from datetime import timedelta

import psycopg
import pytest
from sqlalchemy import select

from scheduler import create_app
from scheduler.extensions import db
from scheduler.models import Offer, OfferStatus
from scheduler.services import booking, offer_answers, offers, waitlist
from scheduler.services.locks import lock_key

from . import factories
from .conftest import _empty_postgresql, base_config

PHONE = "+4915123456789"


def two_offices_waited_at(clock):
    """Lanstrop and Eving each with one seat, booked by someone else; PHONE waits at both."""
    seats = []
    for slug in ("lanstrop", "eving"):
        office = factories.office(slug=slug, name=slug.title())
        slot = factories.slot(office, clock.now + timedelta(days=3), seats=1)
        taken = booking.book(slot.id, name="Someone", phone=factories.mobile(), locale="de", now=clock.now)
        waitlist.join(office, name="Olena", phone=PHONE, locale="uk", now=clock.now)
        seats.append((slot, taken))
    return seats


def pending(phone=PHONE):
    return list(db.session.scalars(select(Offer).where(Offer.phone == phone, Offer.status == OfferStatus.PENDING)))


def test_a_phone_waiting_at_two_offices_holds_one_offer_and_gets_the_other_when_it_ends(ctx, clock):
    (lanstrop, at_lanstrop), (eving, at_eving) = two_offices_waited_at(clock)
    booking.cancel(at_lanstrop, now=clock.now)
    booking.cancel(at_eving, now=clock.now)
    [first] = pending()
    assert first.slot_id == lanstrop.id
    assert eving.available == 1  # nobody else can use it: shown as free meanwhile
    offer_answers.decline(first, now=clock.now)
    [second] = pending()
    assert second.slot_id == eving.id


@pytest.fixture
def pg_app(postgresql_database, clock):
    app = create_app(base_config(postgresql_database, CLOCK=clock))
    yield app
    with app.app_context():
        db.engine.dispose()
    _empty_postgresql(postgresql_database)


def test_two_offices_offering_at_once_never_give_one_phone_two_offers(pg_app, clock):
    """Another process is offering this phone something (it holds the phone's lock): this
    one passes it over rather than wait, and the seat is offered once that has ended."""
    with pg_app.app_context():
        (_, at_lanstrop), (eving, at_eving) = two_offices_waited_at(clock)
        db.session.commit()
        other = psycopg.connect(pg_app.config["SQLALCHEMY_DATABASE_URI"].replace("+psycopg", ""))
        other.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key("offer-phone", PHONE),))
        booking.cancel(at_eving, now=clock.now)
        db.session.commit()
        assert pending() == [] and db.session.get(type(eving), eving.id).available == 1
        other.rollback()
        other.close()
        assert len(offers.fill_slot(eving.id, clock.now)) == 1
        booking.cancel(at_lanstrop, now=clock.now)
        db.session.commit()
        assert len(pending()) == 1
