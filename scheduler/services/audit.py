"""The audit log: who changed what, when. Records are named by id; no residents' data."""
from datetime import datetime

from sqlalchemy import inspect, select

from ..extensions import db
from ..models import AuditEntry, Office


def record(actor, action: str, now: datetime, *, office: Office | None = None, record=None,
           before: dict | list | None = None, after: dict | list | None = None) -> AuditEntry:
    """Write one entry. ``actor`` is the staff account, or None for the server's command line.

    ``record`` is the changed row (its table name and id are kept); ``before`` and ``after``
    must hold settings and statuses only, never names, phone numbers, e-mails or topics.
    """
    entry = AuditEntry(
        at=now, staff_id=actor.id if actor is not None else None,
        office_id=office.id if office is not None else getattr(record, "office_id", None),
        action=action, before=before, after=after,
    )
    if record is not None:
        entry.record_type = inspect(record).mapper.local_table.name
        entry.record_id = record.id
    db.session.add(entry)
    return entry


def entries(*, office_id: int | None = None, staff_id: int | None = None, action: str | None = None,
            since: datetime | None = None, until: datetime | None = None, limit: int = 200,
            before_id: int | None = None) -> list[AuditEntry]:
    """Newest first; ``before_id`` pages back through older entries."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    # Conditions are built only for the filters given: a comparison with None is an error.
    for value, condition in (
        (office_id, lambda: AuditEntry.office_id == office_id), (staff_id, lambda: AuditEntry.staff_id == staff_id),
        (action, lambda: AuditEntry.action.startswith(action, autoescape=True)),
        (since, lambda: AuditEntry.at >= since), (until, lambda: AuditEntry.at < until),
        (before_id, lambda: AuditEntry.id < before_id),
    ):
        if value is not None:
            query = query.where(condition())
    return list(db.session.scalars(query))
