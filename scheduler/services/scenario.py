"""The what-if model itself: residents, seats and the events between them, one run of one
scenario. ``simulation`` builds the scenarios and pools the runs; see docs/figures.md.

Times are seconds since the epoch (floats), for speed; the service's rules for offers
(quiet hours, holds) come from ``services.policy`` and its configuration.
"""
import heapq
import math
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from types import SimpleNamespace

from flask import current_app

from . import policy
from .demand import Wish
from .tally import DAY

WEEK = 7 * DAY
BOOKING_LEAD = 3600.0  # nobody books a time that starts within the hour


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
class Seat:
    start: float
    seats: int
    weekday: int
    first_minute: int
    last_minute: int
    taken: int = 0


@dataclass
class State:
    person: Person
    waiting: bool = False
    pending: bool = False
    offered: set = field(default_factory=set)


def seats_of(planned, tz):
    found = []
    for row in planned:
        local = row["starts_at"].astimezone(tz)
        minutes = (row["ends_at"] - row["starts_at"]).total_seconds() / 60
        first = local.hour * 60 + local.minute
        found.append(Seat(row["starts_at"].timestamp(), row["seats"], local.weekday(), first,
                           min(24 * 60, first + int(minutes))))
    return sorted(found, key=lambda seat: seat.start)


def people(demand, situation, start, weeks, rng, tz):
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


class Rules:
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


class Run:
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
            self._at(person.arrives, self._arrive, State(person))
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
            if seat.taken < seat.seats and fits(person.wish, seat):
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
                    and fits(state.person.wish, seat):
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


def fits(wish, seat):
    return bool(wish.weekdays & (1 << seat.weekday)) \
        and (wish.earliest is None or wish.earliest <= seat.first_minute) \
        and (wish.latest is None or wish.latest >= seat.last_minute)
