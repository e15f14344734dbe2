"""Test data with overridable defaults. Call inside an application context."""
import re
from datetime import UTC, time, timedelta
from itertools import count

from scheduler.extensions import db
from scheduler.models import Closure, Office, Slot, WeeklyHours

THURSDAY = 3
_numbers = count(1)


def office(slug="lanstrop", name="Lanstrop", address="Nadlerweg 1, 44329 Dortmund",
           hours=((THURSDAY, "08:30", "11:30", 30, 2),), **fields):
    office = Office(slug=slug, name=name, address=address, languages="de,en,ar", **fields)
    office.hours = [
        WeeklyHours(weekday=weekday, start_time=time.fromisoformat(start),
                    end_time=time.fromisoformat(end), slot_minutes=minutes, seats=seats)
        for weekday, start, end, minutes, seats in hours
    ]
    db.session.add(office)
    db.session.flush()
    return office


def closure(office, start, end=None, reason="Team day"):
    item = Closure(office=office, start_date=start, end_date=end or start, reason=reason)
    db.session.add(item)
    db.session.flush()
    return item


def slot(office, starts_at, minutes=30, seats=2, seats_taken=0):
    if starts_at.tzinfo is None:
        starts_at = starts_at.replace(tzinfo=office.tz)
    item = Slot(office=office, starts_at=starts_at.astimezone(UTC),
                ends_at=(starts_at + timedelta(minutes=minutes)).astimezone(UTC),
                seats=seats, seats_taken=seats_taken)
    db.session.add(item)
    db.session.flush()
    return item


def mobile():
    """A distinct valid German mobile number, as a resident might type it."""
    return f"0151 {next(_numbers):08d}"


def csrf_token(html):
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, "the page has no CSRF token"
    return match.group(1)




STAFF_PASSWORD = "correct horse battery"


def staff(email=None, offices=(), admin=False, password=STAFF_PASSWORD):
    """A staff account (an administrator with ``admin=True``) working for ``offices``."""
    from datetime import UTC, datetime

    from scheduler.services import staff as accounts

    account = accounts.create_account(
        email or f"staff{next(_numbers)}@example.org", password, offices=list(offices), admin=admin,
        actor=None, now=datetime(2026, 11, 1, tzinfo=UTC),
    )
    db.session.flush()
    return account


def api_token(account):
    from datetime import UTC, datetime

    from scheduler.services import staff as accounts

    return accounts.issue_token(account, actor=None, now=datetime(2026, 11, 1, tzinfo=UTC))


def log_in(client, email, password=STAFF_PASSWORD):
    """Log ``client`` in through the form, as a person would."""
    token = csrf_token(client.get("/staff/login").get_data(as_text=True))
    response = client.post("/staff/login", data={"email": email, "password": password, "csrf_token": token})
    assert response.status_code == 303, response.get_data(as_text=True)
    return response
