"""The evaluation's figures, per office and ISO week, for any period of local dates.

A period's figures depend on the recorded data and the period alone, never on the clock:
an appointment (and a seat freed in it) counts in the week its slot starts, a request in the
week it was first made, an offer in the week it was made, an SMS in the week it was sent.
The database counts, grouped by office and week (``counts``, ``sms_usage``); the tallies
add up to any week, office or period. See docs/figures.md for the definitions.
"""
import gc
import threading
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from itertools import groupby

from ..models import Office
from . import counts, sms_usage, snapshot
from .tally import Tally, summary, total


@dataclass(frozen=True)
class Week:
    """An ISO week, cut to the period where the period starts or ends inside it."""

    label: str  # "2026-W48"
    first: date
    last: date


def weeks(first: date, last: date) -> list[Week]:
    found = []
    day = first
    while day <= last:
        year, number, weekday = day.isocalendar()
        end = min(last, day + timedelta(days=7 - weekday))
        found.append(Week(f"{year}-W{number:02d}", day, end))
        day = end + timedelta(days=1)
    return found


class Figures:
    """The tallies of a period, by office and week; ask for any sum of them."""

    def __init__(self, offices: list[Office], first: date, last: date, tallies: dict):
        self.offices, self.first, self.last = offices, first, last
        self.weeks = weeks(first, last)
        self._tallies = tallies  # (office id, week index) -> Tally
        self._by = defaultdict(list)  # (office id or None, week index or None) -> its tallies
        for (office_id, index), tally in tallies.items():
            tally.sort()  # sums of sorted runs sort faster for their medians
            for key in ((office_id, index), (office_id, None), (None, index), (None, None)):
                self._by[key].append(tally)

    def tally(self, office: Office | None = None, week: int | None = None) -> Tally:
        """One office (None: all of them), one week (None: the whole period)."""
        return total(self._by.get((None if office is None else office.id, week), ()))


def collect(offices: list[Office], first: date, last: date) -> Figures:
    """Count the figures of ``offices`` from local date ``first`` to ``last``, inclusive."""
    with without_cycle_collection():
        return _collect(offices, first, last)


def _collect(offices, first, last):
    parts = []
    by_zone = sorted(offices, key=lambda office: office.timezone)
    for _zone, group in groupby(by_zone, key=lambda office: office.timezone):
        group = list(group)
        bounds = [_utc(week.first, group[0]) for week in weeks(first, last)]
        bounds.append(_utc(last + timedelta(days=1), group[0]))
        scope = counts.Scope([office.id for office in group], bounds)
        # The longest first: they run side by side on PostgreSQL (``snapshot``).
        parts += [partial(_counted, count, scope) for count in (
            counts.refills, counts.appointments, counts.requests, counts.offers, sms_usage.count)]
    tallies = defaultdict(Tally)
    for counted in snapshot.read_all(parts, SETTINGS):
        for key, tally in counted.items():
            tallies[key].add(tally)
    return Figures(offices, first, last, dict(tallies))


# PostgreSQL: compiling these queries to machine code (JIT) takes longer than running them,
# and a year's sorts and groups fit in memory with a little more of it.
SETTINGS = ("SET LOCAL jit = off", "SET LOCAL work_mem = '64MB'")


def _counted(count, scope):
    tallies = defaultdict(Tally)
    count(scope, tallies)
    return tallies


_collecting = 0  # sections running now, in any thread
_collector_was_on = True
_collecting_lock = threading.Lock()


@contextmanager
def without_cycle_collection():
    """Python's cycle collector paused while a year's rows become tallies: they hold no
    cycles, but their hundred thousand objects would set it off again and again to walk the
    whole process (a tenth of a second for a year). Counted, so threads that count at once
    leave it on only when the last is done."""
    global _collecting, _collector_was_on
    with _collecting_lock:
        _collecting += 1
        if _collecting == 1:
            _collector_was_on = gc.isenabled()
            gc.disable()
    try:
        yield
    finally:
        with _collecting_lock:
            _collecting -= 1
            if _collecting == 0 and _collector_was_on:
                gc.enable()


def _utc(day, office):
    return datetime.combine(day, time(), tzinfo=office.tz).astimezone(UTC)


# The longest period asked for at once: the whole funding period of three years.
MAX_PERIOD_DAYS = 1100


def report(offices: list[Office], first: date, last: date, *, per_office: bool = False,
           price: float | None = None) -> dict:
    """The figures of the period as the staff API answers them: the offices together, each
    ISO week, and with ``per_office`` each office with its own weeks."""
    with without_cycle_collection():
        return _report(offices, first, last, per_office, price)


def _report(offices, first, last, per_office, price):
    found = collect(offices, first, last)

    def described(office=None):
        return {
            **summary(found.tally(office), price),
            "weeks": [
                {"week": week.label, "from": week.first.isoformat(), "to": week.last.isoformat(),
                 **summary(found.tally(office, index), price)}
                for index, week in enumerate(found.weeks)
            ],
        }

    result = {"from": first.isoformat(), "to": last.isoformat(), **described()}
    if per_office:
        result["offices"] = [{"office": office.slug, "name": office.name, **described(office)}
                             for office in offices]
    return result
