"""The office desk: walk-ins and callers, cancelling for a resident, attendance, and the
waitlist by hand, through the pages and the staff API; who may do it; what the audit log keeps."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import (
    Booking,
    BookingSource,
    BookingStatus,
    Message,
    Offer,
    OfferStatus,
    Office,
    Slot,
    WaitlistEntry,
    WaitlistStatus,
)
from scheduler.services import offer_answers, reminders, retention

from . import factories
from .outbox import deliver
from .staff_desk import (
    THURSDAY,
    audit_entries,
    book,
    form_token,
    join,
    logged_in,
    make_desk,
    messages_to,
)

ARABIC = re.compile(r"[\u0600-\u06FF]")


@pytest.fixture
def config_overrides(request):
    if "limited" in request.keywords:
        return {"RATELIMIT_ENABLED": True, "RATELIMIT_BOOKING": "1 per minute"}
    return {}


@pytest.fixture
def desk(app):
    return make_desk(app)


@pytest.fixture
def slots(app, desk):
    """Lanstrop on Thursday: 09:00 with one seat, 09:30 with two; Nordstadt: one slot."""
    with app.app_context():
        lanstrop = db.session.get(Office, desk.lanstrop)
        nine = factories.slot(lanstrop, THURSDAY, seats=1)
        half_past = factories.slot(lanstrop, THURSDAY + timedelta(minutes=30), seats=2)
        elsewhere = factories.slot(db.session.get(Office, desk.nordstadt), THURSDAY, seats=1)
        db.session.commit()
        return {"nine": nine.id, "half_past": half_past.id, "elsewhere": elsewhere.id}


def e164(typed):
    """How ``factories.mobile()`` numbers are stored."""
    return "+49" + typed.replace(" ", "")[1:]


def booking_of(booking_id):
    return db.session.get(Booking, booking_id)


def walk_in_form(client, slot_id, **fields):
    token = form_token(client, "/staff/offices/lanstrop/walk-in")
    data = {
        "csrf_token": token,
        "slot_id": slot_id,
        "name": "Hana Ali",
        "phone": "",
        "locale": "ar",
        "topic": "",
        "source": "walk_in",
        **fields,
    }
    return client.post("/staff/offices/lanstrop/walk-in", data=data)


# --- Walk-ins and callers -------------------------------------------------------------------


def test_a_walk_in_without_a_number_is_booked_without_an_sms(app, desk, slots, clock):
    client = logged_in(app)
    page = client.get(f"/staff/offices/lanstrop/walk-in?slot={slots['half_past']}").get_data(
        as_text=True
    )
    assert f'<option selected value="{slots["half_past"]}">' in page
    assert (
        ">Arabic</option>" in page and ">German</option>" in page
    )  # languages named in the page's language
    assert f'value="{slots["elsewhere"]}"' not in re.search(
        r'<select id="slot_id".*?</select>', page, re.S
    ).group(0)

    response = walk_in_form(client, slots["half_past"], topic="Wohnung")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(
        "/staff/offices/lanstrop/agenda?date=2026-11-26&view=day"
    )
    assert "No SMS: no number was given." in client.get(response.headers["Location"]).get_data(
        as_text=True
    )
    with app.app_context():
        made = db.session.scalar(select(Booking))
        assert (made.name, made.phone, made.locale, made.topic) == (
            "Hana Ali",
            None,
            "ar",
            "Wohnung",
        )
        assert made.source == BookingSource.WALK_IN and made.staff_id is not None
        assert made.seated_at == clock.now and made.requested_at == clock.now
        assert db.session.get(Slot, slots["half_past"]).seats_taken == 1
        assert db.session.scalars(select(Message)).all() == []  # nothing to send, nothing sent


@pytest.mark.limited
def test_callers_are_booked_by_api_with_an_sms_and_no_rate_limit(app, desk, slots, clock):
    client = app.test_client()
    phones = [factories.mobile() for _ in range(3)]
    for phone in phones[:2]:
        response = client.post(
            "/api/v1/staff/offices/lanstrop/bookings",
            headers=desk.headers("anna"),
            json={
                "slot_id": slots["half_past"],
                "name": "Caller",
                "phone": phone,
                "locale": "ar",
                "source": "phone",
            },
        )
        assert response.status_code == 201, response.json
        assert response.json["source"] == "phone" and response.json["token"] and response.json["id"]
        assert response.json["phone"].startswith("+49151")
    # The page is not limited either; the residents' booking API is, in this very app.
    assert walk_in_form(logged_in(app), slots["nine"], phone=phones[2]).status_code == 303
    resident = {
        "slot_id": slots["elsewhere"],
        "name": "R",
        "phone": factories.mobile(),
        "locale": "de",
    }
    assert client.post("/api/v1/bookings", json=resident).status_code == 201
    assert (
        client.post("/api/v1/bookings", json={**resident, "phone": factories.mobile()}).status_code
        == 429
    )
    with app.app_context():
        for phone in phones:
            [confirmation] = messages_to(e164(phone), "confirmation")
            assert confirmation.locale == "ar" and ARABIC.search(confirmation.body)
        assert {
            b.source
            for b in db.session.scalars(select(Booking).where(Booking.office_id == desk.lanstrop))
        } == {BookingSource.PHONE, BookingSource.WALK_IN}


def test_a_walk_in_can_join_a_time_that_has_begun_but_not_one_that_has_ended(
    app, desk, slots, clock
):
    client, headers = app.test_client(), desk.headers("anna")

    def walk_in(slot_id):
        return client.post(
            "/api/v1/staff/offices/lanstrop/bookings",
            headers=headers,
            json={"slot_id": slot_id, "name": "Late Comer", "locale": "de"},
        )

    clock.set("2026-11-26T09:20")
    assert walk_in(slots["nine"]).status_code == 201
    assert walk_in(slots["nine"]).json["code"] == "slot_full"  # never oversold
    clock.set("2026-11-26T09:30")
    assert walk_in(slots["nine"]).json["code"] == "slot_past"
    assert walk_in(slots["elsewhere"]).status_code == 404  # another office's time
    assert walk_in(10**30).status_code == 404
    with app.app_context():
        assert db.session.get(Slot, slots["nine"]).seats_taken == 1


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"slot_id", "name", "locale"}),
        ({"slot_id": "1", "name": 5, "locale": "de"}, {"slot_id", "name"}),
        (
            {
                "name": " ",
                "phone": "030 1234567",
                "locale": "xx",
                "source": "online",
                "topic": "x" * 501,
            },
            {"name", "phone", "locale", "source", "topic"},
        ),
    ],
)
def test_bad_walk_ins_are_refused_field_by_field(app, desk, slots, body, fields):
    body = {"slot_id": slots["half_past"], **body} if "slot_id" not in body and body else body
    response = app.test_client().post(
        "/api/v1/staff/offices/lanstrop/bookings", headers=desk.headers("anna"), json=body
    )
    assert response.status_code == 422 and set(response.json["fields"]) == fields


def test_the_walk_in_page_shows_mistakes_next_to_their_fields(app, desk, slots):
    response = walk_in_form(logged_in(app), slots["half_past"], name="", phone="12")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="name-error"' in page and 'id="phone-error"' in page


# --- Cancelling for a resident ----------------------------------------------------------------


@pytest.fixture
def full_thursday(app, desk, slots, clock):
    """09:00 booked by Amina (Arabic); Olena waits for any time, Karim after her."""
    with app.app_context():
        nine = db.session.get(Slot, slots["nine"])
        half_past = db.session.get(Slot, slots["half_past"])
        amina = book(nine, clock.now, name="Amina Khalil", locale="ar", topic="Kita place")
        book(half_past, clock.now, name="Zoran")
        book(half_past, clock.now, name="Zeynep")
        olena = join(
            db.session.get(Office, desk.lanstrop), clock.now, name="Olena Koval", locale="en"
        )
        karim = join(
            db.session.get(Office, desk.lanstrop), clock.now, name="Karim Said", locale="ar"
        )
        db.session.commit()
        return {"amina": amina.id, "olena": olena.id, "karim": karim.id}


def test_staff_cancel_with_a_reason_and_the_seat_goes_to_the_waitlist(
    app, desk, slots, full_thursday
):
    client = logged_in(app)
    path = f"/staff/bookings/{full_thursday['amina']}/cancel"
    page = client.get(path).get_data(as_text=True)
    assert "Amina Khalil" in page and "Kita place" in page and "Arabic" in page
    refused = client.post(path, data={"csrf_token": factories.csrf_token(page), "reason": "  "})
    assert refused.status_code == 422 and "Please give a reason." in refused.get_data(as_text=True)

    response = client.post(
        path, data={"csrf_token": factories.csrf_token(page), "reason": "She called: ill"}
    )
    assert response.status_code == 303
    assert "The appointment is cancelled." in client.get(response.headers["Location"]).get_data(
        as_text=True
    )
    with app.app_context():
        amina = booking_of(full_thursday["amina"])
        assert amina.status == BookingStatus.CANCELLED
        assert (amina.cancelled_by, amina.cancel_reason) == ("staff", "She called: ill")
        assert amina.staff_id is not None
        [sms] = messages_to(amina.phone, "cancellation")
        assert sms.locale == "ar" and ARABIC.search(sms.body)
        # The freed seat is offered to the first person waiting, in the same request.
        olena = db.session.get(WaitlistEntry, full_thursday["olena"])
        [offer] = db.session.scalars(select(Offer).where(Offer.waitlist_entry_id == olena.id)).all()
        assert offer.status == OfferStatus.PENDING and offer.slot_id == slots["nine"]
        assert messages_to(olena.phone, "offer")
        assert (
            db.session.scalars(
                select(Offer).where(Offer.waitlist_entry_id == full_thursday["karim"])
            ).all()
            == []
        )
    assert client.get(path).get_data(as_text=True).count("can no longer be cancelled") == 1


def test_the_api_cancels_with_a_reason_once_and_not_after_the_start(
    app, desk, slots, full_thursday, clock
):
    client, headers = app.test_client(), desk.headers("anna")
    path = f"/api/v1/staff/bookings/{full_thursday['amina']}/cancel"
    assert set(client.post(path, headers=headers, json={}).json["fields"]) == {"reason"}
    assert client.post(path, headers=headers, data="[]").status_code == 400
    response = client.post(path, headers=headers, json={"reason": "Moved to Bochum"})
    assert response.status_code == 200
    assert (
        response.json["status"],
        response.json["cancelled_by"],
        response.json["cancel_reason"],
    ) == ("cancelled", "staff", "Moved to Bochum")
    assert (
        client.post(path, headers=headers, json={"reason": "again"}).json["cancel_reason"]
        == "Moved to Bochum"
    )
    with app.app_context():
        assert len(messages_to(booking_of(full_thursday["amina"]).phone, "cancellation")) == 1
        zoran = db.session.scalar(select(Booking).where(Booking.name == "Zoran"))
    clock.set("2026-11-26T09:31")
    late = client.post(
        f"/api/v1/staff/bookings/{zoran.id}/cancel", headers=headers, json={"reason": "x"}
    )
    assert late.status_code == 409 and late.json["code"] == "too_late"


# --- Attendance -----------------------------------------------------------------------------


def test_attendance_is_marked_from_the_start_and_corrected_the_same_day(
    app, desk, slots, full_thursday, clock
):
    client, headers = app.test_client(), desk.headers("anna")
    browser = logged_in(app)
    path = f"/api/v1/staff/bookings/{full_thursday['amina']}/attendance"
    agenda = "/staff/offices/lanstrop/agenda?date=2026-11-26"

    clock.set("2026-11-26T08:59")
    early = client.post(path, headers=headers, json={"status": "attended"})
    assert early.status_code == 409 and early.json["code"] == "too_early"
    assert "Did not come" not in browser.get(agenda).get_data(as_text=True)

    clock.set("2026-11-26T09:05")
    page = browser.get(agenda).get_data(as_text=True)
    assert 'value="attended"' in page and 'value="no_show"' in page
    response = browser.post(
        f"/staff/bookings/{full_thursday['amina']}/attendance",
        data={"csrf_token": factories.csrf_token(page), "status": "attended"},
    )
    assert response.status_code == 303
    page = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "Marked as attended." in page and "Correct: did not come" in page

    clock.set("2026-11-26T23:59")
    corrected = client.post(path, headers=headers, json={"status": "no_show"})
    assert corrected.status_code == 200 and corrected.json["status"] == "no_show"
    assert corrected.json["attendance_marked_at"] == "2026-11-26T23:59:00+01:00"
    assert client.post(path, headers=headers, json={"status": "booked"}).status_code == 422
    assert client.post(path, headers=headers, json={"status": ["attended"]}).status_code == 422

    clock.set("2026-11-27T00:00")
    late = client.post(path, headers=headers, json={"status": "attended"})
    assert late.status_code == 409 and late.json["code"] == "too_late"
    assert "Correct:" not in browser.get(agenda).get_data(as_text=True)
    with app.app_context():
        assert booking_of(full_thursday["amina"]).status == BookingStatus.NO_SHOW
        changes = [(e.before, e.after) for e in audit_entries("booking.attendance")]
        assert changes == [
            ({"status": "booked"}, {"status": "attended"}),
            ({"status": "attended"}, {"status": "no_show"}),
        ]


def test_a_cancelled_booking_has_no_attendance(app, desk, slots, full_thursday, clock):
    client, headers = app.test_client(), desk.headers("anna")
    client.post(
        f"/api/v1/staff/bookings/{full_thursday['amina']}/cancel",
        headers=headers,
        json={"reason": "ill"},
    )
    clock.set("2026-11-26T09:05")
    response = client.post(
        f"/api/v1/staff/bookings/{full_thursday['amina']}/attendance",
        headers=headers,
        json={"status": "no_show"},
    )
    assert response.status_code == 409 and response.json["code"] == "cancelled"


# --- The waitlist by hand -------------------------------------------------------------------


@pytest.fixture
def mondays_only(app, desk, slots, clock):
    """Olena waits for a Monday; Thursday 09:30 has two free seats she would never be offered."""
    with app.app_context():
        book(db.session.get(Slot, slots["nine"]), clock.now, name="Amina Khalil")
        olena = join(
            db.session.get(Office, desk.lanstrop),
            clock.now,
            name="Olena Koval",
            locale="ar",
            weekdays=[0],
        )
        db.session.commit()
        assert db.session.scalars(select(Offer)).all() == []
        return olena.id


def test_staff_offer_a_seat_outside_the_preferences_with_the_usual_sms_and_hold(
    app, desk, slots, mondays_only
):
    client = logged_in(app)
    page = client.get("/staff/offices/lanstrop/waitlist").get_data(as_text=True)
    assert "Olena Koval" in page and "Mon" in page and "Arabic" in page
    times = re.search(r'<select id="slot_id".*?</select>', page, re.S).group(0)
    assert (
        f'value="{slots["half_past"]}"' in times and f'value="{slots["nine"]}"' not in times
    )  # full
    response = client.post(
        "/staff/offices/lanstrop/waitlist/offer",
        data={
            "csrf_token": factories.csrf_token(page),
            "entry_id": mondays_only,
            "slot_id": slots["half_past"],
        },
    )
    assert response.status_code == 303
    deliver(app)  # the scheduler's dispatcher sends the offer; its hold starts then
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "is offered and held" in page and "held until" in page
    with app.app_context():
        [offer] = db.session.scalars(select(Offer)).all()
        assert (offer.waitlist_entry_id, offer.slot_id, offer.status) == (
            mondays_only,
            slots["half_past"],
            "pending",
        )
        assert offer.hold_minutes == 480 and offer.sent_at is not None  # three days ahead: 8 hours
        assert db.session.get(Slot, slots["half_past"]).seats_taken == 1  # held
        entry = db.session.get(WaitlistEntry, mondays_only)
        [sms] = messages_to(entry.phone, "offer")
        assert sms.locale == "ar" and f"/a/{offer.token}" in sms.body
        [entry_audit] = audit_entries("offer.by_hand")
        assert entry_audit.after["slot_id"] == slots["half_past"]
    # One open offer at a time.
    again = app.test_client().post(
        f"/api/v1/staff/waitlist/{mondays_only}/offer",
        headers=desk.headers("anna"),
        json={"slot_id": slots["half_past"]},
    )
    assert again.status_code == 409 and again.json["code"] == "offer_pending"


def test_the_api_offers_by_hand_and_refuses_what_cannot_be_offered(
    app, desk, slots, mondays_only, clock
):
    client, headers = app.test_client(), desk.headers("anna")
    path = f"/api/v1/staff/waitlist/{mondays_only}/offer"
    assert (
        client.post(path, headers=headers, json={"slot_id": slots["nine"]}).json["code"]
        == "slot_full"
    )
    assert (
        client.post(path, headers=headers, json={"slot_id": slots["elsewhere"]}).status_code == 404
    )
    assert client.post(path, headers=headers, json={"slot_id": "x"}).status_code == 422
    with app.app_context():
        soon = factories.slot(
            db.session.get(Office, desk.lanstrop), clock.now + timedelta(hours=2)
        ).id
        db.session.commit()
    assert client.post(path, headers=headers, json={"slot_id": soon}).json["code"] == "too_close"

    response = client.post(path, headers=headers, json={"slot_id": slots["half_past"]})
    assert response.status_code == 201
    assert (
        response.json["start"] == "2026-11-26T09:30:00+01:00"
        and response.json["hold_minutes"] == 480
    )
    with app.app_context():
        offer_answers.decline(db.session.get(Offer, response.json["id"]), clock.now)
        db.session.commit()
    before = client.post(path, headers=headers, json={"slot_id": slots["half_past"]})
    assert before.status_code == 409 and before.json["code"] == "offered_before"


def test_removing_someone_tells_them_and_passes_their_offer_on(
    app, desk, slots, full_thursday, clock
):
    client = logged_in(app)
    # Amina cancels: Olena, first in the queue, is offered her seat.
    app.test_client().post(
        f"/api/v1/staff/bookings/{full_thursday['amina']}/cancel",
        headers=desk.headers("anna"),
        json={"reason": "ill"},
    )
    path = f"/staff/waitlist/{full_thursday['olena']}/remove"
    page = client.get(path).get_data(as_text=True)
    assert "Olena Koval" in page
    assert (
        client.post(path, data={"csrf_token": factories.csrf_token(page), "reason": ""}).status_code
        == 422
    )
    response = client.post(
        path, data={"csrf_token": factories.csrf_token(page), "reason": "Found a job, no time"}
    )
    assert response.status_code == 303
    assert "Taken off the waitlist." in client.get(response.headers["Location"]).get_data(
        as_text=True
    )
    with app.app_context():
        olena = db.session.get(WaitlistEntry, full_thursday["olena"])
        assert (olena.status, olena.end_reason) == (WaitlistStatus.REMOVED, "Found a job, no time")
        [told] = messages_to(olena.phone, "waitlist_removed")
        assert (
            told.locale == "en"
            and "no longer on the waitlist" in told.body
            and "/o/lanstrop" in told.body
        )
        assert notify_segments(told.body) <= 2
        [withdrawn] = db.session.scalars(
            select(Offer).where(Offer.waitlist_entry_id == olena.id)
        ).all()
        assert withdrawn.status == OfferStatus.WITHDRAWN
        [passed_on] = db.session.scalars(
            select(Offer).where(Offer.waitlist_entry_id == full_thursday["karim"])
        ).all()
        assert passed_on.status == OfferStatus.PENDING and passed_on.slot_id == slots["nine"]
        [entry] = audit_entries("waitlist.remove")
        assert entry.after == {"status": "removed", "withdrawn_offer_id": withdrawn.id}


def notify_segments(text):
    from scheduler.segments import segments

    return segments(text)


def test_the_api_removes_with_a_reason_in_the_body_or_the_query(app, desk, full_thursday):
    client, headers = app.test_client(), desk.headers("anna")
    olena, karim = full_thursday["olena"], full_thursday["karim"]
    missing = client.delete(f"/api/v1/staff/waitlist/{olena}", headers=headers)
    assert missing.status_code == 422 and "reason" in missing.json["fields"]
    response = client.delete(
        f"/api/v1/staff/waitlist/{olena}", headers=headers, json={"reason": "Moved away"}
    )
    assert response.status_code == 200 and response.json["status"] == "removed"
    assert response.json["end_reason"] == "Moved away"
    again = client.delete(f"/api/v1/staff/waitlist/{olena}?reason=twice", headers=headers)
    assert again.status_code == 200 and again.json["end_reason"] == "Moved away"
    response = client.delete(f"/api/v1/staff/waitlist/{karim}?reason=Asked+us+to", headers=headers)
    assert response.status_code == 200 and response.json["end_reason"] == "Asked us to"
    with app.app_context():
        assert len(audit_entries("waitlist.remove")) == 2
        karim_phone = db.session.get(WaitlistEntry, karim).phone
        assert len(messages_to(karim_phone, "waitlist_removed")) == 1
    listed = client.get("/api/v1/staff/offices/lanstrop/agenda", headers=headers).json["waitlist"]
    assert listed == []


# --- Who may do what ------------------------------------------------------------------------


def api_calls(ids, slots):
    return [
        ("post", f"/api/v1/staff/bookings/{ids['amina']}/cancel", {"reason": "r"}),
        ("post", f"/api/v1/staff/bookings/{ids['amina']}/attendance", {"status": "attended"}),
        ("delete", f"/api/v1/staff/waitlist/{ids['olena']}", {"reason": "r"}),
        ("post", f"/api/v1/staff/waitlist/{ids['karim']}/offer", {"slot_id": slots["half_past"]}),
        (
            "post",
            "/api/v1/staff/offices/lanstrop/bookings",
            {"slot_id": slots["half_past"], "name": "N", "locale": "de"},
        ),
    ]


def test_the_desk_api_is_for_the_office_s_staff_and_administrators(app, desk, slots, full_thursday):
    client = app.test_client()
    for method, path, body in api_calls(full_thursday, slots):
        assert getattr(client, method)(path, json=body).status_code == 401, path
        refused = getattr(client, method)(path, json=body, headers=desk.headers("ben"))
        assert refused.status_code == 403 and refused.json["code"] == "forbidden", path
    with app.app_context():
        assert booking_of(full_thursday["amina"]).status == BookingStatus.BOOKED
        assert audit_entries() == [] or all(e.action.startswith("staff.") for e in audit_entries())
    for who in ("anna", "admin"):
        assert (
            client.post(
                f"/api/v1/staff/waitlist/{full_thursday['olena']}/offer",
                headers=desk.headers(who),
                json={"slot_id": 10**12},
            ).status_code
            == 404
        )
    assert (
        client.post(
            f"/api/v1/staff/bookings/{full_thursday['amina']}/cancel",
            headers=desk.headers("admin"),
            json={"reason": "r"},
        ).status_code
        == 200
    )
    assert (
        client.post(
            "/api/v1/staff/bookings/99999/cancel",
            headers=desk.headers("admin"),
            json={"reason": "r"},
        ).status_code
        == 404
    )
    assert (
        client.delete(
            "/api/v1/staff/waitlist/99999999999999999999", headers=desk.headers("admin")
        ).status_code
        == 404
    )


def test_the_desk_pages_are_for_the_office_s_staff_and_administrators(
    app, desk, slots, full_thursday
):
    pages = [
        f"/staff/bookings/{full_thursday['amina']}/cancel",
        f"/staff/waitlist/{full_thursday['olena']}/remove",
        "/staff/offices/lanstrop/walk-in",
        "/staff/offices/lanstrop/waitlist",
    ]
    anonymous, ben = app.test_client(), logged_in(app, "ben@example.org")
    anna, admin = logged_in(app), logged_in(app, "admin@example.org")
    for path in pages:
        assert anonymous.get(path).status_code == 303
        assert ben.get(path).status_code == 403, path
        assert anna.get(path).status_code == 200 and admin.get(path).status_code == 200
    token = form_token(ben, "/staff/")
    for path, data in [
        (f"/staff/bookings/{full_thursday['amina']}/cancel", {"reason": "r"}),
        (f"/staff/bookings/{full_thursday['amina']}/attendance", {"status": "attended"}),
        (f"/staff/waitlist/{full_thursday['olena']}/remove", {"reason": "r"}),
    ]:
        assert ben.post(path, data={"csrf_token": token, **data}).status_code == 403
        assert anonymous.post(path, data=data).status_code in (303, 400)
    response = ben.post(
        "/staff/offices/lanstrop/waitlist/offer",
        data={
            "csrf_token": token,
            "entry_id": full_thursday["karim"],
            "slot_id": slots["half_past"],
        },
    )
    assert response.status_code == 403
    # An administrator may act at any office.
    token = form_token(admin, pages[0])
    assert (
        admin.post(pages[0], data={"csrf_token": token, "reason": "Admin helps out"}).status_code
        == 303
    )


# --- The audit log and the records a walk-in leaves -----------------------------------------


def test_the_audit_log_keeps_ids_and_states_but_no_personal_data(
    app, desk, slots, full_thursday, clock
):
    client, headers = app.test_client(), desk.headers("anna")
    client.post(
        f"/api/v1/staff/bookings/{full_thursday['amina']}/cancel",
        headers=headers,
        json={"reason": "Private reason"},
    )
    client.delete(
        f"/api/v1/staff/waitlist/{full_thursday['olena']}",
        headers=headers,
        json={"reason": "Private too"},
    )
    with app.app_context():
        extra = factories.slot(
            db.session.get(Office, desk.lanstrop), THURSDAY + timedelta(hours=1), seats=1
        ).id
        db.session.commit()
    made = client.post(
        "/api/v1/staff/offices/lanstrop/bookings",
        headers=headers,
        json={
            "slot_id": extra,
            "name": "Hana Ali",
            "phone": "0151 99887766",
            "locale": "de",
            "topic": "Secret topic",
        },
    )
    assert made.status_code == 201
    with app.app_context():
        entries = [e for e in audit_entries() if not e.action.startswith("staff.")]
        assert [e.action for e in entries] == [
            "booking.cancel",
            "waitlist.remove",
            "booking.create",
        ]
        assert all(
            e.staff_id is not None and e.office_id == desk.lanstrop and e.record_id for e in entries
        )
        text = repr([(e.before, e.after) for e in entries])
        for private in ("Amina", "Olena", "Hana", "+49", "0151", "Secret", "Private", "Kita"):
            assert private not in text
        assert entries[0].after == {"status": "cancelled", "cancelled_by": "staff"}
        assert entries[2].after == {"status": "booked", "source": "walk_in", "slot_id": extra}


def test_a_walk_in_without_a_number_gets_no_reminder_and_is_still_forgotten(
    app, ctx, desk, slots, clock
):
    from scheduler.services import desk as desk_service
    from scheduler.services import staff

    anna = staff.by_email("anna@example.org")
    made = desk_service.book_walk_in(
        db.session.get(Office, desk.lanstrop),
        slots["half_past"],
        name="Hana Ali",
        phone=None,
        locale="de",
        topic="Flat",
        actor=anna,
        now=clock.now,
    )
    db.session.flush()
    assert reminders.queue_due(THURSDAY - timedelta(hours=2)) == 0
    retention.purge(THURSDAY + timedelta(days=91))
    db.session.refresh(made)
    assert (made.name, made.topic, made.phone) == ("", "", None)
