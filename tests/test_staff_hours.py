"""Weekly hours and closures: the preview says what saving does, and saving does it.

The clock stands at Monday 23 November 2026, 09:00; Lanstrop is open Thursdays 08:30-11:30,
30-minute slots, 2 seats, materialised for six weeks (26 November to 31 December).
"""

import json
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from scheduler import jobs
from scheduler.extensions import db
from scheduler.models import (
    AuditEntry,
    Booking,
    BookingSource,
    BookingStatus,
    CancelledBy,
    Closure,
    Message,
    Offer,
    OfferStatus,
    Slot,
    WaitlistEntry,
    WaitlistStatus,
    WeeklyHours,
)
from scheduler.segments import is_gsm7, segments
from scheduler.services import hours as rules
from scheduler.services import notify, seats, slots, waitlist
from scheduler.services.demo import OFFICES
from scheduler.services.errors import InvalidInput

from . import factories
from .conftest import BERLIN

LANSTROP_HOURS = [
    {
        "weekday": 3,
        "start": "08:30",
        "end": "11:30",
        "slot_minutes": 30,
        "seats": 2,
        "valid_from": None,
        "valid_until": None,
        "languages": [],
    }
]
RESIDENTS = 8
ROUNDS = 3  # attempts per resident, one after another: the closure lands somewhere among them


@pytest.fixture
def config_overrides():
    # The race gives every thread its own connection, as gunicorn workers would have.
    return {"SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": RESIDENTS + 2, "max_overflow": 4}}


@pytest.fixture
def tokens(app, clock):
    """Lanstrop and Nordstadt with their slots; Anna works in Lanstrop, Bernd in Nordstadt."""
    with app.app_context():
        lanstrop = factories.office()
        nordstadt = factories.office(
            slug="nordstadt", name="Nordstadt", hours=((1, "10:00", "12:00", 60, 1),)
        )
        slots.materialise(clock.now)
        accounts = {
            "anna": factories.staff("anna@example.org", offices=[lanstrop]),
            "bernd": factories.staff("bernd@example.org", offices=[nordstadt]),
            "admin": factories.staff("admin@example.org", admin=True),
        }
        issued = {name: factories.api_token(account) for name, account in accounts.items()}
        db.session.commit()
        assert nordstadt.id
        return issued


def call(client, method, path, token, **kwargs):
    return client.open(path, method=method, headers={"Authorization": f"Bearer {token}"}, **kwargs)


def slot_id(local_iso):
    starts_at = datetime.fromisoformat(local_iso).replace(tzinfo=BERLIN).astimezone(UTC)
    return db.session.scalar(select(Slot.id).where(Slot.starts_at == starts_at))


def book(client, local_iso, locale="de", phone=None):
    """A resident books through the public API; returns the booking's id."""
    with client.application.app_context():
        target = slot_id(local_iso)
    response = client.post(
        "/api/v1/bookings",
        json={
            "slot_id": target,
            "name": f"Resident {locale}",
            "phone": phone or factories.mobile(),
            "locale": locale,
        },
    )
    assert response.status_code == 201, response.json
    with client.application.app_context():
        return db.session.scalar(select(Booking.id).where(Booking.token == response.json["token"]))


def join(client, slug="lanstrop", **preferences):
    response = client.post(
        "/api/v1/waitlist",
        json={
            "office": slug,
            "name": "Waiting",
            "phone": factories.mobile(),
            "locale": "de",
            **preferences,
        },
    )
    assert response.status_code == 201, response.json
    return response.json["token"]


def assert_seats_add_up():
    """No slot is oversold: its taken seats are its bookings and pending offers, and no
    booking is left in a time that was taken away."""
    for slot in db.session.scalars(select(Slot)):
        booked = db.session.scalar(
            select(func.count())
            .select_from(Booking)
            .where(Booking.slot_id == slot.id, Booking.status == BookingStatus.BOOKED)
        )
        pending = db.session.scalar(
            select(func.count())
            .select_from(Offer)
            .where(Offer.slot_id == slot.id, Offer.status == OfferStatus.PENDING)
        )
        assert slot.seats_taken == booked + pending <= slot.seats, slot.starts_at
        if slot.removed_at is not None and slot.starts_at > slot.removed_at:
            assert booked == pending == 0


def with_seats(seats, **more):
    return {"hours": [{**LANSTROP_HOURS[0], "seats": seats, **more}]}


# --- the rules: what is refused ---


@pytest.mark.parametrize(
    ("item", "field", "text"),
    [
        ({"end": "08:00"}, "hours.0.end", "later than the start"),
        ({"slot_minutes": 40}, "hours.0.slot_minutes", "whole number of slots"),
        ({"slot_minutes": 0}, "hours.0.slot_minutes", "between"),
        ({"seats": 0}, "hours.0.seats", "between"),
        ({"seats": 10**30}, "hours.0.seats", "between"),
        ({"seats": True}, "hours.0.seats", "whole number"),
        ({"seats": 1.5}, "hours.0.seats", "whole number"),
        ({"weekday": 7}, "hours.0.weekday", "0 (Monday)"),
        ({"start": "25:00"}, "hours.0.start", "09:30"),
        ({"start": None}, "hours.0.start", "required"),
        (
            {"valid_from": "2027-02-01", "valid_until": "2027-01-01"},
            "hours.0.valid_until",
            "first day",
        ),
        ({"valid_from": "2027-02-30"}, "hours.0.valid_from", "date like"),
        ({"languages": ["en", "xx"]}, "hours.0.languages", "xx"),
        ({"languages": "en"}, "hours.0.languages", "list"),
    ],
)
def test_rules_that_make_no_sense_are_refused_by_field(ctx, item, field, text):
    with pytest.raises(InvalidInput) as refused:
        rules.clean_rules([{**LANSTROP_HOURS[0], **item}])
    with force_locale("en"):
        assert text in str(refused.value.fields[field])


def test_two_hours_of_one_weekday_may_not_overlap_but_may_follow_each_other(ctx):
    later = {**LANSTROP_HOURS[0], "start": "11:00", "end": "12:00"}
    with pytest.raises(InvalidInput) as refused:
        rules.clean_rules([LANSTROP_HOURS[0], later])
    assert set(refused.value.fields) == {"hours.1.start"}
    following = {**later, "start": "11:30"}
    next_year = {**later, "valid_from": "2027-01-01"}
    until_new_year = {**LANSTROP_HOURS[0], "valid_until": "2026-12-31"}
    assert len(rules.clean_rules([LANSTROP_HOURS[0], following])) == 2
    assert len(rules.clean_rules([until_new_year, next_year])) == 2


def test_german_is_spoken_in_every_hour_and_not_listed(ctx):
    [rule] = rules.clean_rules([{**LANSTROP_HOURS[0], "languages": ["ar", "de", "en"]}])
    assert rule.language_list == ["en", "ar"]


def test_a_closure_must_not_begin_in_the_past_nor_end_before_it_begins(ctx, clock):
    today = clock.now.date()
    with pytest.raises(InvalidInput) as refused:
        rules.clean_closure("2026-11-22", None, "", today)
    assert "start_date" in refused.value.fields
    with pytest.raises(InvalidInput) as refused:
        rules.clean_closure("2026-12-03", "2026-12-02", "", today)
    assert "end_date" in refused.value.fields
    assert rules.clean_closure("2026-11-23", "", None, today).end_date == today


# --- what a change does ---


def test_the_preview_says_exactly_what_saving_does_and_saves_nothing(app, client, tokens):
    kept = book(client, "2026-11-26T08:30")
    moved = book(client, "2026-11-26T08:30")
    path = "/api/v1/staff/offices/lanstrop/hours"
    proposal = {
        "hours": [
            {**LANSTROP_HOURS[0], "seats": 1, "end": "10:30"},
            {
                **LANSTROP_HOURS[0],
                "weekday": 1,
                "start": "14:00",
                "end": "15:00",
                "languages": ["ar"],
            },
        ]
    }
    with app.app_context():
        before = db.session.execute(
            select(Slot.id, Slot.seats, Slot.removed_at).order_by(Slot.id)
        ).all()
    preview = call(client, "PUT", path + "?dry_run=true", tokens["anna"], json=proposal)
    assert preview.status_code == 200 and preview.json["dry_run"] is True
    with app.app_context():
        assert (
            db.session.execute(select(Slot.id, Slot.seats, Slot.removed_at).order_by(Slot.id)).all()
            == before
        )
        assert db.session.get(Booking, moved).status == BookingStatus.BOOKED
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action == "hours.replace")
            )
            == 0
        )
    assert call(client, "GET", path, tokens["anna"]).json == {"hours": LANSTROP_HOURS}

    saved = call(client, "PUT", path, tokens["anna"], json=proposal)
    assert saved.status_code == 200 and saved.json["dry_run"] is False
    answer = {key: value for key, value in saved.json.items() if key != "dry_run"}
    assert answer == {key: value for key, value in preview.json.items() if key != "dry_run"}
    # 08:30-11:30 becomes 08:30-10:30: two of six times go each Thursday; the other four
    # keep one seat; Tuesdays 14:00-15:00 come new (six Tuesdays, two times each).
    assert (answer["removed"], answer["shrunk"], answer["added"]) == (2 * 6, 4 * 6, 2 * 6)
    assert answer["affected"] == [moved]
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count()).select_from(Slot).where(Slot.removed_at.is_not(None))
            )
            == 12
        )
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(Slot)
                .where(Slot.removed_at.is_(None), Slot.office_id == 1)
            )
            == 24 + 12
        )
        assert db.session.get(Booking, kept).status == BookingStatus.BOOKED
        assert db.session.get(Booking, moved).cancelled_by == CancelledBy.SCHEDULE
        assert_seats_add_up()
    assert call(client, "GET", path, tokens["anna"]).json["hours"][0] == {
        "weekday": 1,
        "start": "14:00",
        "end": "15:00",
        "slot_minutes": 30,
        "seats": 2,
        "valid_from": None,
        "valid_until": None,
        "languages": ["ar"],
    }


def test_an_added_hour_can_be_booked_at_once(app, client, tokens):
    proposal = {
        "hours": [
            *LANSTROP_HOURS,
            {**LANSTROP_HOURS[0], "weekday": 1, "start": "14:00", "end": "16:00"},
        ]
    }
    answer = call(
        client, "PUT", "/api/v1/staff/offices/lanstrop/hours", tokens["anna"], json=proposal
    ).json
    assert (answer["added"], answer["removed"], answer["affected"]) == (4 * 6, 0, [])
    listed = client.get("/api/v1/offices/lanstrop/slots?from=2026-12-01&to=2026-12-01").json[
        "slots"
    ]
    assert [slot["start"] for slot in listed] == [
        f"2026-12-01T{t}:00+01:00" for t in ("14:00", "14:30", "15:00", "15:30")
    ]
    book(client, "2026-12-01T14:00")


def test_a_removed_hour_moves_its_residents_to_the_front_of_the_waitlist(
    app, client, clock, tokens
):
    """Thursdays move to Wednesdays: Amina (Arabic) and Jan lose their Thursday; both are
    texted in their language, wait again with the time they first asked, and are offered
    the nearest Wednesday at once, before Karim, who joined after them."""
    amina = book(client, "2026-11-26T10:00", locale="ar")
    clock.advance(minutes=5)
    jan = book(client, "2026-12-03T08:30", locale="en")
    clock.advance(minutes=5)
    karim = join(client)  # offered a Thursday at once, which the change takes back
    clock.advance(hours=1)
    answer = call(
        client,
        "PUT",
        "/api/v1/staff/offices/lanstrop/hours",
        tokens["anna"],
        json={"hours": [{**LANSTROP_HOURS[0], "weekday": 2}]},
    ).json
    assert sorted(answer["affected"]) == sorted([amina, jan]) and answer["removed"] == 36
    with app.app_context():
        for booking_id, texts in ((amina, "المكتب مغلق"), (jan, "We are closed")):
            booking = db.session.get(Booking, booking_id)
            assert (
                booking.status == BookingStatus.CANCELLED
                and booking.cancelled_by == CancelledBy.SCHEDULE
            )
            assert booking.cancel_reason == "weekly hours changed"
            [message] = db.session.scalars(
                select(Message).where(
                    Message.booking_id == booking_id, Message.kind == "cancellation"
                )
            ).all()
            assert (
                message.locale == booking.locale
                and message.to == booking.phone
                and texts in message.body
            )
            entry = db.session.scalar(
                select(WaitlistEntry).where(WaitlistEntry.phone == booking.phone)
            )
            assert (
                entry.status == WaitlistStatus.WAITING
                and entry.requested_at == booking.requested_at
            )
        entries = {entry.phone: entry for entry in db.session.scalars(select(WaitlistEntry))}
        amina_entry = entries[db.session.get(Booking, amina).phone]
        jan_entry = entries[db.session.get(Booking, jan).phone]
        assert waitlist.position(amina_entry) == 1 and waitlist.position(jan_entry) == 2
        offered = {
            offer.waitlist_entry_id: offer
            for offer in db.session.scalars(
                select(Offer).where(Offer.status == OfferStatus.PENDING)
            )
        }
        # The nearest Wednesday times, in the order they first asked; Karim gets the next one.
        first_wednesday = datetime(2026, 11, 25, 8, 30, tzinfo=BERLIN)
        assert offered[amina_entry.id].slot.starts_at == first_wednesday
        assert offered[jan_entry.id].slot.starts_at == first_wednesday
        assert offered[
            db.session.scalar(select(WaitlistEntry.id).where(WaitlistEntry.token == karim))
        ].slot.starts_at == first_wednesday + timedelta(minutes=30)
        offer_sms = db.session.scalar(
            select(Message).where(Message.offer_id == offered[amina_entry.id].id)
        )
        assert offer_sms.locale == "ar"
        assert_seats_add_up()


def test_residents_the_office_moves_go_before_those_who_waited_longer(app, client, clock, tokens):
    """Olga has waited since before Amina booked; when the office takes Amina's Thursday
    away, Amina is put in front of Olga all the same: the office broke its word to her."""
    olga = join(client)  # offered a Thursday at once, which the change takes back
    clock.advance(minutes=5)
    amina = book(client, "2026-11-26T10:00", locale="ar")
    clock.advance(hours=1)
    call(
        client,
        "PUT",
        "/api/v1/staff/offices/lanstrop/hours",
        tokens["anna"],
        json={"hours": [{**LANSTROP_HOURS[0], "weekday": 2, "seats": 1}]},
    )
    with app.app_context():
        moved = db.session.scalar(
            select(WaitlistEntry).where(WaitlistEntry.phone == db.session.get(Booking, amina).phone)
        )
        waited = db.session.scalar(select(WaitlistEntry).where(WaitlistEntry.token == olga))
        assert (
            moved.requested_at > waited.requested_at
        )  # her wait is still measured from her booking
        assert waitlist.position(moved) == 1 and waitlist.position(waited) == 2
        offered = {
            offer.waitlist_entry_id: offer.slot.starts_at
            for offer in db.session.scalars(
                select(Offer).where(Offer.status == OfferStatus.PENDING)
            )
        }
        first_wednesday = datetime(2026, 11, 25, 8, 30, tzinfo=BERLIN)
        assert offered == {
            moved.id: first_wednesday,
            waited.id: first_wednesday + timedelta(minutes=30),
        }


def test_fewer_seats_withdraw_pending_offers_first_then_move_the_latest_bookings(
    app, client, clock, tokens
):
    early = book(client, "2026-11-26T09:00")
    clock.advance(minutes=1)
    late = book(client, "2026-11-26T09:00", locale="ar")
    clock.advance(minutes=1)
    waiting = join(client)  # offered the first free seat: 08:30
    clock.advance(minutes=1)
    after_the_offer = book(client, "2026-11-26T08:30")
    with app.app_context():
        [offer] = db.session.scalars(select(Offer)).all()
        assert offer.slot_id == slot_id("2026-11-26T08:30")
    preview = call(
        client,
        "PUT",
        "/api/v1/staff/offices/lanstrop/hours?dry_run=1",
        tokens["anna"],
        json=with_seats(1),
    ).json
    assert preview["affected"] == [late] and preview["offers_withdrawn"] == [offer.id]
    assert preview["details"]["offers"][0]["start"] == "2026-11-26T08:30:00+01:00"
    answer = call(
        client, "PUT", "/api/v1/staff/offices/lanstrop/hours", tokens["anna"], json=with_seats(1)
    ).json
    assert answer["shrunk"] == 36 and answer["affected"] == [late]
    with app.app_context():
        statuses = {b.id: b.status for b in db.session.scalars(select(Booking))}
        assert statuses == {early: "booked", late: "cancelled", after_the_offer: "booked"}
        assert db.session.get(Offer, offer.id).status == OfferStatus.WITHDRAWN
        # The waitlisted resident keeps their place and is offered another time; the moved
        # one asked first, so gets the nearest free time.
        entry = db.session.scalar(select(WaitlistEntry).where(WaitlistEntry.token == waiting))
        assert entry.status == WaitlistStatus.WAITING
        moved = db.session.scalar(
            select(WaitlistEntry).where(WaitlistEntry.phone == db.session.get(Booking, late).phone)
        )
        pending = {
            o.waitlist_entry_id: o.slot.starts_at
            for o in db.session.scalars(select(Offer).where(Offer.status == OfferStatus.PENDING))
        }
        assert pending[moved.id] == datetime(2026, 11, 26, 9, 30, tzinfo=BERLIN)
        assert pending[entry.id] == datetime(2026, 11, 26, 10, 0, tzinfo=BERLIN)
        assert all(
            slot.seats == 1 for slot in db.session.scalars(select(Slot).where(Slot.office_id == 1))
        )
        assert_seats_add_up()


def test_a_closure_over_a_booked_day_moves_residents_and_flags_walk_ins_without_phone(
    app, client, clock, tokens
):
    resident = book(client, "2026-12-03T09:00", locale="ar")
    with app.app_context():  # a walk-in booked by staff without a phone number
        target = db.session.get(Slot, slot_id("2026-12-03T09:00"))
        assert seats.take(target.id)
        walk_in = Booking(
            slot=target,
            office_id=target.office_id,
            name="Herr Walk-in",
            phone=None,
            locale="de",
            source=BookingSource.WALK_IN,
            requested_at=clock.now,
            created_at=clock.now,
            seated_at=clock.now,
        )
        db.session.add(walk_in)
        db.session.commit()
        walk_in = walk_in.id
    factories.log_in(client, "anna@example.org")
    page = client.get("/staff/offices/lanstrop/closures?lang=en").get_data(as_text=True)
    form = {
        "csrf_token": factories.csrf_token(page),
        "start_date": "2026-12-03",
        "end_date": "",
        "reason": "Team day",
    }
    preview = client.post("/staff/offices/lanstrop/closures", data={**form, "action": "preview"})
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "Call this person" in html and "Herr Walk-in" in html
    assert "Resident ar" in html and "Arabic" in html and "walk-in" in html
    fingerprint = re.search(r'name="fingerprint" type="hidden" value="(\w+)"', html)[1]
    saved = client.post(
        "/staff/offices/lanstrop/closures",
        data={**form, "action": "save", "fingerprint": fingerprint},
    )
    assert saved.status_code == 303
    with app.app_context():
        assert db.session.get(Booking, walk_in).status == BookingStatus.CANCELLED
        assert db.session.get(Booking, resident).cancel_reason == "office closed: Team day"
        assert (
            db.session.scalar(
                select(func.count()).select_from(Message).where(Message.booking_id == walk_in)
            )
            == 0
        )
        assert db.session.scalar(select(func.count()).select_from(WaitlistEntry)) == 1
        moved = db.session.get(Booking, resident)
        [message] = db.session.scalars(
            select(Message).where(Message.booking_id == resident, Message.kind == "cancellation")
        )
        assert message.locale == "ar"
        offer = db.session.scalar(select(Offer).where(Offer.phone == moved.phone))
        assert offer.slot.starts_at == datetime(2026, 11, 26, 8, 30, tzinfo=BERLIN)
        assert not slots.slots_between(
            moved.office, datetime(2026, 12, 3, tzinfo=BERLIN), datetime(2026, 12, 4, tzinfo=BERLIN)
        )
        assert_seats_add_up()
    assert "Team day" in client.get("/staff/offices/lanstrop/closures?lang=en").get_data(
        as_text=True
    )


def test_lanstrop_closed_on_24_and_31_december_cannot_be_booked_then(app, client, tokens):
    with app.app_context():
        christmas_eve = slot_id("2026-12-24T08:30")
    for day in ("2026-12-24", "2026-12-31"):
        response = call(
            client,
            "POST",
            "/api/v1/staff/offices/lanstrop/closures",
            tokens["anna"],
            json={"start_date": day, "reason": "Weihnachten"},
        )
        assert (
            response.status_code == 201
            and response.json["removed"] == 6
            and response.json["closure"]["end_date"] == day
        )
    assert (
        client.get("/api/v1/offices/lanstrop/slots?from=2026-12-24&to=2026-12-31").json["slots"]
        == []
    )
    refused = client.post(
        "/api/v1/bookings",
        json={"slot_id": christmas_eve, "name": "A", "phone": factories.mobile(), "locale": "de"},
    )
    assert refused.status_code == 409 and refused.json["code"] == "slot_removed"
    with app.app_context():  # materialising again makes nothing of those days
        assert jobs.materialise_slots() == 0
    listed = call(
        client, "GET", "/api/v1/staff/offices/lanstrop/closures?lang=en", tokens["anna"]
    ).json
    assert [c["start_date"] for c in listed["closures"]] == ["2026-12-24", "2026-12-31"]
    assert {"date": "2026-12-25", "name": "Christmas Day"} in listed["holidays"]
    german = call(
        app.test_client(), "GET", "/api/v1/staff/offices/lanstrop/closures", tokens["anna"]
    ).json
    assert {"date": "2026-12-25", "name": "Erster Weihnachtstag"} in german["holidays"]


def test_deleting_a_closure_brings_its_times_back(app, client, tokens):
    created = call(
        client,
        "POST",
        "/api/v1/staff/offices/lanstrop/closures",
        tokens["anna"],
        json={"start_date": "2026-12-10", "end_date": "2026-12-11", "reason": "Fortbildung"},
    ).json
    assert created["removed"] == 6
    closure = created["closure"]["id"]
    path = f"/api/v1/staff/closures/{closure}"
    assert call(client, "DELETE", path + "?dry_run=true", tokens["anna"]).json["added"] == 6
    assert (
        client.get("/api/v1/offices/lanstrop/slots?from=2026-12-10&to=2026-12-10").json["slots"]
        == []
    )
    answer = call(client, "DELETE", path, tokens["anna"])
    assert (
        answer.status_code == 200 and answer.json["added"] == 6 and answer.json["dry_run"] is False
    )
    listed = client.get("/api/v1/offices/lanstrop/slots?from=2026-12-10&to=2026-12-10").json[
        "slots"
    ]
    assert len(listed) == 6 and {slot["available"] for slot in listed} == {2}
    book(client, "2026-12-10T08:30")
    assert call(client, "DELETE", path, tokens["anna"]).status_code == 404


def test_a_closure_is_removed_through_the_page_in_two_steps(app, client, tokens):
    created = call(
        client,
        "POST",
        "/api/v1/staff/offices/lanstrop/closures",
        tokens["anna"],
        json={"start_date": "2026-12-10", "reason": "Fortbildung"},
    ).json["closure"]["id"]
    factories.log_in(client, "anna@example.org")
    page = client.get("/staff/offices/lanstrop/closures?lang=en").get_data(as_text=True)
    assert "Fortbildung" in page
    path = f"/staff/offices/lanstrop/closures/{created}/delete"
    preview = client.post(path, data={"csrf_token": factories.csrf_token(page)})
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "Times added: 6" in html
    with app.app_context():
        assert db.session.get(Closure, created) is not None
    fingerprint = re.search(r'name="fingerprint" type="hidden" value="(\w+)"', html)[1]
    saved = client.post(
        path,
        data={
            "csrf_token": factories.csrf_token(html),
            "action": "save",
            "fingerprint": fingerprint,
        },
    )
    assert saved.status_code == 303
    with app.app_context():
        assert db.session.get(Closure, created) is None
        assert (
            len(
                slots.slots_between(
                    db.session.get(Slot, 1).office,
                    datetime(2026, 12, 10, tzinfo=BERLIN),
                    datetime(2026, 12, 11, tzinfo=BERLIN),
                )
            )
            == 6
        )


def test_changes_are_audited_without_personal_data(app, client, tokens):
    moved = book(client, "2026-11-26T10:30")
    call(
        client,
        "PUT",
        "/api/v1/staff/offices/lanstrop/hours",
        tokens["anna"],
        json=with_seats(2, end="10:00"),
    )
    created = call(
        client,
        "POST",
        "/api/v1/staff/offices/lanstrop/closures",
        tokens["anna"],
        json={"start_date": "2026-12-10", "reason": "Team day"},
    ).json["closure"]["id"]
    call(client, "DELETE", f"/api/v1/staff/closures/{created}", tokens["anna"])
    call(
        client,
        "PUT",
        "/api/v1/staff/offices/lanstrop/hours",
        tokens["anna"],
        json=with_seats(2, end="10:00"),
    )
    with app.app_context():
        entries = db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action.in_(["hours.replace", "closure.create", "closure.delete"]))
            .order_by(AuditEntry.id)
        ).all()
        # Saving the same hours again changes nothing and is not recorded.
        assert [entry.action for entry in entries] == [
            "hours.replace",
            "closure.create",
            "closure.delete",
        ]
        replace, create, delete = entries
        anna = db.session.scalar(select(AuditEntry.staff_id).where(AuditEntry.id == replace.id))
        assert anna is not None and {entry.office_id for entry in entries} == {1}
        assert replace.before == {"hours": LANSTROP_HOURS}
        assert replace.after["hours"][0]["end"] == "10:00" and replace.after["affected"] == [moved]
        assert (create.record_type, create.record_id) == ("closure", created) and create.after[
            "start_date"
        ] == "2026-12-10"
        assert (delete.record_type, delete.record_id) == ("closure", created) and delete.after[
            "added"
        ] == 6 - 3
        booking = db.session.get(Booking, moved)
        for entry in entries:
            dumped = json.dumps([entry.before, entry.after])
            assert booking.phone not in dumped and booking.name not in dumped


# --- the pages ---


def hours_form(html, **changes):
    """The hours form as the browser would send it, with ``changes`` ({"hours-0-seats": "1"})."""
    data = {}
    for tag in re.findall(r"<input[^>]*>", html):
        name, value = re.search(r'name="([^"]+)"', tag), re.search(r'value="([^"]*)"', tag)
        if name and ('type="checkbox"' not in tag or "checked" in tag):
            data.setdefault(name[1], []).append(value[1] if value else "")
    for select_tag in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        data[select_tag[0]] = re.findall(
            r'<option selected value="([^"]*)"', select_tag[1]
        ) or re.findall(r'<option value="([^"]*)" selected', select_tag[1])
    data.update({name: [value] for name, value in changes.items()})
    return data


def test_hours_are_changed_through_the_page_in_two_steps(app, client, tokens):
    factories.log_in(client, "anna@example.org")
    german = client.get("/staff/offices/lanstrop/hours")
    assert german.status_code == 200 and 'lang="de"' in german.get_data(as_text=True)
    assert "Donnerstag" in german.get_data(as_text=True) and "Arabisch" in german.get_data(
        as_text=True
    )
    page = client.get("/staff/offices/lanstrop/hours?lang=en").get_data(as_text=True)
    assert "Thursday" in page and "Arabic" in page and 'value="08:30"' in page
    form = hours_form(
        page,
        **{
            "hours-0-seats": "1",
            "hours-1-weekday": "1",
            "hours-1-start": "14:00",
            "hours-1-end": "15:00",
            "hours-1-languages": "ar",
        },
    )
    form["hours-0-languages"] = ["en"]
    preview = client.post("/staff/offices/lanstrop/hours", data={**form, "action": "preview"})
    html = preview.get_data(as_text=True)
    assert (
        preview.status_code == 200
        and "Times added: 12" in html
        and "Times with fewer seats: 36" in html
    )
    assert "No booked appointment is affected" in html
    with app.app_context():
        assert (
            db.session.scalar(select(func.count()).select_from(WeeklyHours)) == 2
        )  # one per office, as before
    form.update(hours_form(html))
    saved = client.post("/staff/offices/lanstrop/hours", data={**form, "action": "save"})
    assert saved.status_code == 303
    page = client.get("/staff/offices/lanstrop/hours").get_data(as_text=True)
    assert "Saved: 12 times added, 0 removed, 36 with fewer seats; 0 appointments moved." in page
    answer = call(client, "GET", "/api/v1/staff/offices/lanstrop/hours", tokens["anna"]).json[
        "hours"
    ]
    assert [(h["weekday"], h["seats"], h["languages"]) for h in answer] == [
        (1, 1, ["ar"]),
        (3, 1, ["en"]),
    ]


def test_saving_shows_a_new_preview_when_something_changed_since(app, client, tokens):
    factories.log_in(client, "anna@example.org")
    page = client.get("/staff/offices/lanstrop/hours?lang=en").get_data(as_text=True)
    form = hours_form(page, **{"hours-0-seats": "1"})
    book(client, "2026-11-26T08:30")
    html = client.post(
        "/staff/offices/lanstrop/hours", data={**form, "action": "preview"}
    ).get_data(as_text=True)
    assert "No booked appointment is affected" in html
    form.update(hours_form(html))
    late = book(client, "2026-11-26T08:30")  # the slot is full now: saving would move someone
    stale = client.post("/staff/offices/lanstrop/hours", data={**form, "action": "save"})
    html = stale.get_data(as_text=True)
    assert (
        stale.status_code == 200
        and "Something has changed since your preview" in html
        and "Resident de" in html
    )
    with app.app_context():
        assert db.session.get(Booking, late).status == BookingStatus.BOOKED
    form.update(hours_form(html))
    assert (
        client.post("/staff/offices/lanstrop/hours", data={**form, "action": "save"}).status_code
        == 303
    )
    with app.app_context():
        assert db.session.get(Booking, late).status == BookingStatus.CANCELLED


def test_a_mistake_in_a_row_is_shown_beside_it_and_nothing_is_saved(app, client, tokens):
    factories.log_in(client, "anna@example.org")
    page = client.get("/staff/offices/lanstrop/hours?lang=en").get_data(as_text=True)
    form = hours_form(page, **{"hours-1-start": "14:00", "hours-1-end": "13:00"})
    response = client.post("/staff/offices/lanstrop/hours", data={**form, "action": "preview"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(
        r'id="hours-1-end"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*id="hours-1-end"', html
    )
    assert 'id="hours-1-end-error">Must be later than the start.' in html
    removed = hours_form(page, **{"hours-0-remove": "y"})
    html = client.post(
        "/staff/offices/lanstrop/hours", data={**removed, "action": "preview"}
    ).get_data(as_text=True)
    assert "Times removed: 36" in html


# --- the API: input and permissions ---


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        "text",
        {"hours": None},
        {"hours": "x"},
        {"hours": [1]},
        {"hours": [{}]},
        {
            "hours": [
                {
                    "weekday": 10**40,
                    "start": "08:00",
                    "end": "09:00",
                    "slot_minutes": 30,
                    "seats": 1,
                }
            ]
        },
        {
            "hours": [
                {
                    "weekday": 1,
                    "start": 8,
                    "end": [],
                    "slot_minutes": "x",
                    "seats": {},
                    "valid_from": 3,
                }
            ]
        },
        {
            "hours": [
                {
                    "weekday": 1,
                    "start": "08:00",
                    "end": "09:00",
                    "slot_minutes": 30,
                    "seats": 1,
                    "valid_from": "0001-01-01",
                    "valid_until": "9999-12-31",
                    "languages": [None],
                }
            ]
        },
        {
            "hours": [
                {**LANSTROP_HOURS[0], "valid_from": "9999-12-31", "valid_until": "9999-12-31"}
            ]
            * 51
        },
    ],
)
def test_no_body_makes_the_hours_api_fail(client, tokens, body):
    response = call(
        client, "PUT", "/api/v1/staff/offices/lanstrop/hours", tokens["anna"], json=body
    )
    assert response.status_code in (400, 422) and response.json["code"] in ("invalid", "bad_json")


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"start_date": "9999-12-31", "end_date": "9999-12-31"}, 201),
        ({"start_date": "2026-12-10", "end_date": "9999-12-31", "reason": "r" * 200}, 201),
        ({"start_date": "2026-13-01"}, 422),
        ({"start_date": 20261201}, 422),
        ({"start_date": "2026-11-01"}, 422),
        ({"start_date": "2026-12-10", "end_date": "2026-12-09"}, 422),
        ({"start_date": "2026-12-10", "reason": "r" * 201}, 422),
        ({"start_date": "2026-12-10", "reason": ["x"]}, 422),
        ({}, 422),
        ("x", 400),
    ],
)
def test_closures_api_answers_every_input_without_a_5xx(client, tokens, body, status):
    response = call(
        client, "POST", "/api/v1/staff/offices/lanstrop/closures", tokens["anna"], json=body
    )
    assert response.status_code == status, response.json
    assert call(
        client,
        "POST",
        "/api/v1/staff/offices/lanstrop/closures?dry_run=perhaps",
        tokens["anna"],
        json=body,
    ).status_code in (400, 422)


def test_dry_run_saves_nothing(app, client, tokens):
    for method, path, body in (
        ("PUT", "/api/v1/staff/offices/lanstrop/hours?dry_run=true", with_seats(1)),
        (
            "POST",
            "/api/v1/staff/offices/lanstrop/closures?dry_run=true",
            {"start_date": "2026-11-26", "end_date": "2026-12-31"},
        ),
    ):
        assert call(client, method, path, tokens["anna"], json=body).json["dry_run"] is True
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Closure)) == 0
        assert (
            db.session.scalar(
                select(func.count()).select_from(Slot).where(Slot.removed_at.is_not(None))
            )
            == 0
        )
        assert (
            db.session.scalar(select(func.min(Slot.seats))) == 1
        )  # Nordstadt's, Lanstrop's stay 2
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action.startswith("closure"))
            )
            == 0
        )


@pytest.mark.parametrize("who", [None, "bernd", "anna", "admin"])
def test_only_the_office_s_staff_and_administrators_reach_hours_and_closures(app, tokens, who):
    expected = {None: 401, "bernd": 403, "anna": 200, "admin": 200}[who]
    client = app.test_client()
    headers = {"Authorization": f"Bearer {tokens[who]}"} if who else {}
    with app.app_context():
        closure = factories.closure(db.session.get(Slot, 1).office, datetime(2026, 12, 17).date())
        db.session.commit()
        closure = closure.id
    for method, path, body in (
        ("GET", "/api/v1/staff/offices/lanstrop/hours", None),
        ("PUT", "/api/v1/staff/offices/lanstrop/hours?dry_run=true", {"hours": LANSTROP_HOURS}),
        ("GET", "/api/v1/staff/offices/lanstrop/closures", None),
        (
            "POST",
            "/api/v1/staff/offices/lanstrop/closures?dry_run=true",
            {"start_date": "2026-12-10"},
        ),
        ("DELETE", f"/api/v1/staff/closures/{closure}?dry_run=true", None),
    ):
        response = client.open(path, method=method, headers=headers, json=body)
        assert response.status_code == (
            201 if expected == 200 and method == "POST" and "dry_run" not in path else expected
        ), (method, path)
        assert response.is_json
    if who:
        factories.log_in(client, f"{who}@example.org")
    for path in ("/staff/offices/lanstrop/hours", "/staff/offices/lanstrop/closures"):
        response = client.get(path)
        assert response.status_code == {None: 303, "bernd": 403, "anna": 200, "admin": 200}[who]
    if who is None:
        assert client.post("/staff/offices/lanstrop/closures").status_code in (303, 400)
    assert client.get("/staff/offices/nowhere/hours").status_code == (303 if who is None else 404)
    assert (
        call(
            client, "DELETE", "/api/v1/staff/closures/99999999999999999999", tokens["anna"]
        ).status_code
        == 404
    )


# --- materialising, the race, the SMS ---


def test_materialising_follows_the_new_hours(app, client, clock, tokens):
    call(
        client,
        "PUT",
        "/api/v1/staff/offices/lanstrop/hours",
        tokens["anna"],
        json={"hours": [{**LANSTROP_HOURS[0], "weekday": 0, "start": "09:00", "end": "10:00"}]},
    )
    clock.advance(days=7)
    with app.app_context():
        assert jobs.materialise_slots() == 2 + 2  # Lanstrop's next Monday, Nordstadt's next Tuesday
        monday = datetime(2027, 1, 4, 9, 0, tzinfo=BERLIN)
        assert db.session.scalar(select(Slot.seats).where(Slot.starts_at == monday)) == 2


@pytest.mark.parametrize("language", ["de", "en"])
def test_the_closed_sms_fits_two_parts(ctx, clock, language):
    longest = max((name for _slug, name, *_rest in OFFICES), key=len)
    office = factories.office(slug="innenstadt", name=longest)
    target = factories.slot(office, datetime(2026, 9, 30, 11, 30))
    booking = Booking(
        slot=target,
        office=office,
        name="A",
        phone="+4915100000001",
        locale=language,
        requested_at=clock.now,
        created_at=clock.now,
        seated_at=clock.now,
    )
    db.session.add(booking)
    db.session.flush()
    notify.booking_closed(booking, clock.now)
    [message] = db.session.scalars(select(Message)).all()
    assert is_gsm7(message.body) and segments(message.body) <= 2


def test_a_closure_racing_residents_booking_that_day_leaves_no_seat_sold_twice(app, clock, tokens):
    """Residents book 26 November, one attempt after another, while staff close that day.
    Each attempt either got a seat before the closure (and was moved: cancelled, back on the
    waitlist) or is refused; no seat is held twice, and none in a time that is gone."""
    with app.app_context():
        targets = [
            slot_id(f"2026-11-26T{t}")
            for t in ("08:30", "09:00", "09:30", "10:00", "10:30", "11:00")
        ]
    barrier = threading.Barrier(RESIDENTS + 1)
    phones = [[factories.mobile() for _ in range(ROUNDS)] for _ in range(RESIDENTS)]

    def act(n):
        client = app.test_client()
        barrier.wait()
        if n == RESIDENTS:
            return [
                call(
                    client,
                    "POST",
                    "/api/v1/staff/offices/lanstrop/closures",
                    tokens["anna"],
                    json={"start_date": "2026-11-26", "reason": "Wasserschaden"},
                ).status_code
            ]
        return [
            client.post(
                "/api/v1/bookings",
                json={
                    "slot_id": targets[(n + attempt) % len(targets)],
                    "name": "Resident",
                    "phone": phones[n][attempt],
                    "locale": "de",
                },
            ).status_code
            for attempt in range(ROUNDS)
        ]

    with ThreadPoolExecutor(max_workers=RESIDENTS + 1) as pool:
        codes = list(pool.map(act, range(RESIDENTS + 1)))
    assert codes[-1] == [201] and {code for attempts in codes[:-1] for code in attempts} <= {
        201,
        409,
    }
    with app.app_context():
        assert_seats_add_up()
        for numbers, attempts in zip(phones, codes, strict=False):
            for phone, code in zip(numbers, attempts, strict=True):
                booking = db.session.scalar(
                    select(Booking).where(Booking.phone == "+49151" + phone[-8:])
                )
                if code == 409:
                    assert booking is None
                    continue
                assert (
                    booking.status == BookingStatus.CANCELLED
                    and booking.cancelled_by == CancelledBy.SCHEDULE
                )
                entry = db.session.scalar(
                    select(WaitlistEntry).where(WaitlistEntry.phone == booking.phone)
                )
                assert (
                    entry.status == WaitlistStatus.WAITING
                    and entry.requested_at == booking.requested_at
                )
        assert all(
            slot.removed_at is not None
            for slot in db.session.scalars(select(Slot).where(Slot.id.in_(targets)))
        )
