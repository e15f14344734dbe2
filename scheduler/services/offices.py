"""Offices as administrators set them up, and each office's secret calendar feed.

Who may change what: administrators create offices and change everything; the staff of an
office may change only its "what to bring" note, which is theirs to keep current (the
name, address, languages and whether residents can book at all are the network's).
"""
import re
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Booking, Office, Slot, StaffAccount
from . import audit
from .errors import Conflict, Forbidden, InvalidInput, NotFound
from .staff import require_admin

SLUG_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
SLUG_MAX, NAME_MAX, ADDRESS_MAX, NOTE_MAX = 64, 200, 300, 2000
# How far back the calendar feed reaches; forward it reaches as far as there are slots.
FEED_WEEKS_BACK = 4


def may_edit_all(actor: StaffAccount) -> bool:
    """Name, address, languages and active: administrators only. The note: the office's staff too."""
    return actor.is_admin


def create_office(actor: StaffAccount, *, slug: str, name: str, now: datetime, address: str = "",
                  languages: Iterable[str] = (), note: str = "", active: bool = True) -> Office:
    require_admin(actor)
    fields = {}
    slug = (slug or "").strip()
    if not SLUG_PATTERN.fullmatch(slug) or len(slug) > SLUG_MAX:
        fields["slug"] = _l("Use lowercase letters, digits and hyphens.")
    values = _clean(fields, name=name, address=address, languages=languages, note=note)
    if fields:
        raise InvalidInput(fields=fields)
    if db.session.scalar(select(Office.id).where(Office.slug == slug)) is not None:
        raise Conflict(_l("An office with this short name exists already."), code="office_exists")
    office = Office(slug=slug, active=bool(active), timezone=current_app.config["DEFAULT_TIMEZONE"],
                    **values)
    db.session.add(office)
    db.session.flush()
    audit.record(actor, "office.create", now, office=office, record=office, after=settings(office))
    return office


def update_office(actor: StaffAccount, office: Office, *, now: datetime, name: str | None = None,
                  address: str | None = None, languages: Iterable[str] | None = None,
                  active: bool | None = None, note: str | None = None) -> Office:
    """Change what is given (None: leave as it is). Deactivating an office takes it off the
    residents' list; bookings it has stand."""
    if not actor.may_see(office):
        raise Forbidden()
    if not may_edit_all(actor) and any(value is not None for value in (name, address, languages, active)):
        require_admin(actor)
    fields = {}
    values = _clean(fields, name=name, address=address, languages=languages, note=note)
    if fields:
        raise InvalidInput(fields=fields)
    before = settings(office)
    for key, value in values.items():
        setattr(office, key, value)
    if active is not None:
        office.active = bool(active)
    after = settings(office)
    if after != before:
        audit.record(actor, "office.update", now, office=office, record=office,
                     before={key: before[key] for key in before if before[key] != after[key]},
                     after={key: after[key] for key in after if before[key] != after[key]})
    return office


def _clean(fields: dict, **given) -> dict:
    """The given values, trimmed and checked; problems go into ``fields``. None: not given."""
    values = {}
    for key, limit in (("name", NAME_MAX), ("address", ADDRESS_MAX), ("note", NOTE_MAX)):
        if given[key] is None:
            continue
        text = given[key].strip()
        if key == "name" and not text:
            fields[key] = _l("This field is required.")
        elif len(text) > limit:
            fields[key] = _l("Please use at most %(n)d characters.", n=limit)
        values[key] = text
    if given["languages"] is not None:
        offered = current_app.config["LANGUAGES"]
        chosen = set(given["languages"])
        if chosen - set(offered):
            fields["languages"] = _l("This language is not offered.")
        values["languages"] = ",".join(code for code in offered if code in chosen)
    return values


def settings(office: Office) -> dict:
    """What the audit log keeps of an office: its settings, nothing of residents."""
    return {"slug": office.slug, "name": office.name, "address": office.address,
            "languages": office.language_list, "active": office.active, "note": office.note}


# The calendar feed ------------------------------------------------------------------------

def feed_token(office: Office) -> str:
    """The secret of the office's feed URL, made on first use.

    Made by a conditional update, so two first requests at once agree on one token.
    """
    if office.feed_token is None:
        db.session.execute(
            update(Office).where(Office.id == office.id, Office.feed_token.is_(None))
            .values(feed_token=secrets.token_urlsafe(24))
            .execution_options(synchronize_session=False)
        )
        db.session.refresh(office, ["feed_token"])
    return office.feed_token


def renew_feed(actor: StaffAccount, office: Office, now: datetime) -> str:
    """A new secret: the old URL answers 404 from now on (a leaked link, a colleague gone)."""
    require_admin(actor)
    office.feed_token = secrets.token_urlsafe(24)
    # The token is a secret: the log says that it changed, not what it is.
    audit.record(actor, "feed.renew", now, office=office, record=office)
    return office.feed_token


def office_by_feed_token(token: str) -> Office:
    office = db.session.scalar(select(Office).where(Office.feed_token == token)) if token else None
    if office is None:
        raise NotFound()
    return office


def feed_bookings(office: Office, now: datetime) -> list[Booking]:
    """Every booking from some weeks back on, cancelled ones included, in time order."""
    return list(db.session.scalars(
        select(Booking).join(Booking.slot)
        .where(Booking.office_id == office.id, Slot.starts_at >= now - timedelta(weeks=FEED_WEEKS_BACK))
        .order_by(Slot.starts_at, Booking.id)
        .options(selectinload(Booking.slot))
    ))
