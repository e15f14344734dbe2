"""The counts behind the evaluation's figures, for one office and one stretch of days.

Tallies add up: an office's period is the sum of its weeks, all offices the sum of each.
Medians and percentiles cannot be added, so a tally keeps every wait itself (one number per
appointment) and works them out only when asked (``summary``).
"""
import math
import statistics
from collections import Counter
from dataclasses import dataclass, field, fields

from flask import current_app

DAY = 86400.0
HOUR = 3600.0
CURRENCY = "EUR"


@dataclass
class Tally:
    requests: int = 0
    bookings: int = 0  # appointments not cancelled
    attended: int = 0
    no_shows: int = 0
    # Appointments whose attendance was marked, and the no-shows among them, with and
    # without a reminder SMS sent before.
    marked_reminded: int = 0
    no_shows_reminded: int = 0
    marked_unreminded: int = 0
    no_shows_unreminded: int = 0
    waits: list[float] = field(default_factory=list)  # seconds from first request to start
    freed: int = 0
    refilled: int = 0
    refill_delays: list[float] = field(default_factory=list)  # seconds from freed to refilled
    by_language: Counter = field(default_factory=Counter)
    by_source: Counter = field(default_factory=Counter)
    offers: Counter = field(default_factory=Counter)  # by status
    responses: list[float] = field(default_factory=list)  # seconds from offer SMS to answer
    sms_messages: int = 0
    sms_segments: int = 0

    def add(self, other: "Tally") -> "Tally":
        for name in _NUMBERS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in _LISTS:
            getattr(self, name).extend(getattr(other, name))
        for name in _COUNTERS:
            getattr(self, name).update(getattr(other, name))
        return self

    def sort(self):
        """Sort the values (their order means nothing): a sum of sorted tallies then holds
        sorted runs, which Python's sort merges rather than sorts again."""
        for name in _LISTS:
            getattr(self, name).sort()


# The fields by how they add up, sorted out once.
_NUMBERS = [item.name for item in fields(Tally) if item.type is int]
_LISTS = [item.name for item in fields(Tally) if item.type == list[float]]
_COUNTERS = [item.name for item in fields(Tally) if item.type is Counter]
assert len(_NUMBERS) + len(_LISTS) + len(_COUNTERS) == len(fields(Tally))


def total(tallies) -> Tally:
    result = Tally()
    for tally in tallies:
        result.add(tally)
    return result


def median(values):
    return statistics.median(values) if values else None


def p90(values):
    """The 90th percentile by nearest rank: the smallest value that at least 90 % of the
    values do not exceed (of 10 waits, the 9th shortest)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[math.ceil(0.9 * len(ordered)) - 1]


def spread(values):
    """(median, 90th percentile), sorting once."""
    if not values:
        return None, None
    ordered = sorted(values)
    middle = len(ordered) // 2
    center = ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    return center, ordered[math.ceil(0.9 * len(ordered)) - 1]


def ratio(part, whole, digits=3):
    return round(part / whole, digits) if whole else None


def rounded(value, unit, digits=1):
    return None if value is None else round(value / unit, digits)


def price_per_segment() -> float:
    """What one SMS segment costs, in euros (``SMS_PRICE_PER_SEGMENT``)."""
    return float(current_app.config["SMS_PRICE_PER_SEGMENT"])


def summary(tally: Tally, price: float | None = None) -> dict:
    """The figures as the staff API shows them: plain numbers, days and hours rounded to a
    tenth, rates as fractions of one (0.25 is a quarter), None where nothing was counted."""
    price = price_per_segment() if price is None else price
    offers = tally.offers
    decided = offers["accepted"] + offers["declined"] + offers["expired"]
    marked = tally.attended + tally.no_shows
    wait_median, wait_p90 = spread(tally.waits)
    return {
        "requests": tally.requests,
        "bookings": tally.bookings,
        "attended": tally.attended,
        "no_shows": tally.no_shows,
        "no_show_rate": ratio(tally.no_shows, marked),
        "wait_days": {"median": rounded(wait_median, DAY), "p90": rounded(wait_p90, DAY)},
        "freed_seats": tally.freed,
        "refilled_seats": tally.refilled,
        "refill_rate": ratio(tally.refilled, tally.freed),
        "refill_hours": {"median": rounded(median(tally.refill_delays), HOUR)},
        "by_language": dict(sorted(tally.by_language.items())),
        "by_source": dict(sorted(tally.by_source.items())),
        "offers": {
            "made": sum(offers.values()),
            **{status: offers[status] for status in ("accepted", "declined", "expired", "withdrawn", "pending")},
            "acceptance_rate": ratio(offers["accepted"], decided),
            "response_hours": {"median": rounded(median(tally.responses), HOUR)},
        },
        "reminders": {
            "with": {"marked": tally.marked_reminded, "no_shows": tally.no_shows_reminded,
                     "no_show_rate": ratio(tally.no_shows_reminded, tally.marked_reminded)},
            "without": {"marked": tally.marked_unreminded, "no_shows": tally.no_shows_unreminded,
                        "no_show_rate": ratio(tally.no_shows_unreminded, tally.marked_unreminded)},
        },
        "sms": {
            "messages": tally.sms_messages,
            "segments": tally.sms_segments,
            "cost": round(tally.sms_segments * price, 2),
            "currency": CURRENCY,
            "price_per_segment": price,
        },
    }
