"""The hourly budget of SMS to numbers the service has never texted (SMS-pumping guard).

A public form that texts whatever number it is given is the classic target of SMS-pumping
fraud: someone books with thousands of premium numbers and the carrier shares the fees. A
number counts as new until the first SMS to it is claimed; at most
``SMS_NEW_NUMBERS_PER_HOUR`` new numbers (0: no limit) are texted per clock hour. SMS to
further new numbers are not dropped: they wait for the next hour, in their order, and keep
their validity (a message that is too late by then is skipped, as any other).

The numbers texted are kept as keyed hashes (``KnownNumber``), so "texted before" outlives
the retention purge of the numbers themselves. Changing ``SECRET_KEY`` makes every number
new again.
"""
import hashlib
import hmac
from collections import namedtuple
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite

from ..extensions import db
from ..models import Message, MessageStatus
from ..models.message import KnownNumber
from . import policy
from .locks import transaction_lock

WAITING = "waiting: the hourly budget of SMS to new numbers is used up"


def number_key(phone: str) -> str:
    """The number's keyed hash, as ``KnownNumber.key`` holds it."""
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, phone.encode(), hashlib.sha256).hexdigest()


def hour_of(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def next_hour(now: datetime) -> datetime:
    return hour_of(now) + timedelta(hours=1)


def resume_at(now: datetime) -> datetime:
    """When SMS put off now fall due: the next hour, or the end of quiet hours if it falls in
    them (in the service's time zone: a message does not know its office)."""
    return policy.sending_time(next_hour(now), _Place(ZoneInfo(current_app.config["DEFAULT_TIMEZONE"])))


_Place = namedtuple("_Place", "tz")  # what policy.sending_time reads of an office


def admit(phones: Iterable[str], now: datetime) -> set[str]:
    """Of the numbers a claim is about to text (in its order), those that must wait for the
    next hour (``resume_at``). Marks the new numbers admitted as known, in the claiming transaction.

    Two dispatchers claiming side by side take turns here (a transaction lock on
    PostgreSQL; SQLite's claims run one after another anyway), so they never exceed the
    budget between them."""
    keys = {phone: number_key(phone) for phone in dict.fromkeys(phones)}
    if not keys:
        return set()
    new = _unknown(keys)
    if not new:
        return set()
    budget = current_app.config["SMS_NEW_NUMBERS_PER_HOUR"]
    if budget:
        transaction_lock("sms-new-numbers")
        new = _unknown({phone: keys[phone] for phone in new})  # another claim may have texted it
        left = max(0, budget - used(now))
        new, waiting = new[:left], new[left:]
    else:
        waiting = []
    if new:
        db.session.execute(
            _insert(KnownNumber)
            .values([{"key": keys[phone], "first_texted_at": now} for phone in new])
            .on_conflict_do_nothing(index_elements=["key"])
        )
    return set(waiting)


def _insert(table):
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def _unknown(keys: dict[str, str]) -> list[str]:
    """The numbers of ``keys`` never texted, in their order."""
    known = set(db.session.scalars(select(KnownNumber.key).where(KnownNumber.key.in_(keys.values()))))
    return [phone for phone, key in keys.items() if key not in known]


def used(now: datetime) -> int:
    """New numbers texted in the clock hour of ``now``."""
    return db.session.scalar(
        select(func.count()).select_from(KnownNumber).where(KnownNumber.first_texted_at >= hour_of(now))
    )


def health(now: datetime) -> dict:
    """For ``/healthz``: this hour's new numbers, the budget, and the SMS waiting for it."""
    waiting = db.session.scalar(
        select(func.count()).select_from(Message)
        .where(Message.status == MessageStatus.QUEUED, Message.error == WAITING)
    )
    return {"new_numbers_this_hour": used(now),
            "budget": current_app.config["SMS_NEW_NUMBERS_PER_HOUR"], "waiting": waiting}
