"""Invented history for the demo offices, so that the figures and the simulator have
something to show on a fresh machine (``flask --app wsgi seed-demo --history WEEKS``).

The clock is moved through the past weeks and the real services write what they would have:
bookings and waitlist joins (about 25 requests an office and week, as the press figures
suggest), cancellations that offer the seat on, offers answered or left to expire,
reminders, attendance and no-shows, and every SMS in the outbox, marked sent. At the end the
retention job runs, as the scheduler would have: older messages are gone, older records
anonymised. Nobody is real: names are made up, phone numbers come from the Bundesnetzagentur's
"drama numbers" (fixed lines reserved for films and books, never assigned; the booking form
would refuse them: it asks for a mobile number), so none of it can ever reach a person.
"""

import heapq
import random
from datetime import UTC, datetime, time, timedelta

from flask import current_app
from sqlalchemy import func, select

from ..extensions import db
from ..models import (
    Booking,
    BookingSource,
    BookingStatus,
    CancelledBy,
    Message,
    MessageStatus,
    Offer,
    OfferStatus,
    Office,
    Slot,
    StaffAccount,
    WaitlistEntry,
)
from . import demo, notify, offer_answers, offers, outbox, policy, reminders, retention, seats, slots, waitlist
from .booking import cancel
from .scenario import poisson

DRAMA_NUMBERS = ["+493023125", "+496990009", "+494066969", "+492214710", "+498999998"]
FIRST_NAMES = [
    "Amal",
    "Bashir",
    "Darya",
    "Elif",
    "Farid",
    "Galyna",
    "Hamid",
    "Iryna",
    "Jamal",
    "Kateryna",
    "Leyla",
    "Mahmoud",
    "Nadia",
    "Omid",
    "Parisa",
    "Rami",
    "Svitlana",
    "Tarek",
    "Yusuf",
    "Zahra",
    "Bogdan",
    "Mihaela",
    "Ionut",
    "Radka",
    "Emre",
    "Ayşe",
    "Dmytro",
    "Samira",
    "Karim",
    "Noor",
]
# Languages residents write in, and how often, where the service offers them.
LOCALE_WEIGHTS = {
    "de": 22,
    "ar": 26,
    "uk": 12,
    "fa": 10,
    "en": 8,
    "ru": 6,
    "tr": 7,
    "ro": 5,
    "bg": 4,
}
SOURCES = [(BookingSource.ONLINE, 70), (BookingSource.WALK_IN, 15), (BookingSource.PHONE, 15)]
CANCEL_RATE = 0.13  # of appointments made, cancelled before they begin
ANSWERS = [("accept", 55), ("decline", 20), (None, 25)]  # None: the offer is left to expire
NO_SHOW = {True: 0.09, False: 0.15}  # with and without a reminder sent


def generate(
    now: datetime,
    weeks: int,
    *,
    seed: int = 1,
    per_week: float = 25.0,
    office_slugs: list[str] | None = None,
) -> dict:
    """Write ``weeks`` of history up to ``now`` for the demo offices that have no bookings
    yet (running it twice adds nothing). Returns what was written, for the command line."""
    query = select(Office).where(Office.active).order_by(Office.id)
    if office_slugs is not None:
        query = query.where(Office.slug.in_(office_slugs))
    offices = [
        office
        for office in db.session.scalars(query)
        if db.session.scalar(select(Booking.id).where(Booking.office_id == office.id).limit(1))
        is None
    ]
    if not offices or weeks <= 0:
        return {"offices": 0, "bookings": 0, "waitlist": 0, "messages": 0}
    story = _Story(offices, now, weeks, random.Random(seed), per_week)
    previous = current_app.config.get("CLOCK")
    current_app.config["CLOCK"] = story.clock  # messages are stamped with the story's time
    try:
        story.tell()
        retention.purge(now)
        db.session.flush()
    finally:
        if previous is None:
            current_app.config.pop("CLOCK", None)
        else:
            current_app.config["CLOCK"] = previous
    ids = [office.id for office in offices]

    def count(model):
        return db.session.scalar(select(func.count(model.id)).where(model.office_id.in_(ids)))

    return {
        "offices": len(offices),
        "bookings": count(Booking),
        "waitlist": count(WaitlistEntry),
        "messages": len(
            db.session.scalars(
                select(Message.id).where(
                    Message.created_at >= now - timedelta(days=current_app.config["RETENTION_DAYS"])
                )
            ).all()
        ),
    }


class _Story:
    def __init__(self, offices, now, weeks, rng, per_week):
        self.offices, self.end, self.rng, self.per_week = offices, now, rng, per_week
        self.start = now - timedelta(weeks=weeks)
        self.now = self.start
        self.ids = [office.id for office in offices]
        self.events, self.counter = [], 0
        self.number = rng.randrange(5000)
        languages = current_app.config["LANGUAGES"]
        self.locales = [
            (code, weight) for code, weight in LOCALE_WEIGHTS.items() if code in languages
        ] or [(languages[0], 1)]
        staff = db.session.scalar(
            select(StaffAccount).where(StaffAccount.email == demo.STAFF_EMAIL)
        )
        self.staff_id = staff.id if staff else None

    def clock(self):
        return self.now

    def at(self, moment, action, *args):
        self.counter += 1
        heapq.heappush(self.events, (moment, self.counter, action, args))

    def tell(self):
        slots.materialise(self.start, office_ids=self.ids)
        for office in self.offices:
            for week in range(int((self.end - self.start).days / 7) + 1):
                for _ in range(poisson(self.rng, self.per_week)):
                    self.at(self._request_time(office, week), self.request, office.id)
        hour = self.start.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        while hour < self.end:
            self.at(hour, self.hourly)
            hour += timedelta(hours=1)
        while self.events and self.events[0][0] < self.end:
            self.now, _count, action, args = heapq.heappop(self.events)
            action(*args)
            self.dispatch()
        self.now = self.end

    def _request_time(self, office, week):
        """Working days mostly, during the day; some online requests in the evening."""
        day = self.start.astimezone(office.tz).date() + timedelta(
            days=week * 7 + self.rng.choice([0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 6])
        )
        minute = int(self.rng.triangular(7 * 60, 22 * 60, 11 * 60))
        moment = datetime.combine(
            day, time(minute // 60, minute % 60), tzinfo=office.tz
        ).astimezone(UTC)
        return (
            moment
            if moment > self.start
            else self.start + timedelta(minutes=self.rng.randrange(60, 600))
        )

    def phone(self):
        self.number = (self.number + 1) % 5000
        return f"{DRAMA_NUMBERS[self.number // 1000]}{self.number % 1000:03d}"

    def person(self):
        locale = self.rng.choices(
            [code for code, _ in self.locales], [weight for _, weight in self.locales]
        )[0]
        return {
            "name": f"{self.rng.choice(FIRST_NAMES)} {chr(65 + self.rng.randrange(26))}.",
            "phone": self.phone(),
            "locale": locale,
        }

    def request(self, office_id):
        """A resident asks: books one of the first free times, or joins the waitlist."""
        office = db.session.get(Office, office_id)
        source = self.rng.choices([s for s, _ in SOURCES], [w for _, w in SOURCES])[0]
        lead = timedelta(minutes=10) if source == BookingSource.WALK_IN else timedelta(hours=2)
        free = slots.free_slots(office, self.now + lead, self.now + timedelta(days=21))[:4]
        if free and (source != BookingSource.ONLINE or self.rng.random() < 0.85):
            self.book(
                free[0] if source == BookingSource.WALK_IN else self.rng.choice(free[:3]), source
            )
        else:
            self.join(office)

    def book(self, slot, source):
        """As ``booking.book`` does it (which would refuse the drama numbers: fixed lines)."""
        if not seats.take(slot.id):
            return
        booking = Booking(
            slot=slot,
            office_id=slot.office_id,
            source=source,
            requested_at=self.now,
            created_at=self.now,
            seated_at=self.now,
            notify_earlier=source == BookingSource.ONLINE
            and self.rng.random() < 0.25
            and slot.starts_at - self.now > timedelta(days=7),
            staff_id=self.staff_id if source != BookingSource.ONLINE else None,
            **self.person(),
        )
        db.session.add(booking)
        db.session.flush()
        waitlist.end_wait(slot.office_id, booking.phone, self.now, booking=booking)
        notify.booking_confirmed(booking, self.now)
        self.fate(booking)

    def join(self, office):
        """As ``waitlist.join`` does it, with preferences half of the time."""
        preferences = {}
        if self.rng.random() < 0.25:
            days = {rule.weekday for rule in office.hours}
            preferences["weekdays"] = sum(
                1 << day for day in self.rng.sample(sorted(days), max(1, len(days) // 2))
            )
        elif self.rng.random() < 0.33:
            preferences.update(earliest_minute=8 * 60, latest_minute=12 * 60 + 30)
        if self.rng.random() < 0.3:  # "not after": the wait lapses then
            preferences["last_day"] = self.now.astimezone(office.tz).date() + timedelta(
                days=self.rng.randrange(14, 43)
            )
        entry = WaitlistEntry(
            office_id=office.id, requested_at=self.now, **self.person(), **preferences
        )
        db.session.add(entry)
        db.session.flush()
        if self.rng.random() < 0.4:  # found help elsewhere, moved away: leaves the list
            self.at(
                self.now + timedelta(days=self.rng.lognormvariate(3.0, 0.6)), self.leave, entry.id
            )
        notify.waitlist_joined(entry, waitlist.position(entry), self.now)
        # As offers.fill_office, but only through the free times this newcomer can use:
        # everyone waiting before had their chance at the others. (Much faster.)
        tz = office.tz
        for slot in slots.free_slots(
            office,
            self.now + policy.closest_offer_lead(),
            self.now + timedelta(days=current_app.config["SLOT_HORIZON_DAYS"]),
        ):
            start, end = slot.starts_at.astimezone(tz), slot.ends_at.astimezone(tz)
            if (
                entry.accepts_weekday(start.weekday())
                and (
                    entry.earliest_minute is None
                    or entry.earliest_minute <= start.hour * 60 + start.minute
                )
                and (
                    entry.latest_minute is None or entry.latest_minute >= end.hour * 60 + end.minute
                )
            ):
                if offers.fill_slot(slot.id, self.now):
                    break

    def leave(self, entry_id):
        waitlist.leave(db.session.get(WaitlistEntry, entry_id), self.now)

    def fate(self, booking, cancel_rate=CANCEL_RATE):
        """Whether and when the resident (or staff, on their behalf) will cancel."""
        left = booking.slot.starts_at - self.now - timedelta(hours=2)
        if left > timedelta(0) and self.rng.random() < cancel_rate:
            self.at(self.now + left * self.rng.random() ** 0.7, self.cancel, booking.id)

    def cancel(self, booking_id):
        booking = db.session.get(Booking, booking_id)
        if booking.status != BookingStatus.BOOKED or booking.slot.starts_at <= self.now:
            return
        by_staff = self.rng.random() < 0.15
        cancel(
            booking,
            now=self.now,
            by=CancelledBy.STAFF if by_staff else CancelledBy.RESIDENT,
            reason="Resident called: cannot come" if by_staff else None,
            staff_id=self.staff_id if by_staff else None,
        )

    def dispatch(self, everything=False):
        """Send what is due, as the dispatcher would (nothing leaves the machine): after an
        event what it wrote, every hour all that is due. Plan the answers to the offers whose
        SMS just went out."""
        written = outbox.tracked()
        if not written and not everything:
            return
        claimed, _taken = outbox.claim_due(self.now, limit=10_000)
        outbox.record([outbox.Result(message) for message in claimed], self.now)
        if not claimed:
            return
        claimed_ids = [message.id for message in claimed]
        sent_offers = select(Message.offer_id).where(
            Message.id.in_(claimed_ids), Message.offer_id.is_not(None)
        )
        for offer in db.session.scalars(
            select(Offer).where(Offer.id.in_(sent_offers), Offer.status == OfferStatus.PENDING)
        ):
            answer = self.rng.choices([a for a, _ in ANSWERS], [w for _, w in ANSWERS])[0]
            if answer is not None:
                delay = timedelta(
                    minutes=min(offer.hold_minutes - 1, self.rng.lognormvariate(3.6, 0.9))
                )
                self.at(offer.sent_at + delay, self.answer, offer.id, answer)

    def answer(self, offer_id, answer):
        offer = db.session.get(Offer, offer_id)
        if not offer_answers.is_open(offer, self.now):
            return
        if answer == "accept":
            self.fate(offer_answers.accept(offer, self.now), cancel_rate=CANCEL_RATE / 2)
        else:
            offer_answers.decline(offer, self.now)

    def hourly(self):
        """The scheduler's jobs, in the hours they find work (no SMS starts at night); at
        midnight new days of slots, offered to whoever waits, and yesterday's attendance."""
        hour = self.now.astimezone(self.offices[0].tz).hour
        if 7 <= hour <= 21:
            offers.expire(self.now)
            reminders.queue_due(self.now)
            self.dispatch(everything=True)
        if hour == 0:
            waitlist.lapse(self.now)
            horizon = self.now + timedelta(days=current_app.config["SLOT_HORIZON_DAYS"])
            slots.materialise(self.now, office_ids=self.ids)
            for slot_id in offers.slots_to_fill(self.now, self.ids):
                if db.session.get(Slot, slot_id).starts_at > horizon - timedelta(days=1):
                    offers.fill_slot(slot_id, self.now)  # the day that just came into view
            self.mark_attendance()
            db.session.commit()

    def mark_attendance(self):
        due = list(
            db.session.scalars(
                select(Booking)
                .join(Slot, Slot.id == Booking.slot_id)
                .where(
                    Booking.office_id.in_(self.ids),
                    Booking.status == BookingStatus.BOOKED,
                    Slot.ends_at <= self.now,
                )
            )
        )
        reminded = (
            set(
                db.session.scalars(
                    select(Message.booking_id).where(
                        Message.kind == "reminder",
                        Message.status == MessageStatus.SENT,
                        Message.booking_id.in_([booking.id for booking in due]),
                    )
                )
            )
            if due
            else set()
        )
        for booking in due:
            missed = self.rng.random() < NO_SHOW[booking.id in reminded]
            booking.status = BookingStatus.NO_SHOW if missed else BookingStatus.ATTENDED
            booking.attendance_marked_at = booking.slot.ends_at + timedelta(
                minutes=self.rng.randrange(5, 240)
            )
            booking.staff_id = self.staff_id
