"""The evaluation's figures of a hand-built week (tests/staff_figures.py), number by number."""
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from scheduler.extensions import db
from scheduler.models import Message, MessageStatus, Office
from scheduler.segments import segments
from scheduler.services import figures
from scheduler.services.tally import summary

from .staff_figures import build_week


@pytest.fixture
def week(app, clock, runner):
    return build_week(app, clock, runner)


def office_figures(slug, first, last, week_index=None):
    office = db.session.scalar(select(Office).where(Office.slug == slug))
    found = figures.collect([office], first, last)
    return summary(found.tally(office, week_index), price=0.08), found


def test_the_week_at_lanstrop_number_by_number(app, week):
    with app.app_context():
        numbers, found = office_figures("lanstrop", date(2026, 11, 23), date(2026, 11, 29))
        bodies = db.session.scalars(select(Message.body).where(
            Message.status == MessageStatus.SENT, Message.channel == "sms",
            Message.to != db.session.scalar(select(Message.to).where(Message.booking_id == week["frank"])),
        )).all()
    assert [w.label for w in found.weeks] == ["2026-W48"]
    # Amina, Boris, Chen, Dana (joined), Emil, Gül (her appointment is next week); Dana's booking
    # from the offer is the same request as her join.
    assert numbers["requests"] == 6
    assert (numbers["bookings"], numbers["attended"], numbers["no_shows"]) == (3, 2, 1)
    assert numbers["no_show_rate"] == 0.333
    # Emil 19 h, Dana Monday 10:00 -> Thursday 08:30, Boris Monday 09:10 -> Thursday 08:30.
    assert numbers["wait_days"] == {"median": 2.9, "p90": 3.0}
    assert (numbers["freed_seats"], numbers["refilled_seats"], numbers["refill_rate"]) == (2, 1, 0.5)
    assert numbers["refill_hours"] == {"median": 1.0}
    assert numbers["by_language"] == {"ar": 1, "de": 1, "en": 1}
    assert numbers["by_source"] == {"online": 2, "waitlist": 1}
    assert numbers["offers"] == {"made": 1, "accepted": 1, "declined": 0, "expired": 0, "withdrawn": 0,
                                 "pending": 0, "acceptance_rate": 1.0, "response_hours": {"median": 0.9}}
    # Boris and Dana had a reminder and came; Emil booked too late for one and did not come.
    assert numbers["reminders"] == {"with": {"marked": 2, "no_shows": 0, "no_show_rate": 0.0},
                                    "without": {"marked": 1, "no_shows": 1, "no_show_rate": 1.0}}
    # Confirmations (Amina, Boris, Chen, Dana, Emil, Gül), Dana's waitlist SMS and her offer,
    # two cancellations, three reminders.
    assert numbers["sms"]["messages"] == len(bodies) == 13
    assert numbers["sms"]["segments"] == sum(segments(body) for body in bodies)
    assert numbers["sms"]["cost"] == round(numbers["sms"]["segments"] * 0.08, 2)
    assert numbers["sms"]["currency"] == "EUR"


def test_weeks_add_up_to_the_period_and_offices_to_all(app, week):
    with app.app_context():
        offices = list(db.session.scalars(select(Office).order_by(Office.slug)))
        found = figures.collect(offices, date(2026, 11, 25), date(2026, 12, 6))
        lanstrop, nordstadt = offices
        assert [(w.label, w.first, w.last) for w in found.weeks] == [
            ("2026-W48", date(2026, 11, 25), date(2026, 11, 29)),
            ("2026-W49", date(2026, 11, 30), date(2026, 12, 6)),
        ]
        period = summary(found.tally(lanstrop), price=0.08)
        first, second = (summary(found.tally(lanstrop, index), price=0.08) for index in (0, 1))
        everyone = summary(found.tally(), price=0.08)
        frank = summary(found.tally(nordstadt), price=0.08)
    assert (first["bookings"], second["bookings"], period["bookings"]) == (3, 1, 4)  # Gül in W49
    assert (first["requests"], second["requests"]) == (2, 0)  # Emil and Gül, on Wednesday
    assert period["wait_days"] == {"median": 3.0, "p90": 7.7}  # Emil, Dana, Boris, Gül (7 d 16.5 h)
    assert (frank["bookings"], frank["requests"], frank["freed_seats"]) == (1, 0, 0)
    assert everyone["bookings"] == period["bookings"] + frank["bookings"]
    assert everyone["sms"]["messages"] == period["sms"]["messages"] + frank["sms"]["messages"]


def test_a_period_without_anything_has_no_rates(app, week):
    with app.app_context():
        numbers, _found = office_figures("lanstrop", date(2027, 1, 4), date(2027, 1, 10))
    assert numbers["requests"] == numbers["bookings"] == numbers["sms"]["messages"] == 0
    assert numbers["wait_days"] == {"median": None, "p90": None}
    assert numbers["refill_rate"] is None and numbers["offers"]["acceptance_rate"] is None


TEXTS = [
    "Lanstrop\nIhr Termin: 26. Nov., 08:30\nÄndern oder absagen:\nhttps://termine.example.org/b/abc",
    "Lanstrop\nتذكير: موعدك 26 نوفمبر، 8:30 ص\nللإلغاء رد 2 أو الرابط:\nhttps://termine.example.org/b/abc",
    "x" * 160, "x" * 161, "€" * 80, "a" + "€" * 80, "{" * 77, "ش" * 70, "ش" * 71, "😀" * 35, "ش" * 66 + "😀",
    "Long " * 40 + "[brackets] ~ and | bars ^", "Nadlerweg 1 · Dortmund " * 5,
]


def test_sms_segments_counted_by_the_database_are_those_of_notify(app, clock):
    """On PostgreSQL the texts are measured by the database; every edge of segments()
    (160/161 GSM-7 characters, escaped "€", 70/71 UCS-2 units, emoji) gives the same count."""
    from scheduler.services import booking as bookings

    from . import factories

    with app.app_context():
        office = factories.office()
        slot = factories.slot(office, clock.now + timedelta(days=3), seats=len(TEXTS))
        for text in TEXTS:
            booking = bookings.book(slot.id, name="Test", phone=factories.mobile(), locale="de", now=clock.now)
            db.session.add(Message(channel="sms", to=booking.phone, kind="test", locale="de", body=text,
                                   booking=booking, status=MessageStatus.SENT, sent_at=clock.now,
                                   created_at=clock.now, due_at=clock.now))
        db.session.commit()
        numbers, _found = office_figures("lanstrop", clock.now.date(), clock.now.date())
        expected = sum(segments(body) for body in db.session.scalars(
            select(Message.body).where(Message.status == MessageStatus.SENT)))
    assert numbers["sms"]["messages"] == len(TEXTS)  # the confirmations are not sent yet
    assert numbers["sms"]["segments"] == expected == sum(segments(text) for text in TEXTS)


def test_the_figures_of_a_year_take_a_fixed_number_of_statements(app, week):
    """The database counts: a year costs as many statements as a week."""
    from sqlalchemy import event

    with app.app_context():
        offices = list(db.session.scalars(select(Office)))
        statements = []
        event.listen(db.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
        figures.report(offices, date(2026, 11, 23), date(2026, 11, 29), per_office=True)
        one_week = len(statements)
        statements.clear()
        figures.report(offices, date(2025, 11, 30), date(2026, 11, 29), per_office=True)
    counting = [statement for statement in statements
                if not statement.startswith("SET ") and "pg_export_snapshot" not in statement]
    assert len(statements) == one_week and len(counting) <= 8


def test_figures_counted_side_by_side_are_those_counted_in_turn(app, week):
    """On PostgreSQL the parts run on FIGURES_CONNECTIONS connections at once (services.snapshot):
    the same numbers as one after the other in the request's own transaction."""
    with app.app_context():
        offices = list(db.session.scalars(select(Office)))
        side_by_side = figures.report(offices, date(2025, 11, 30), date(2026, 11, 29), per_office=True)
        app.config["FIGURES_CONNECTIONS"] = 1
        in_turn = figures.report(offices, date(2025, 11, 30), date(2026, 11, 29), per_office=True)
    assert side_by_side == in_turn and side_by_side["bookings"] > 0


def test_every_part_sees_the_snapshot_of_the_request(app, clock):
    """A row committed while the parts run is in none of them: each imports the snapshot the
    request's transaction exported, as if one transaction read it all."""
    from scheduler.models import OptOut
    from scheduler.services import snapshot

    def counted():
        return db.session.scalar(select(func.count()).select_from(OptOut))

    def commits_one_then_counts():
        with db.engine.begin() as other:  # another transaction, committed at once
            other.execute(OptOut.__table__.insert().values(phone="+4915100000001", created_at=clock.now))
        return counted()

    with app.app_context():
        db.session.add(OptOut(phone="+4915100000000", created_at=clock.now))
        db.session.commit()
        app.config["FIGURES_CONNECTIONS"] = 2
        found = snapshot.read_all([commits_one_then_counts, counted, counted])
        afterwards = counted()
    postgresql = app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")
    # SQLite runs the parts in turn in the request's session, which reads what was committed.
    assert found == ([1, 1, 1] if postgresql else [2, 2, 2])
    assert afterwards == 2


def test_each_sms_records_its_segments_and_office_as_it_is_written(app, week):
    """What the figures sum (migration 0010): an SMS's segments as scheduler.segments counts them,
    and its office: its booking's, else its offer's, else the waitlist entry's it is about."""
    from scheduler.models import Booking, WaitlistEntry

    with app.app_context():
        messages = db.session.scalars(select(Message).where(Message.channel == "sms")).all()
        assert {message.kind for message in messages} >= {"confirmation", "waitlist", "offer", "reminder"}
        for message in messages:
            assert message.segments == segments(message.body)
            if message.booking_id is not None:
                expected = message.booking.office_id
            elif message.offer_id is not None:
                expected = message.offer.office_id
            else:
                expected = db.session.scalar(select(WaitlistEntry.office_id).where(WaitlistEntry.phone == message.to))
            assert message.office_id == expected is not None
        # Written with nothing but the booking's id: the office is looked up as it is inserted.
        booking = db.session.get(Booking, week["frank"])
        db.session.add(Message(channel="sms", to=booking.phone, kind="test", locale="de", body="€" * 81,
                               booking_id=booking.id, created_at=booking.created_at, due_at=booking.created_at))
        db.session.flush()
        written = db.session.scalar(select(Message).where(Message.kind == "test"))
        assert (written.segments, written.office_id) == (2, booking.office_id)
        db.session.rollback()
