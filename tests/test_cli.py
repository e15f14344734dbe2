"""The command line of design.md."""
import json
from datetime import time, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from scheduler.extensions import db
from scheduler.models import Office, Slot, WeeklyHours

from . import factories
from .outbox import deliver


def test_seed_demo_creates_the_offices_hours_and_slots_once(app, runner):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "8 offices created" in result.output
    again = runner.invoke(args=["seed-demo"])
    assert again.output.startswith("0 offices created, 0 slots created")
    with app.app_context():
        lanstrop = db.session.scalar(select(Office).where(Office.slug == "lanstrop"))
        assert lanstrop.address == "Nadlerweg 1, 44329 Dortmund"
        [hours] = lanstrop.hours
        assert (hours.weekday, str(hours.start_time), str(hours.end_time), hours.slot_minutes, hours.seats) == (
            3, "08:30:00", "11:30:00", 30, 2)
        assert db.session.scalar(select(func.count()).select_from(Office)) == 8
        assert db.session.scalar(select(func.count()).select_from(Slot).where(Slot.office_id == lanstrop.id)) == 36


def test_messages_lists_the_outbox_as_json_and_filters_by_phone(app, runner, client, clock):
    with app.app_context():
        slot_id = factories.slot(factories.office(), clock.now + timedelta(days=3)).id
        db.session.commit()
    for phone, locale in (("0151 23456789", "de"), ("0152 98765432", "en")):
        client.post("/api/v1/bookings", json={"slot_id": slot_id, "name": "A", "phone": phone, "locale": locale})
    deliver(app)
    rows = json.loads(runner.invoke(args=["messages", "--json"]).output)
    assert [(r["to"], r["kind"], r["status"]) for r in rows] == [
        ("+4915123456789", "confirmation", "sent"), ("+4915298765432", "confirmation", "sent")]
    assert set(rows[0]) >= {"id", "to", "kind", "status", "body", "created_at", "sent_at"}
    assert rows[0]["channel"] == "sms" and rows[0]["error"] is None
    only = json.loads(runner.invoke(args=["messages", "--json", "--to", "0152 98765432"]).output)
    assert [r["to"] for r in only] == ["+4915298765432"]
    assert only[0]["body"].startswith("lokal willkommen Lanstrop\nYour appointment: 26 Nov, 09:00\n")
    text = runner.invoke(args=["messages"]).output
    assert "confirmation" in text and "+4915123456789" in text
    bad = runner.invoke(args=["messages", "--to", "123"])
    assert bad.exit_code == 2 and "--to" in bad.output


def test_scheduler_tick_materialises_as_if_the_clock_showed_now(app, runner):
    with app.app_context():
        factories.office()
        db.session.commit()
    result = runner.invoke(args=["scheduler", "tick", "--now", "2027-01-04T08:00:00+01:00"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("slots: 36;")  # six Thursdays of six slots; 7 January is the first
    with app.app_context():
        first = db.session.scalar(select(func.min(Slot.starts_at)))
        assert first.isoformat() == "2027-01-07T07:30:00+00:00"
    bad = runner.invoke(args=["scheduler", "tick", "--now", "next thursday"])
    assert bad.exit_code == 2


def test_weekly_hours_reject_impossible_rules(ctx):
    office = factories.office(hours=())
    office.hours.append(WeeklyHours(weekday=7, start_time=time(9), end_time=time(8)))
    with pytest.raises(IntegrityError, match="ck_weekly_hours"):
        db.session.flush()
