"""Reading the audit log: administrators look up who changed what, by office, account,
action and days (local days of ``DEFAULT_TIMEZONE``), newest first, a page at a time."""
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..extensions import db
from ..models import AuditEntry, Office, StaffAccount
from . import audit
from .errors import InvalidInput
from .staff import require_admin

PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


def search(actor: StaffAccount, *, office: str | None = None, staff: str | None = None,
           action: str | None = None, since: date | None = None, until: date | None = None,
           before_id: int | None = None, limit: int = PAGE_SIZE) -> list[AuditEntry]:
    """Entries matching every filter given: ``office`` a slug, ``staff`` an e-mail address,
    ``action`` a prefix ("booking." or "booking.cancel"), ``since``/``until`` local days
    (inclusive). ``before_id`` continues after the last entry of the previous page;
    ``limit`` is kept between 1 and ``MAX_PAGE_SIZE``."""
    require_admin(actor)
    fields = {}
    office_id = staff_id = None
    if office:
        office_id = db.session.scalar(select(Office.id).where(Office.slug == office))
        if office_id is None:
            fields["office"] = _l("Unknown office: %(slugs)s", slugs=office)
    if staff:
        staff_id = db.session.scalar(select(StaffAccount.id).where(StaffAccount.email == staff.strip().lower()))
        if staff_id is None:
            fields["staff"] = _l("No staff account has this e-mail address.")
    if since and until and until < since:
        fields["to"] = _l("Must not be before 'from'.")
    if fields:
        raise InvalidInput(fields=fields)
    zone = ZoneInfo(current_app.config["DEFAULT_TIMEZONE"])
    return audit.entries(
        office_id=office_id, staff_id=staff_id, action=(action or "").strip() or None,
        since=datetime.combine(since, time(), tzinfo=zone) if since else None,
        until=datetime.combine(until + timedelta(days=1), time(), tzinfo=zone) if until else None,
        before_id=before_id, limit=max(1, min(limit, MAX_PAGE_SIZE)),
    )


def actions() -> list[str]:
    """The actions the log holds, for the filter's suggestions."""
    return list(db.session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)))
