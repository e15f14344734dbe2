"""A hand-built week at two offices, for the figures tests (pages, API, CSV, charts).

Lanstrop (Thursdays 08:30-11:30, two seats a slot), week 48 of 2026 (Monday 23 to Sunday 29
November), every step at a set local time, through the services and the scheduler's tick:

- Monday 09:00 Amina, 09:10 Boris book Thursday 08:30 (the slot is full); 09:20 Chen books
  Thursday 09:00. 10:00 Dana joins the waitlist for Thursday 26th, 08:30-09:00 only.
- Tuesday 10:00 Amina cancels: the seat is offered to Dana; the tick at 10:05 sends the offer,
  Dana accepts at 11:00 (refilled one hour after it was freed).
- Wednesday 09:00 tick: reminders to Boris, Dana and Chen. 12:00 staff cancel Chen's
  appointment (nobody waits: not refilled). 15:00 Emil books Thursday 10:00 (too late for a
  reminder). 16:00 Gül books Thursday 3 December (a request of this week, an appointment of
  the next).
- Thursday 08:00 tick; 12:00 Boris and Dana attended, Emil did not come.

Nordstadt (Wednesdays): Frank books Wednesday 25th 09:00 on Monday at 11:00; not marked.
"""
from datetime import datetime

from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import Booking, BookingStatus, CancelledBy, Slot, WaitlistEntry
from scheduler.services import booking as bookings
from scheduler.services import offer_answers, slots, waitlist

from . import factories
from .conftest import BERLIN

WEDNESDAY = 2


def local(iso):
    return datetime.fromisoformat(iso).replace(tzinfo=BERLIN)


def slot_at(office, iso):
    return db.session.scalar(select(Slot).where(Slot.office_id == office.id, Slot.starts_at == local(iso)))


def tick(runner, iso):
    result = runner.invoke(args=["scheduler", "tick", "--now", local(iso).isoformat()])
    assert result.exit_code == 0, result.output


def build_week(app, clock, runner):
    """Build the week; returns the ids of what tests look at, by name."""
    def at(iso):
        clock.now = local(iso)
        return clock.now

    with app.app_context():
        lanstrop = factories.office()
        nordstadt = factories.office(slug="nordstadt", name="Nordstadt", address="Dortmund-Nordstadt",
                                     hours=((WEDNESDAY, "09:00", "12:00", 30, 2),))
        slots.materialise(at("2026-11-23T08:00"))
        early, nine, ten = (slot_at(lanstrop, f"2026-11-26T{hour}") for hour in ("08:30", "09:00", "10:00"))
        next_week = slot_at(lanstrop, "2026-12-03T08:30")

        def book(slot, name, locale, when):
            return bookings.book(slot.id, name=name, phone=factories.mobile(), locale=locale, now=at(when))

        amina = book(early, "Amina", "ar", "2026-11-23T09:00")
        boris = book(early, "Boris", "de", "2026-11-23T09:10")
        chen = book(nine, "Chen", "en", "2026-11-23T09:20")
        dana = waitlist.join(lanstrop, name="Dana", phone=factories.mobile(), locale="ar",
                             weekdays=[3], earliest="08:30", latest="09:00", before="2026-11-26",
                             now=at("2026-11-23T10:00"))
        frank = book(slot_at(nordstadt, "2026-11-25T09:00"), "Frank", "de", "2026-11-23T11:00")
        bookings.cancel(amina, now=at("2026-11-24T10:00"))
        db.session.commit()
        ids = {"lanstrop": lanstrop.id, "nordstadt": nordstadt.id, "early": early.id,
               "amina": amina.id, "boris": boris.id, "chen": chen.id, "frank": frank.id,
               "ten": ten.id, "next_week": next_week.id, "entry": dana.id}
    tick(runner, "2026-11-24T10:05")
    with app.app_context():
        entry = db.session.get(WaitlistEntry, ids["entry"])
        offer = waitlist.pending_offer(entry)
        ids["dana"] = offer_answers.accept(offer, at("2026-11-24T11:00")).id
        db.session.commit()
    tick(runner, "2026-11-25T09:00")
    with app.app_context():
        chen = db.session.get(Booking, ids["chen"])
        bookings.cancel(chen, now=at("2026-11-25T12:00"), by=CancelledBy.STAFF, reason="Called in sick")
        ids["emil"] = book(db.session.get(Slot, ids["ten"]), "Emil", "en", "2026-11-25T15:00").id
        ids["guel"] = book(db.session.get(Slot, ids["next_week"]), "Gül", "de", "2026-11-25T16:00").id
        db.session.commit()
    tick(runner, "2026-11-26T08:00")
    with app.app_context():
        marked = at("2026-11-26T12:00")
        for name, status in (("boris", BookingStatus.ATTENDED), ("dana", BookingStatus.ATTENDED),
                             ("emil", BookingStatus.NO_SHOW)):
            booking = db.session.get(Booking, ids[name])
            booking.status, booking.attendance_marked_at = status, marked
        db.session.commit()
    return ids
