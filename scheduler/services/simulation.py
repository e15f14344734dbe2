"""What-if: an office's recorded demand, played through its hours and through proposed hours.

Residents arrive as the records say they do (requests per week, their days and times, their
preferences); each takes the earliest free time that fits, or waits in the queue; cancelled
seats, declined and expired offers and newly opened days go to the queue first, as the
service does it; people cancel, miss appointments and answer offers at the recorded rates.
Both scenarios meet the same residents with the same draws (common random numbers, seeded):
only the hours differ, so more seats can only move someone earlier. See docs/figures.md.
"""
import random
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import Office, Slot, WeeklyHours
from . import demand as records
from . import hours as weekly_hours
from . import scenario
from . import slots as planning
from .demand import Demand, Situation
from .tally import DAY, median, p90, rounded

RUNS = 20  # replications pooled into one prediction
HISTORY_WEEKS = 12  # the recorded weeks the demand is read from


def rules_of(office: Office) -> list[dict]:
    """The office's weekly hours, in the shape the simulator and ``GET .../hours`` use."""
    return [_rule(rule) for rule in office.hours]


def proposed_hours(items) -> list[dict]:
    """Proposed hours as staff write them (the shape of ``GET .../hours``), refused for the
    same reasons and under the same field names as on the hours page (``InvalidInput``)."""
    return [_rule(rule) for rule in weekly_hours.clean_rules(items)]


def _rule(rule: WeeklyHours) -> dict:
    return {"weekday": rule.weekday, "start": rule.start_time, "end": rule.end_time,
            "slot_minutes": rule.slot_minutes, "seats": rule.seats, "valid_from": rule.valid_from,
            "valid_until": rule.valid_until, "languages": rule.language_list}


def one_more_hour(rules: list[dict], weekday: int) -> list[dict]:
    """The hours with one more hour on ``weekday``: the day's last hour runs on for 60 minutes
    (same slots and seats); on a day without hours, 09:00-10:00 with one seat."""
    rules = [dict(rule) for rule in rules]
    that_day = [rule for rule in rules if rule["weekday"] == weekday]
    if that_day:
        last = max(that_day, key=lambda rule: rule["end"])
        end = datetime.combine(date.min, last["end"]) + timedelta(hours=1)
        if end.date() == date.min:
            last["end"] = end.time()
            return rules
    minutes = rules[0]["slot_minutes"] if rules else 30
    rules.append({"weekday": weekday, "start": time(9), "end": time(10), "slot_minutes": minutes,
                  "seats": 1, "valid_from": None, "valid_until": None, "languages": []})
    return rules


def compare(office: Office, proposed: list[dict], *, weeks: int, now: datetime, seed: int = 1,
            runs: int = RUNS) -> dict:
    """Predict ``weeks`` from ``now`` under today's hours and under ``proposed`` hours, from
    the demand of the last twelve weeks and the seats held and people waiting now."""
    demand = records.recorded(office, now - timedelta(weeks=HISTORY_WEEKS), now)
    situation = records.situation(office, now)
    end = now + timedelta(weeks=weeks)
    current, new = (_planned(office, rules, now, end) for rules in (rules_of(office), proposed))
    results = simulate(office, demand, situation, {"current": current, "proposed": new},
                       start=now, weeks=weeks, seed=seed, runs=runs)
    return {"weeks": weeks, "seed": seed, "runs": runs, "demand": demand.as_dict(), **results}


def backtest(office: Office, first: date, weeks: int, *, seed: int = 1, runs: int = RUNS,
             history_weeks: int = HISTORY_WEEKS) -> dict:
    """Simulate a recorded period from the weeks before it, in the slots it really had, and
    set the prediction beside what happened (``figures``)."""
    from . import figures

    start = datetime.combine(first, time(), tzinfo=office.tz).astimezone(UTC)
    end = start + timedelta(weeks=weeks)
    demand = records.recorded(office, start - timedelta(weeks=history_weeks), start)
    horizon = timedelta(days=current_app.config["SLOT_HORIZON_DAYS"])
    recorded_slots = [
        {"starts_at": starts_at, "ends_at": ends_at, "seats": seats}
        for starts_at, ends_at, seats in db.session.execute(
            select(Slot.starts_at, Slot.ends_at, Slot.seats)
            .where(Slot.office_id == office.id, Slot.starts_at > start, Slot.starts_at < end + horizon,
                   Slot.removed_at.is_(None)).order_by(Slot.starts_at))
    ]
    predicted = simulate(office, demand, records.situation(office, start), {"predicted": recorded_slots},
                         start=start, weeks=weeks, seed=seed, runs=runs)["predicted"]
    actual = figures.report([office], first, first + timedelta(weeks=weeks, days=-1))
    later = records.situation(office, end)
    return {
        "office": office.slug, "from": first.isoformat(), "weeks": weeks, "history_weeks": history_weeks,
        "demand": demand.as_dict(), "predicted": predicted,
        "actual": {"wait_days": actual["wait_days"], "queue": len(later.waiting),
                   "bookings_per_week": round(actual["bookings"] / weeks, 1)},
    }


def _planned(office, rules, start, end):
    """The slots ``rules`` would give from ``start`` to ``end`` plus the booking horizon."""
    stand_in = SimpleNamespace(
        id=office.id, tz=office.tz, closures=office.closures,
        closed_on_public_holidays=office.closed_on_public_holidays,
        holiday_subdivision=office.holiday_subdivision,
        hours=[WeeklyHours(weekday=rule["weekday"], start_time=rule["start"], end_time=rule["end"],
                           slot_minutes=rule["slot_minutes"], seats=rule["seats"],
                           valid_from=rule.get("valid_from"), valid_until=rule.get("valid_until"))
               for rule in rules],
    )
    first = start.astimezone(office.tz).date()
    days = (end - start).days + current_app.config["SLOT_HORIZON_DAYS"] + 2
    return [row for row in planning.planned_slots(stand_in, [first + timedelta(days=n) for n in range(days)])
            if row["starts_at"] > start]


def simulate(office: Office, demand: Demand, situation: Situation, scenarios: dict[str, list[dict]], *,
             start: datetime, weeks: int, seed: int, runs: int) -> dict:
    """Each scenario (a list of slots: ``starts_at``, ``seats``) run ``runs`` times with the
    same people; waits pooled, queue and shares averaged over the runs."""
    t0, t_end = start.timestamp(), start.timestamp() + weeks * scenario.WEEK
    pooled = {name: {"waits": [], "queue": 0, "seats": 0, "booked": 0, "attended": 0} for name in scenarios}
    shapes = {name: scenario.seats_of(planned, office.tz) for name, planned in scenarios.items()}
    rules = scenario.Rules(office)
    for run in range(runs):
        people = scenario.people(demand, situation, start, weeks, random.Random(f"{seed}:{run}"), office.tz)
        for name, shape in shapes.items():
            seats = [scenario.Seat(seat.start, seat.seats, seat.weekday, seat.first_minute, seat.last_minute)
                     for seat in shape]
            outcome = scenario.Run(rules, demand, seats, people, t0, t_end).play()
            for key, value in outcome.items():
                pooled[name][key] += value
    return {name: _prediction(totals, weeks, runs) for name, totals in pooled.items()}


def _prediction(totals, weeks, runs):
    seats = totals["seats"]
    return {
        "wait_days": {"median": rounded(median(totals["waits"]), DAY), "p90": rounded(p90(totals["waits"]), DAY)},
        "queue": round(totals["queue"] / runs, 1),
        "seats_per_week": round(seats / runs / weeks, 1),
        "bookings_per_week": round(totals["booked"] / runs / weeks, 1),
        "utilisation": round(totals["booked"] / seats, 3) if seats else None,
        "attendance": round(totals["attended"] / seats, 3) if seats else None,
    }
