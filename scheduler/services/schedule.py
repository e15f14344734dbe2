"""Changing an office's weekly hours and closures, and what the change does to its slots.

Previewing and saving share one comparison: the slots the new rules give over the
materialisation horizon (``slots.planned_slots``, exactly as ``slots.materialise`` makes
them) against the slots that exist. A time the new rules no longer give is REMOVED (the row
stays, ``removed_at`` set, for the bookings that were in it); a removed time they give again
comes back (ADDED, like a new one); a time with fewer seats is SHRUNK, with more GROWN, with
another end CHANGED. Times the current rules give but ``materialise`` has not made yet are
left to it: they are not part of the change.

Who loses a seat: everyone in a removed time; in a shrunk time, as many holders as there
are seats too many, pending offers first (nobody has been told yet that the seat is theirs),
then the bookings that took their seat LATEST (``seated_at``, then id): whoever booked first
keeps the seat. They are cancelled (``CancelledBy.SCHEDULE``), texted in their language, put
back on the waitlist with the time they first asked, and offered the nearest free time at
once. A walk-in booked without a phone is cancelled too; staff see it in the preview and call.

Races: saving takes a lock per office (two changes, or a change and ``materialise``, run one
after the other), then locks the office's future slot rows (``FOR UPDATE``; SQLite
serialises writers with ``BEGIN IMMEDIATE``) and only then reads bookings and offers. A
booking that got its seat before is seen and moved; one after meets a removed slot or the
smaller seat count in ``seats.take`` and is refused.
"""
import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from flask import current_app
from sqlalchemy import func, select

from ..extensions import db
from ..models import (
    Booking,
    BookingStatus,
    CancelledBy,
    Closure,
    Offer,
    OfferStatus,
    Office,
    Slot,
    StaffAccount,
)
from . import audit, notify, offers, seats, states, waitlist
from .errors import Forbidden, NotFound
from .hours import clean_closure, clean_rules, closure_json, rule_json
from .locks import transaction_lock
from .slots import planned_slots


@dataclass
class SlotChange:
    kind: str  # "added", "removed", "shrunk", "grown" or "changed"
    starts_at: datetime
    ends_at: datetime
    seats_before: int  # 0 for a time that is new or comes back
    seats_after: int  # 0 for a removed time
    slot: Slot | None = None  # None: a new row


@dataclass
class Change:
    """What a change of hours or closures does, or did once ``applied``."""

    proposal: dict
    slots: list[SlotChange] = field(default_factory=list)
    moved: list[Booking] = field(default_factory=list)  # lose their seat, latest first per slot
    withdrawn: list[Offer] = field(default_factory=list)
    # Phone verification: bookings not yet confirmed lose their hold before anyone with an
    # appointment loses it (they are told nothing: their link says the time is free again).
    released: list[Booking] = field(default_factory=list)
    applied: bool = False
    closure: Closure | None = None

    def count(self, kind: str) -> int:
        return sum(1 for change in self.slots if change.kind == kind)

    @property
    def unreachable(self) -> list[Booking]:
        """Moved bookings without a phone (walk-ins): staff must call them."""
        return [booking for booking in self.moved if not booking.phone]

    @property
    def fingerprint(self) -> str:
        """Names this proposal and its effect, so that saving can tell whether what it would
        do now is still what the preview showed."""
        parts = [json.dumps(self.proposal, sort_keys=True, default=str)]
        parts += [f"{c.kind} {c.starts_at.isoformat()} {c.ends_at.isoformat()} {c.seats_before} {c.seats_after}"
                  for c in self.slots]
        parts += [f"booking {b.id}" for b in self.moved] + [f"offer {o.id}" for o in self.withdrawn]
        parts += [f"hold {b.id}" for b in self.released]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]

    def summary(self) -> dict:
        """Counts and record ids only: what the API answers and the audit log keeps."""
        return {
            "added": self.count("added"), "removed": self.count("removed"),
            "shrunk": self.count("shrunk"), "grown": self.count("grown"),
            "changed": self.count("changed"), "affected": [booking.id for booking in self.moved],
            "offers_withdrawn": [offer.id for offer in self.withdrawn],
            "unreachable": [booking.id for booking in self.unreachable],
        }


class _Plan:
    """The office as it would be with other rules, for ``slots.planned_slots``."""

    def __init__(self, office, hours=None, closures=None):
        self._office = office
        self.hours = list(office.hours) if hours is None else hours
        self.closures = list(office.closures) if closures is None else closures

    def __getattr__(self, name):
        return getattr(self._office, name)


def replace_hours(office: Office, items, *, now: datetime, actor: StaffAccount | None,
                  dry_run: bool = False, expected: str | None = None) -> Change:
    """Replace the office's weekly hours with ``items`` (dicts as ``hours.rule_json`` gives).

    ``dry_run``: only say what it would do. ``expected``: the fingerprint of the preview
    staff saw; if the change would now do something else, nothing is saved and the fresh
    preview comes back (``applied`` False).
    """
    _check_access(actor, office)
    rules = clean_rules(items)
    _begin(office, lock=not dry_run)
    before = [rule_json(rule) for rule in office.hours]
    after = sorted((rule_json(rule) for rule in rules), key=lambda r: (r["weekday"], r["start"]))
    change = _compare(office, _Plan(office, hours=rules), now, {"hours": after}, lock=not dry_run)
    if dry_run or not _still(change, expected):
        return change
    for rule in office.hours:
        db.session.delete(rule)
    for rule in rules:
        rule.office_id = office.id
        db.session.add(rule)
    db.session.flush()
    db.session.expire(office, ["hours"])
    _apply(change, office, now, actor, {"removed": "weekly hours changed", "shrunk": "fewer seats"})
    if before != after or change.slots:
        audit.record(actor, "hours.replace", now, office=office, before={"hours": before},
                     after={"hours": after, **change.summary()})
    return change


def add_closure(office: Office, start_date, end_date, reason, *, now: datetime,
                actor: StaffAccount | None, dry_run: bool = False, expected: str | None = None) -> Change:
    """Close the office from ``start_date`` to ``end_date`` (a missing end: one day)."""
    _check_access(actor, office)
    closure = clean_closure(start_date, end_date, reason, now.astimezone(office.tz).date())
    _begin(office, lock=not dry_run)
    proposal = {"closure": {key: value for key, value in closure_json(closure).items() if key != "id"}}
    change = _compare(office, _Plan(office, closures=[*office.closures, closure]), now, proposal,
                      lock=not dry_run)
    if dry_run or not _still(change, expected):
        return change
    closure.office_id = office.id
    db.session.add(closure)
    db.session.flush()
    db.session.expire(office, ["closures"])
    change.closure = closure
    cause = f"office closed: {closure.reason}" if closure.reason else "office closed"
    _apply(change, office, now, actor, {"removed": cause[:200], "shrunk": cause[:200]})
    audit.record(actor, "closure.create", now, office=office, record=closure,
                 after={"start_date": closure.start_date.isoformat(),
                        "end_date": closure.end_date.isoformat(), **change.summary()})
    return change


def delete_closure(closure: Closure, *, now: datetime, actor: StaffAccount | None,
                   dry_run: bool = False, expected: str | None = None) -> Change:
    """Open the office again on the closure's days: their times come back (same comparison)."""
    office = closure.office
    _check_access(actor, office)
    _begin(office, lock=not dry_run)
    proposal = {"reopen": closure.id}
    remaining = [other for other in office.closures if other.id != closure.id]
    change = _compare(office, _Plan(office, closures=remaining), now, proposal, lock=not dry_run)
    if dry_run or not _still(change, expected):
        return change
    audit.record(actor, "closure.delete", now, office=office, record=closure,
                 before={"start_date": closure.start_date.isoformat(),
                         "end_date": closure.end_date.isoformat()},
                 after=change.summary())
    db.session.delete(closure)
    db.session.flush()
    db.session.expire(office, ["closures"])
    _apply(change, office, now, actor, {"removed": "office closed", "shrunk": "fewer seats"})
    return change


def closure_for(actor: StaffAccount, closure_id: int) -> Closure:
    closure = db.session.get(Closure, closure_id) if 0 < closure_id < 2**31 else None
    if closure is None:
        raise NotFound()
    _check_access(actor, closure.office)
    return closure


def _check_access(actor, office):
    if actor is not None and not actor.may_see(office):
        raise Forbidden()


def _begin(office, lock):
    """Saving runs alone per office (see ``slots.materialise``); both read fresh rules."""
    if lock:
        transaction_lock("schedule", office.id)
    db.session.expire(office, ["hours", "closures"])


def _still(change, expected):
    return expected is None or expected == change.fingerprint


def _compare(office, plan, now, proposal, lock) -> Change:
    today = now.astimezone(office.tz).date()
    days = [today + timedelta(days=n) for n in range(current_app.config["SLOT_HORIZON_DAYS"] + 1)]
    end = datetime.combine(days[-1] + timedelta(days=1), time(), tzinfo=office.tz)
    query = (select(Slot).where(Slot.office_id == office.id, Slot.starts_at > now, Slot.starts_at < end)
             .order_by(Slot.id).execution_options(populate_existing=True))
    existing = {slot.starts_at: slot for slot in db.session.scalars(
        query.with_for_update() if lock else query)}
    current = {row["starts_at"] for row in planned_slots(office, days)}
    target = {}
    for row in planned_slots(plan, days):
        if row["starts_at"] > now:
            target.setdefault(row["starts_at"], row)  # overlapping rules: the first wins, as in materialise
    change = Change(proposal=proposal)
    for starts_at, slot in existing.items():
        row = target.get(starts_at)
        if row is None:
            if slot.removed_at is None:
                change.slots.append(SlotChange("removed", starts_at, slot.ends_at, slot.seats, 0, slot))
        elif slot.removed_at is not None:
            change.slots.append(SlotChange("added", starts_at, row["ends_at"], 0, row["seats"], slot))
        elif row["seats"] != slot.seats or row["ends_at"] != slot.ends_at:
            kind = ("shrunk" if row["seats"] < slot.seats else "grown" if row["seats"] > slot.seats
                    else "changed")
            change.slots.append(SlotChange(kind, starts_at, row["ends_at"], slot.seats, row["seats"], slot))
    for starts_at, row in target.items():
        if starts_at not in existing and starts_at not in current:
            change.slots.append(SlotChange("added", starts_at, row["ends_at"], 0, row["seats"]))
    change.slots.sort(key=lambda c: c.starts_at)
    _who_loses_a_seat(change)
    return change


def _who_loses_a_seat(change):
    """Everyone in a removed time; in a shrunk one, the surplus: offers, then unconfirmed
    holds, then the latest bookings. Read after the slots are locked, so nobody slips in
    unseen."""
    surplus = {c.slot.id: None if c.kind == "removed" else c.slot.seats_taken - c.seats_after
               for c in change.slots
               if c.kind == "removed" or (c.kind == "shrunk" and c.slot.seats_taken > c.seats_after)}
    if not surplus:
        return
    lock = {"populate_existing": True}
    pending = db.session.scalars(
        select(Offer).where(Offer.slot_id.in_(surplus), Offer.status == OfferStatus.PENDING)
        .order_by(Offer.created_at.desc(), Offer.id.desc()).execution_options(**lock)
    ).all()
    seated = db.session.scalars(
        select(Booking).where(Booking.slot_id.in_(surplus),
                              Booking.status.in_((BookingStatus.HELD, BookingStatus.BOOKED)))
        .order_by(Booking.status == BookingStatus.BOOKED,  # holds first
                  func.coalesce(Booking.seated_at, Booking.created_at).desc(), Booking.id.desc())
        .execution_options(**lock)
    ).all()
    for slot_id, count in surplus.items():
        holders = [o for o in pending if o.slot_id == slot_id] + [b for b in seated if b.slot_id == slot_id]
        for holder in holders if count is None else holders[:count]:
            if isinstance(holder, Offer):
                change.withdrawn.append(holder)
            else:
                (change.moved if holder.status == BookingStatus.BOOKED else change.released).append(holder)


def _apply(change, office, now, actor, reasons):
    """Make the slots follow the new rules and move whoever lost a seat; one transaction."""
    kinds = {c.slot.id: c.kind for c in change.slots if c.slot is not None}
    for c in change.slots:
        if c.kind == "removed":  # first: nothing freed below may be offered or booked again
            c.slot.removed_at = now
    db.session.flush()
    for offer in change.withdrawn:
        offers.take_back(offer, now)
    for hold in change.released:
        if states.advance(hold, BookingStatus.HELD, status=BookingStatus.EXPIRED, cancelled_at=now):
            seats.release(hold.slot_id)
        elif hold.status == BookingStatus.BOOKED:  # confirmed a moment ago: moves as the others
            change.moved.append(hold)
    staff_id = actor.id if actor is not None else None
    for booking in change.moved:
        states.advance(booking, BookingStatus.BOOKED, status=BookingStatus.CANCELLED, cancelled_at=now,
                       cancelled_by=CancelledBy.SCHEDULE, cancel_reason=reasons[kinds[booking.slot_id]],
                       sequence=Booking.sequence + 1, staff_id=staff_id)
        seats.release(booking.slot_id)
    for c in change.slots:
        slot = c.slot
        if slot is None:
            db.session.add(Slot(office_id=office.id, starts_at=c.starts_at, ends_at=c.ends_at,
                                seats=c.seats_after, seats_taken=0))
            continue
        slot.removed_at = now if c.kind == "removed" else None
        slot.ends_at = c.ends_at
        # Never fewer seats than are held: in a removed time, what it still holds (nothing,
        # once everyone has moved); the constraint on Slot guards the rest.
        slot.seats = max(c.seats_after, slot.seats_taken)
    db.session.flush()
    for booking in change.moved:
        waitlist.put_back(booking, now)
        notify.booking_closed(booking, now)
    for booking in change.moved:  # an earlier time offered to a cancelled booking goes on
        offers.withdraw_for_booking(booking, now)
    offers.fill_office(office.id, now)
    change.applied = True
