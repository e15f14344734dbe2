"""Data requests (export, erasure) and the audit log viewer, through the pages and the API."""

import json
from datetime import datetime

import pytest
from sqlalchemy import func, select

from scheduler import jobs
from scheduler.extensions import db
from scheduler.models import (
    AuditEntry,
    Booking,
    BookingStatus,
    InboundMessage,
    Message,
    Offer,
    OfferStatus,
    Office,
    OptOut,
    WaitlistEntry,
    WaitlistStatus,
)
from scheduler.services import booking, phones, replies, waitlist

from . import factories
from .staff_admin import post_form, world  # noqa: F401  (world is a fixture)


@pytest.fixture
def residents(world, clock):
    """Amina: a booking at Lanstrop (with e-mail) that fills its slot, a wait at Nordstadt
    that holds an offer, an SMS reply. Olena: waits at Lanstrop for Amina's time. Marek:
    a booking at Lanstrop of his own."""
    with world.app.app_context():
        lanstrop = db.session.get(Office, world.ids["lanstrop"])
        nordstadt = db.session.get(Office, world.ids["nordstadt"])
        amina, olena, marek = (phones.normalise(factories.mobile()) for _ in range(3))
        thursday = factories.slot(lanstrop, datetime(2026, 11, 26, 8, 30), seats=1)
        booking.book(
            thursday.id,
            name="Amina Al-Sayed",
            phone=amina,
            locale="ar",
            email="amina@example.org",
            topic="Kindergeld",
            now=clock.now,
        )
        booking.book(
            factories.slot(lanstrop, datetime(2026, 11, 26, 9, 0), seats=1).id,
            name="Marek Nowak",
            phone=marek,
            locale="de",
            email="marek@example.org",
            topic="Sprachkurs",
            now=clock.now,
        )
        factories.slot(nordstadt, datetime(2026, 11, 27, 10, 0), seats=1)
        waitlist.join(
            nordstadt,
            name="Amina Al-Sayed",
            phone=amina,
            locale="ar",
            topic="Arbeit",
            now=clock.now,
        )
        waitlist.join(
            lanstrop, name="Olena Kovalenko", phone=olena, locale="en", weekdays=[3], now=clock.now
        )
        replies.handle("SM-amina-1", amina, "Hallo?", clock.now)
        replies.handle("SM-marek-1", marek, "Hallo?", clock.now)
        db.session.commit()
        jobs.dispatch_outbox(clock.now)
        assert (
            db.session.scalar(select(Offer.status).where(Offer.phone == amina))
            == OfferStatus.PENDING
        )
    return {"amina": amina, "olena": olena, "marek": marek}


def personal_data(text):
    return [
        word for word in ("Amina", "Al-Sayed", "amina@", "Kindergeld", "Arbeit") if word in text
    ]


def test_the_export_holds_everything_about_the_number_and_nothing_of_anyone_else(world, residents):
    answer = world.api(
        "admin", "GET", "/api/v1/staff/residents", query_string={"phone": residents["amina"]}
    )
    assert answer.status_code == 200
    export = answer.json
    assert export["phone"] == residents["amina"]
    assert [
        (b["office"], b["name"], b["email"], b["topic"], b["status"]) for b in export["bookings"]
    ] == [("lanstrop", "Amina Al-Sayed", "amina@example.org", "Kindergeld", "booked")]
    assert [(w["office"], w["topic"], w["status"]) for w in export["waitlist"]] == [
        ("nordstadt", "Arbeit", "waiting")
    ]
    assert [(o["office"], o["status"], o["kind"]) for o in export["offers"]] == [
        ("nordstadt", "pending", "waitlist")
    ]
    kinds = sorted((m["channel"], m["kind"]) for m in export["messages"])
    # Offered a seat on joining: the offer's SMS, and no "you are number 1" beside it.
    assert kinds == [("email", "invitation"), ("sms", "confirmation"), ("sms", "offer")]
    assert {m["to"] for m in export["messages"]} == {residents["amina"], "amina@example.org"}
    assert [reply["body"] for reply in export["replies"]] == ["Hallo?"]
    assert export["opt_out"] is None
    text = json.dumps(export)
    for other in ("Marek", "marek@", "Sprachkurs", residents["marek"], "Olena", residents["olena"]):
        assert other not in text
    assert all("token" not in booking for booking in export["bookings"])  # keys, not data


def test_the_page_looks_up_a_number_and_downloads_the_export(world, residents):
    admin = world.page("admin")
    typed = "0" + residents["amina"][3:]  # as a person types it, without +49
    shown = post_form(admin, "/staff/residents", {"phone": typed})
    page = shown.get_data(as_text=True)
    assert (
        shown.status_code == 200
        and "Amina Al-Sayed" in page
        and "Kindergeld" in page
        and "Hallo?" in page
    )
    assert "Marek" not in page and "Olena" not in page
    download = post_form(admin, "/staff/residents/export", {"phone": residents["amina"]})
    assert download.status_code == 200 and download.mimetype == "application/json"
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and residents["amina"][3:] not in disposition
    assert json.loads(download.get_data())["bookings"][0]["name"] == "Amina Al-Sayed"
    wrong = post_form(admin, "/staff/residents", {"phone": "12"})
    assert wrong.status_code == 422 and "not a valid phone number" in wrong.get_data(as_text=True)


def test_a_landline_can_be_looked_up(world, residents):
    answer = world.api("admin", "GET", "/api/v1/staff/residents", query_string={"phone": "0231 1"})
    assert answer.status_code == 422 and "phone" in answer.json["fields"]
    answer = world.api(
        "admin", "GET", "/api/v1/staff/residents", query_string={"phone": "0231 5020000"}
    )
    assert answer.status_code == 200 and answer.json["phone"] == "+492315020000"
    assert answer.json["bookings"] == [] and answer.json["messages"] == []


def test_erasing_asks_first_then_cancels_the_future_and_anonymises(world, residents, clock):
    admin = world.page("admin")
    asked = post_form(admin, "/staff/residents/erase", {"phone": residents["amina"]})
    assert asked.status_code == 200 and "cannot be undone" in asked.get_data(as_text=True)
    assert "bookings 1, waitlist entries 1, offers 1, messages 3, SMS replies 1" in asked.get_data(
        as_text=True
    )
    with world.app.app_context():
        assert (
            db.session.scalar(select(Booking.name).where(Booking.phone == residents["amina"]))
            == "Amina Al-Sayed"
        )

    done = post_form(admin, "/staff/residents/erase", {"phone": residents["amina"], "confirm": "y"})
    assert done.status_code == 303
    assert "Erased: bookings 1 (future ones cancelled: 1)" in admin.get(
        done.headers["Location"]
    ).get_data(as_text=True)
    with world.app.app_context():
        amina = residents["amina"]
        erased = db.session.scalars(
            select(Booking).where(Booking.office_id == world.ids["lanstrop"]).order_by(Booking.id)
        ).first()
        assert (erased.name, erased.phone, erased.email, erased.topic) == ("", None, None, "")
        assert erased.status == BookingStatus.CANCELLED and erased.cancelled_by == "staff"
        entry = db.session.scalars(
            select(WaitlistEntry).where(WaitlistEntry.office_id == world.ids["nordstadt"])
        ).one()
        assert (entry.name, entry.phone, entry.topic, entry.status) == (
            "",
            None,
            "",
            WaitlistStatus.REMOVED,
        )
        offer = db.session.scalars(
            select(Offer).where(Offer.office_id == world.ids["nordstadt"])
        ).one()
        assert (offer.phone, offer.status) == (None, OfferStatus.WITHDRAWN)
        # The freed seat went to Olena at once; Amina's number appears nowhere any more.
        handed_on = db.session.scalars(select(Offer).where(Offer.phone == residents["olena"])).one()
        assert handed_on.slot_id == erased.slot_id and handed_on.status == OfferStatus.PENDING
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(Message)
                .where((Message.to == amina) | (Message.to == "amina@example.org"))
            )
            == 0
        )
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(InboundMessage)
                .where(InboundMessage.phone == amina)
            )
            == 0
        )
        for model, column in (
            (Booking, Booking.phone),
            (WaitlistEntry, WaitlistEntry.phone),
            (Offer, Offer.phone),
        ):
            assert (
                db.session.scalar(select(func.count()).select_from(model).where(column == amina))
                == 0
            )
        jobs.dispatch_outbox(clock.now)
        assert (
            db.session.scalar(select(func.count()).select_from(Message).where(Message.to == amina))
            == 0
        )
        # Marek's data is untouched.
        assert (
            db.session.scalar(select(Booking.name).where(Booking.phone == residents["marek"]))
            == "Marek Nowak"
        )
        assert db.session.scalar(select(func.count()).select_from(InboundMessage)) == 1
        entry = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "resident.erase")
        ).one()
        assert (
            entry.staff_id == world.ids["admin"]
            and entry.office_id is None
            and entry.record_id is None
        )
        # Six messages: the four stored and the cancellation SMS and e-mail the erasure wrote,
        # deleted before they could be sent.
        assert entry.after == {
            "bookings": 1,
            "waitlist": 1,
            "offers": 1,
            "messages": 5,
            "replies": 1,
            "cancelled": 1,
            "opt_out_kept": False,
        }
        every_entry = json.dumps(
            [[e.action, e.before, e.after] for e in db.session.scalars(select(AuditEntry))]
        )
        assert amina[3:] not in every_entry and not personal_data(every_entry)


def test_erasing_through_the_api_keeps_an_opt_out_and_returns_counts(world, residents, clock):
    with world.app.app_context():
        replies.handle("SM-amina-2", residents["amina"], "STOP", clock.now)
        db.session.commit()
    answer = world.api(
        "admin", "DELETE", "/api/v1/staff/residents", query_string={"phone": residents["amina"]}
    )
    assert answer.status_code == 200
    assert answer.json == {
        "bookings": 1,
        "waitlist": 1,
        "offers": 1,
        "messages": 5,
        "replies": 2,
        "cancelled": 1,
        "opt_out_kept": True,
    }
    with world.app.app_context():
        assert db.session.get(OptOut, residents["amina"]) is not None  # the resident's wish stays
    export = world.api(
        "admin", "GET", "/api/v1/staff/residents", query_string={"phone": residents["amina"]}
    ).json
    assert (
        export["bookings"],
        export["waitlist"],
        export["offers"],
        export["messages"],
        export["replies"],
    ) == ([], [], [], [], [])
    assert export["opt_out"] is not None
    again = world.api(
        "admin", "DELETE", "/api/v1/staff/residents", query_string={"phone": residents["amina"]}
    )
    assert again.json["bookings"] == 0 and again.json["cancelled"] == 0  # nothing left to erase


def test_erasure_leaves_rows_exactly_as_retention_does(world, residents, clock):
    """Amina is erased today; Marek's data reaches the end of its retention later. The
    rows that remain of both look alike: one piece of code blanks them."""
    assert (
        world.api(
            "admin", "DELETE", "/api/v1/staff/residents", query_string={"phone": residents["amina"]}
        ).status_code
        == 200
    )
    clock.advance(days=200)
    with world.app.app_context():
        jobs.purge_personal_data(clock.now)
        rows = db.session.scalars(select(Booking).order_by(Booking.id)).all()
        assert len({(row.name, row.phone, row.email, row.topic) for row in rows}) == 1
        assert db.session.scalar(select(func.count()).select_from(Message)) == 0
        assert db.session.scalar(select(func.count()).select_from(InboundMessage)) == 0


def test_the_audit_log_filters_by_office_account_action_and_day(world, residents, clock):
    admin = world.page("admin")
    post_form(
        admin,
        "/staff/offices/lanstrop/settings",
        {"name": "Lanstrop", "languages": ["de"], "active": "y"},
    )
    world.api("anna", "PATCH", "/api/v1/staff/offices/lanstrop", json={"note": "Pass mitbringen"})
    clock.advance(days=2)
    world.api("admin", "POST", "/api/v1/staff/offices/nordstadt/feed/renew")
    world.api("admin", "GET", "/api/v1/staff/residents", query_string={"phone": residents["marek"]})

    def listed(**query):
        answer = world.api("admin", "GET", "/api/v1/staff/audit", query_string=query)
        assert answer.status_code == 200, answer.json
        return [entry["action"] for entry in answer.json["entries"]]

    assert listed()[:4] == ["resident.export", "feed.renew", "office.update", "office.update"]
    assert listed(office="lanstrop") == ["office.update", "office.update"]
    assert listed(staff="anna@example.org") == ["office.update"]
    assert listed(action="office.") == ["office.update", "office.update"]
    assert listed(action="staff.t") == ["staff.token"] * 3
    assert listed(**{"from": "2026-11-25"}) == ["resident.export", "feed.renew"]
    assert listed(**{"to": "2026-11-23", "action": "office"}) == ["office.update", "office.update"]
    entry = world.api("admin", "GET", "/api/v1/staff/audit", query_string={"action": "feed"}).json[
        "entries"
    ][0]
    assert set(entry) == {
        "id",
        "at",
        "staff",
        "office",
        "action",
        "record_type",
        "record_id",
        "before",
        "after",
    }
    assert (entry["staff"], entry["office"], entry["record_type"]) == (
        "admin@example.org",
        "nordstadt",
        "office",
    )
    first, *rest = world.api("admin", "GET", "/api/v1/staff/audit", query_string={"limit": 2}).json[
        "entries"
    ]
    older = world.api(
        "admin", "GET", "/api/v1/staff/audit", query_string={"before_id": rest[-1]["id"]}
    ).json
    assert older["entries"][0]["id"] < rest[-1]["id"]
    for query, field in (
        ({"office": "nowhere"}, "office"),
        ({"staff": "x@example.org"}, "staff"),
        ({"from": "26.11.2026"}, "from"),
        ({"from": "2026-11-26", "to": "2026-11-25"}, "to"),
        ({"before_id": "x"}, "before_id"),
    ):
        answer = world.api("admin", "GET", "/api/v1/staff/audit", query_string=query)
        assert answer.status_code == 422 and field in answer.json["fields"], query

    page = admin.get("/staff/audit", query_string={"office": "lanstrop"}).get_data(as_text=True)
    assert (
        page.count("<code>office.update</code>") == 2
        and "feed.renew" not in page.split("<table")[1]
    )
    assert "anna@example.org" in page and "Pass mitbringen" in page  # before/after as key and value
    page = admin.get("/staff/audit", query_string={"action": "staff.token"}).get_data(as_text=True)
    assert "command line" in page  # made by the operator, not by an account
    assert (
        admin.get(
            "/staff/audit", query_string={"from": "2026-11-26", "to": "2026-11-25"}
        ).status_code
        == 422
    )


def test_the_audit_log_pages_back(world, clock):
    with world.app.app_context():
        from scheduler.services import audit

        for number in range(55):
            audit.record(None, "test.entry", clock.now, after={"n": number})
        db.session.commit()
    admin = world.page("admin")
    first = admin.get("/staff/audit", query_string={"action": "test."}).get_data(as_text=True)
    assert first.count("<code>test.entry</code>") == 50 and "Older entries" in first
    older = first.split('href="/staff/audit?')[-1].split('"')[0].replace("&amp;", "&")
    second = admin.get(f"/staff/audit?{older}").get_data(as_text=True)
    assert second.count("<code>test.entry</code>") == 5 and "Older entries" not in second
    assert "action=test." in older


def test_the_entries_of_this_part_hold_no_residents_data(world, residents, clock):
    """Export, erasure, feed renewal and office changes log ids, counts and settings only."""
    world.api("admin", "GET", "/api/v1/staff/residents", query_string={"phone": residents["amina"]})
    world.api("admin", "POST", "/api/v1/staff/offices/lanstrop/feed/renew")
    world.api(
        "anna", "PATCH", "/api/v1/staff/offices/lanstrop", json={"note": "Bitte Pass mitbringen"}
    )
    world.api(
        "admin", "DELETE", "/api/v1/staff/residents", query_string={"phone": residents["amina"]}
    )
    entries = world.api("admin", "GET", "/api/v1/staff/audit").json["entries"]
    assert {entry["action"] for entry in entries} >= {
        "resident.export",
        "resident.erase",
        "feed.renew",
        "office.update",
    }
    text = json.dumps(entries)
    for phone in residents.values():
        assert phone not in text and phone[3:] not in text
    assert not personal_data(text) and "Marek" not in text and "Olena" not in text
