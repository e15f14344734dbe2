"""What-if: an office's recorded demand, played through its hours and through proposed hours.

Residents arrive as the records say they do (requests per week, their days and times, their
preferences); each takes the earliest free time that fits, or waits in the queue; cancelled
seats, declined and expired offers and newly opened days go to the queue first, as the
service does it; people cancel, miss appointments and answer offers at the recorded rates.
Both scenarios meet the same residents with the same draws (common random numbers, seeded):
only the hours differ, so more seats can only move someone earlier. See docs/figures.md.
"""
import heapq
import math
import random
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import Office, Slot, WeeklyHours
from . import demand as records, policy, slots as planning
from .demand import Demand, Situation, Wish
from .tally import DAY, median, p90, rounded

WEEK = 7 * DAY
BOOKING_LEAD = 3600.0  # nobody books a time that starts within the hour
RUNS = 20  # replications pooled into one prediction
HISTORY_WEEKS = 12  # the recorded weeks the demand is read from


@dataclass
class Person:
    """A simulated resident: who they are does not depend on the scenario."""

    arrives: float
    requested_at: float
    wish: Wish
    seed: int
    cancels: bool
    cancel_fraction: float
    no_show: bool
    gives_up: float | None  # when they leave the waitlist, should they still wait then
    holds: float | None = None  # the slot start of a seat held when the run begins


@dataclass
class _Seat:
    start: float
    seats: int
    weekday: int
    first_minute: int
    last_minute: int
    taken: int = 0


@dataclass
class _State:
    person: Person
    waiting: bool = False
    pending: bool = False
    offered: set = field(default_factory=set)


def rules_of(office: Office) -> list[dict]:
    """The office's weekly hours, in the shape the simulator and ``GET .../hours`` use."""
    return [{"weekday": rule.weekday, "start": rule.start_time, "end": rule.end_time,
             "slot_minutes": rule.slot_minutes, "seats": rule.seats, "valid_from": rule.valid_from,
             "valid_until": rule.valid_until, "languages": rule.language_list} for rule in office.hours]


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
    t0, t_end = start.timestamp(), start.timestamp() + weeks * WEEK
    pooled = {name: {"waits": [], "queue": 0, "seats": 0, "booked": 0, "attended": 0} for name in scenarios}
    shapes = {name: _seats(planned, office.tz) for name, planned in scenarios.items()}
    rules = _Policy(office)
    for run in range(runs):
        people = _people(demand, situation, start, weeks, random.Random(f"{seed}:{run}"), office.tz)
        for name, shape in shapes.items():
            seats = [_Seat(seat.start, seat.seats, seat.weekday, seat.first_minute, seat.last_minute)
                     for seat in shape]
            outcome = _Run(rules, demand, seats, people, t0, t_end).play()
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


def _seats(planned, tz):
    found = []
    for row in planned:
        local = row["starts_at"].astimezone(tz)
        minutes = (row["ends_at"] - row["starts_at"]).total_seconds() / 60
        first = local.hour * 60 + local.minute
        found.append(_Seat(row["starts_at"].timestamp(), row["seats"], local.weekday(), first,
                           min(24 * 60, first + int(minutes))))
    return sorted(found, key=lambda seat: seat.start)


def _people(demand, situation, start, weeks, rng, tz):
    """Everyone the run meets, in the order they turn up: those holding a seat and those
    waiting when it begins, then the newcomers, week by week."""
    def person(arrives, requested_at, wish, holds=None):
        gives_up = (requested_at + rng.choice(demand.patience_days) * DAY
                    if demand.patience_days and rng.random() < demand.give_up_rate else None)
        return Person(arrives, requested_at, wish, rng.getrandbits(60), rng.random() < demand.cancel_rate,
                      rng.choice(demand.cancel_fractions) if demand.cancel_fractions else rng.random(),
                      rng.random() < demand.no_show_rate, gives_up, holds)

    t0 = start.timestamp()
    people = [person(t0, requested_at.timestamp(), Wish(0, 0), holds=starts_at.timestamp())
              for starts_at, requested_at in situation.booked]
    people += [person(t0, requested_at.timestamp(), wish) for requested_at, wish in situation.waiting]
    first_day = start.astimezone(tz).date()
    arrivals = []
    for week in range(weeks):
        for _ in range(poisson(rng, demand.per_week)):
            wish = rng.choice(demand.wishes)
            day = first_day + timedelta(days=week * 7 + (wish.weekday - first_day.weekday()) % 7)
            moment = datetime.combine(day, time(wish.minute // 60, wish.minute % 60), tzinfo=tz).timestamp()
            if moment < t0:
                moment += WEEK
            if moment < t0 + weeks * WEEK:
                arrivals.append(person(moment, moment, wish))
    return people + sorted(arrivals, key=lambda someone: someone.arrives)


def poisson(rng, mean):
    """Knuth's method: fine for the few dozen requests a week of an office."""
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def _draw(person, seat, salt):
    """A draw in [0, 1) fixed by the person, the slot and its purpose (splitmix64), so that an
    offer of the same seat to the same person goes the same way in both scenarios."""
    value = (person.seed + int(seat.start) * 0x9E3779B97F4A7C15 + salt * 0xBF58476D1CE4E5B9) & MASK
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & MASK
    return ((value ^ (value >> 31)) >> 11) / float(1 << 53)


MASK = (1 << 64) - 1


class _Policy:
    """The service's rules for offers (``services.policy``: quiet hours, how long a seat is
    held), with their configuration read once per run instead of once per offer."""

    def __init__(self, office):
        self.tz = office.tz
        self.quiet = policy.quiet_hours()
        self.holds = [(hours * 3600.0, minutes * 60.0) for hours, minutes in current_app.config["OFFER_HOLD_POLICY"]]

    def sending_time(self, moment):
        start, end = self.quiet
        if start == end:
            return moment
        local = datetime.fromtimestamp(moment, self.tz)
        now = local.time().replace(tzinfo=None)
        if not (start <= now or now < end if start > end else start <= now < end):
            return moment
        return policy.sending_time(local, SimpleNamespace(tz=self.tz)).timestamp()

    def hold(self, start, sent):
        for ahead, held in self.holds:
            if start - sent >= ahead:
                return held
        return None


class _Run:
    """One run of one scenario: events in time order until the last simulated week ends."""

    def __init__(self, rules, demand, seats, people, t0, t_end):
        self.policy, self.demand, self.seats, self.t0, self.t_end = rules, demand, seats, t0, t_end
        self.starts = [seat.start for seat in seats]
        self.by_start = {seat.start: seat for seat in seats}
        self.horizon = current_app.config["SLOT_HORIZON_DAYS"] * DAY
        self.visible = 0  # seats[:visible] are bookable (within the horizon)
        self.events, self.counter = [], 0
        self.queue, self.bookings = [], []
        self.responses = sorted(demand.response_hours) or [2.0]
        for person in people:
            self._at(person.arrives, self._arrive, _State(person))
        for day in range(int((t_end - t0) // DAY) + 1):
            self._at(t0 + day * DAY, self._open_days)

    def _at(self, moment, action, *args):
        self.counter += 1
        heapq.heappush(self.events, (moment, self.counter, action, args))

    def play(self):
        self._open_days(self.t0)
        while self.events and self.events[0][0] <= self.t_end:
            moment, _count, action, args = heapq.heappop(self.events)
            action(moment, *args)
        kept = [(state, seat, start) for state, seat, start, cancelled in self.bookings
                if not cancelled[0] and self.t0 <= start < self.t_end]
        in_period = [seat for seat in self.seats if self.t0 <= seat.start < self.t_end]
        return {
            "waits": [start - state.person.requested_at for state, _seat, start in kept],
            "queue": sum(1 for state in self.queue if state.waiting),
            "seats": sum(seat.seats for seat in in_period),
            "booked": sum(1 for _state, seat, _start in kept if seat is not None),
            "attended": sum(1 for state, seat, _start in kept if seat is not None and not state.person.no_show),
        }

    def _open_days(self, moment):
        """New days come into the booking horizon: their seats go to the queue first."""
        until = bisect_right(self.starts, moment + self.horizon)
        opened, self.visible = self.seats[self.visible:until], max(self.visible, until)
        for seat in opened:
            for _ in range(seat.seats - seat.taken):
                if not self._offer(seat, moment):
                    break

    def _arrive(self, moment, state):
        person = state.person
        if person.holds is not None:  # held a seat when the run began
            seat = self.by_start.get(person.holds)
            if seat is not None and seat.taken < seat.seats:
                seat.taken += 1
            else:
                seat = None  # a time the proposed hours do not have: kept, outside them
            self._book(state, seat, person.holds, moment)
            return
        for seat in self.seats[bisect_right(self.starts, moment + BOOKING_LEAD):self.visible]:
            if seat.taken < seat.seats and _fits(person.wish, seat):
                seat.taken += 1
                self._book(state, seat, seat.start, moment)
                return
        state.waiting = True
        self.queue.append(state)
        if person.gives_up is not None:
            self._at(max(moment, person.gives_up), self._give_up, state)

    def _give_up(self, moment, state):
        """Leaves the waitlist (an offer on its way is still answered)."""
        if not state.pending:
            state.waiting = False

    def _book(self, state, seat, start, moment):
        cancelled = [False]
        self.bookings.append((state, seat, start, cancelled))
        person = state.person
        if person.cancels:
            when = moment + person.cancel_fraction * (start - moment)
            if when < start:
                self._at(when, self._cancel, seat, cancelled)

    def _cancel(self, moment, seat, cancelled):
        cancelled[0] = True
        if seat is not None:
            seat.taken -= 1
            self._offer(seat, moment)

    def _offer(self, seat, moment):
        """Offer a free seat to the first in the queue it fits; False if nobody can use it."""
        sent = self.policy.sending_time(moment)
        held = self.policy.hold(seat.start, sent)
        if held is None:
            return False
        for state in self.queue:
            if state.waiting and not state.pending and seat.start not in state.offered \
                    and _fits(state.person.wish, seat):
                break
        else:
            return False
        seat.taken += 1
        state.pending = True
        state.offered.add(seat.start)
        delay = self.responses[int(_draw(state.person, seat, 2) * len(self.responses))] * 3600
        if delay > held:
            self._at(sent + held, self._answer, state, seat, False)
        else:
            self._at(sent + delay, self._answer, state, seat, _draw(state.person, seat, 1) < self.demand.acceptance)
        return True

    def _answer(self, moment, state, seat, accepted):
        state.pending = False
        if accepted and state.waiting:
            state.waiting = False
            self._book(state, seat, seat.start, moment)
            return
        if state.person.gives_up is not None and moment >= state.person.gives_up:
            state.waiting = False  # meant to leave, and did once the offer was over
        seat.taken -= 1
        self._offer(seat, moment)


def _fits(wish, seat):
    return bool(wish.weekdays & (1 << seat.weekday)) \
        and (wish.earliest is None or wish.earliest <= seat.first_minute) \
        and (wish.latest is None or wish.latest >= seat.last_minute)
