from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select

from scheduler.extensions import db
from scheduler.models import Slot, WeeklyHours
from scheduler.services import booking, slots

from . import factories
from .conftest import BERLIN


def at(iso):
    return datetime.fromisoformat(iso).replace(tzinfo=BERLIN)


def starts(office, day):
    """Local start times of the office's slots on ``day``, as HH:MM."""
    begin = datetime.combine(day, time(), tzinfo=BERLIN)
    found = slots.slots_between(office, begin, begin + timedelta(days=1))
    return [s.starts_at.astimezone(BERLIN).strftime("%H:%M") for s in found]


def test_lanstrop_thursday_gives_six_half_hour_slots_of_two_seats(ctx):
    office = factories.office()
    created = slots.materialise(at("2026-11-23 09:00"), horizon_days=7)
    assert created == 6
    assert starts(office, date(2026, 11, 26)) == [
        "08:30",
        "09:00",
        "09:30",
        "10:00",
        "10:30",
        "11:00",
    ]
    first = slots.slots_between(office, at("2026-11-26 00:00"), at("2026-11-27 00:00"))[0]
    assert (first.seats, first.seats_taken) == (2, 0)
    assert first.starts_at == datetime(2026, 11, 26, 7, 30, tzinfo=UTC)
    assert first.ends_at - first.starts_at == timedelta(minutes=30)


def test_ascension_day_and_corpus_christi_are_closed(ctx):
    office = factories.office()
    slots.materialise(at("2027-05-01 09:00"), horizon_days=30)
    assert starts(office, date(2027, 5, 6)) == []  # Ascension Day, a Thursday
    assert starts(office, date(2027, 5, 27)) == []  # Corpus Christi, a holiday in NRW
    assert len(starts(office, date(2027, 5, 13))) == 6
    assert len(starts(office, date(2027, 5, 20))) == 6


def test_an_office_may_open_on_public_holidays(ctx):
    office = factories.office(closed_on_public_holidays=False)
    slots.materialise(at("2027-05-01 09:00"), horizon_days=10)
    assert len(starts(office, date(2027, 5, 6))) == 6


def test_closures_skip_single_days_and_ranges(ctx):
    office = factories.office()
    factories.closure(office, date(2026, 12, 3))
    factories.closure(office, date(2026, 12, 14), date(2027, 1, 8), reason="Winter break")
    slots.materialise(at("2026-11-23 09:00"), horizon_days=60)
    assert starts(office, date(2026, 12, 3)) == []
    assert len(starts(office, date(2026, 12, 10))) == 6
    for thursday in (date(2026, 12, 17), date(2026, 12, 24), date(2026, 12, 31), date(2027, 1, 7)):
        assert starts(office, thursday) == []
    assert len(starts(office, date(2027, 1, 14))) == 6


def test_local_times_hold_across_the_march_daylight_saving_change(ctx):
    office = factories.office()
    slots.materialise(at("2027-03-20 09:00"), horizon_days=14)
    # Clocks go forward on Sunday 28 March 2027: 08:30 is 07:30 UTC before, 06:30 UTC after.
    before = slots.slots_between(office, at("2027-03-25 00:00"), at("2027-03-26 00:00"))
    after = slots.slots_between(office, at("2027-04-01 00:00"), at("2027-04-02 00:00"))
    assert before[0].starts_at == datetime(2027, 3, 25, 7, 30, tzinfo=UTC)
    assert after[0].starts_at == datetime(2027, 4, 1, 6, 30, tzinfo=UTC)
    assert starts(office, date(2027, 3, 25)) == starts(office, date(2027, 4, 1))


def test_local_times_hold_across_the_october_daylight_saving_change(ctx):
    office = factories.office(
        hours=((6, "01:30", "03:30", 30, 1), (factories.THURSDAY, "08:30", "11:30", 30, 2))
    )
    slots.materialise(at("2026-10-18 00:00"), horizon_days=14)
    assert slots.slots_between(office, at("2026-10-22 00:00"), at("2026-10-23 00:00"))[
        0
    ].starts_at == (datetime(2026, 10, 22, 6, 30, tzinfo=UTC))
    assert slots.slots_between(office, at("2026-10-29 00:00"), at("2026-10-30 00:00"))[
        0
    ].starts_at == (datetime(2026, 10, 29, 7, 30, tzinfo=UTC))
    # On Sunday 25 October 2026 the hour 02:00-03:00 happens twice; every slot still lasts
    # 30 minutes and none overlaps another.
    night = slots.slots_between(office, at("2026-10-25 00:00"), at("2026-10-25 06:00"))
    assert all(s.ends_at - s.starts_at == timedelta(minutes=30) for s in night)
    assert all(a.ends_at <= b.starts_at for a, b in zip(night, night[1:], strict=False))


def test_rules_apply_only_within_their_validity(ctx):
    office = factories.office(hours=())
    office.hours.append(
        WeeklyHours(
            weekday=factories.THURSDAY,
            start_time=time(8, 30),
            end_time=time(9, 30),
            slot_minutes=30,
            seats=1,
            valid_from=date(2026, 12, 1),
            valid_until=date(2026, 12, 20),
        )
    )
    slots.materialise(at("2026-11-23 09:00"), horizon_days=42)
    days = {
        s.starts_at.astimezone(BERLIN).date()
        for s in slots.slots_between(office, at("2026-11-01 00:00"), at("2027-02-01 00:00"))
    }
    assert days == {date(2026, 12, 3), date(2026, 12, 10), date(2026, 12, 17)}


def test_rerunning_changes_nothing_that_exists(ctx):
    office = factories.office()
    now = at("2026-11-23 09:00")
    assert slots.materialise(now, horizon_days=14) == 12
    first = slots.slots_between(office, at("2026-11-26 00:00"), at("2026-11-27 00:00"))[0]
    booking.book(first.id, name="Amina", phone=factories.mobile(), locale="de", now=now)
    first.seats = 3  # staff added a counsellor for this one slot
    db.session.flush()
    assert slots.materialise(now, horizon_days=14) == 0
    assert slots.materialise(now + timedelta(days=7), horizon_days=14) == 6  # only the new week
    db.session.refresh(first)
    assert (first.seats, first.seats_taken) == (3, 1)
    assert db.session.scalar(select(func.count()).select_from(Slot)) == 18


def test_no_slot_is_made_in_the_past(ctx):
    office = factories.office()
    slots.materialise(at("2026-11-26 10:15"), horizon_days=0)
    assert starts(office, date(2026, 11, 26)) == ["10:30", "11:00"]
