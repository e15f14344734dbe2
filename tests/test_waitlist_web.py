"""The waitlist and offers through the JSON API and the pages, as residents use them."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import Message, Offer, OfferStatus, Slot

from . import factories
from .outbox import deliver


@pytest.fixture
def slot_id(app, clock):
    """Thursday 26 November 09:00, one seat, taken by a booking we can cancel."""
    with app.app_context():
        office = factories.office()
        slot = factories.slot(office, clock.now + timedelta(days=3), seats=1)
        db.session.commit()
        return slot.id


@pytest.fixture
def booked(client, slot_id):
    response = client.post("/api/v1/bookings", json={
        "slot_id": slot_id, "name": "Amina", "phone": factories.mobile(), "locale": "de"})
    assert response.status_code == 201
    return response.json["token"]


def join(client, **fields):
    return client.post("/api/v1/waitlist", json={
        "office": "lanstrop", "name": "Olena Koval", "phone": factories.mobile(), "locale": "en",
        **fields})


def test_joining_answers_201_with_token_status_and_position(client, booked):
    first = join(client, weekdays=[3], earliest="08:30", latest="12:00", before="2026-12-31")
    second = join(client)
    assert first.status_code == 201 and second.status_code == 201
    assert (first.json["status"], first.json["position"], second.json["position"]) == ("waiting", 1, 2)
    assert first.json["weekdays"] == [3] and first.json["earliest"] == "08:30"
    assert first.json["before"] == "2026-12-31" and first.json["offer"] is None
    shown = client.get(f"/api/v1/waitlist/{second.json['token']}").json
    assert shown["position"] == 2 and shown["office"]["slug"] == "lanstrop"


@pytest.mark.parametrize(("fields", "bad"), [
    ({"weekdays": "thursday"}, {"weekdays"}),
    ({"weekdays": [9]}, {"weekdays"}),
    ({"earliest": "9 Uhr"}, {"earliest"}),
    ({"earliest": "12:00", "latest": "10:00"}, {"latest"}),
    ({"before": "2020-01-01"}, {"before"}),
    ({"phone": "0231 123456"}, {"phone"}),
    ({"name": ""}, {"name"}),
    ({"locale": "xx"}, {"locale"}),
])
def test_bad_waitlist_fields_answer_422_by_field(client, booked, fields, bad):
    response = join(client, **fields)
    assert response.status_code == 422 and set(response.json["fields"]) == bad


def test_joining_twice_or_an_unknown_office_is_refused_in_json(client, booked):
    phone = factories.mobile()
    assert join(client, phone=phone).status_code == 201
    again = join(client, phone=phone)
    assert again.status_code == 409 and again.json["code"] == "already_waiting"
    unknown = join(client, office="atlantis")
    assert unknown.status_code == 404 and unknown.is_json
    assert client.post("/api/v1/waitlist", data="[1]").status_code == 400


def test_a_cancellation_offers_the_seat_and_the_api_shows_and_accepts_it(client, booked, slot_id):
    waiting = join(client).json
    assert client.post(f"/api/v1/bookings/{booked}/cancel").status_code == 200
    deliver(client.application)

    state = client.get(f"/api/v1/waitlist/{waiting['token']}").json
    offer = state["offer"]
    assert offer["start"] == "2026-11-26T09:00:00+01:00"
    assert offer["expires_at"] == "2026-11-23T17:00:00+01:00"  # sent at once, held 8 hours
    assert client.get("/api/v1/offices/lanstrop/slots").json["slots"][0]["available"] == 0

    accepted = client.post(f"/api/v1/offers/{offer['token']}/accept")
    assert accepted.status_code == 200
    assert accepted.json["booking"]["status"] == "booked"
    assert accepted.json["booking"]["slot_id"] == slot_id
    assert client.get(f"/api/v1/waitlist/{waiting['token']}").json["status"] == "booked"
    again = client.post(f"/api/v1/offers/{offer['token']}/decline")
    assert again.status_code == 410 and again.json["code"] == "offer_gone"


def test_declining_through_the_api_passes_the_seat_on(client, booked):
    first, second = join(client).json, join(client).json
    client.post(f"/api/v1/bookings/{booked}/cancel")
    deliver(client.application)
    offer = client.get(f"/api/v1/waitlist/{first['token']}").json["offer"]
    assert client.post(f"/api/v1/offers/{offer['token']}/decline").status_code == 200
    deliver(client.application)
    assert client.get(f"/api/v1/waitlist/{second['token']}").json["offer"]["start"] == offer["start"]
    assert client.get(f"/api/v1/waitlist/{first['token']}").json["position"] == 1


def test_an_expired_offer_answers_410(client, booked, clock):
    waiting = join(client).json
    client.post(f"/api/v1/bookings/{booked}/cancel")
    deliver(client.application)
    offer = client.get(f"/api/v1/waitlist/{waiting['token']}").json["offer"]
    clock.advance(hours=8)
    response = client.post(f"/api/v1/offers/{offer['token']}/accept")
    assert response.status_code == 410 and response.json["code"] == "offer_gone"
    assert client.post("/api/v1/offers/nope/accept").status_code == 404


def test_the_booking_shows_an_offer_of_an_earlier_time(app, client, booked, clock):
    with app.app_context():
        later = factories.slot(db.session.get(Slot, 1).office, clock.now + timedelta(days=10), seats=1)
        db.session.commit()
        later_id = later.id
    mover = client.post("/api/v1/bookings", json={
        "slot_id": later_id, "name": "Dmytro", "phone": factories.mobile(), "locale": "en",
        "notify_earlier": True}).json
    assert mover["offer"] is None
    client.post(f"/api/v1/bookings/{booked}/cancel")
    deliver(client.application)

    offer = client.get(f"/api/v1/bookings/{mover['token']}").json["offer"]
    assert offer["kind"] == "move_up" and offer["start"] == "2026-11-26T09:00:00+01:00"
    moved = client.post(f"/api/v1/offers/{offer['token']}/accept").json["booking"]
    assert moved["token"] == mover["token"] and moved["start"] == "2026-11-26T09:00:00+01:00"


def test_leaving_through_the_api(client, booked):
    waiting = join(client).json
    left = client.post(f"/api/v1/waitlist/{waiting['token']}/leave")
    assert left.status_code == 200 and left.json["status"] == "left" and left.json["position"] is None
    assert client.post(f"/api/v1/waitlist/{waiting['token']}/leave").status_code == 200


def test_the_cancelling_request_writes_the_offer_sms_and_the_dispatcher_sends_it(app, client, booked):
    waiting = join(client).json
    client.post(f"/api/v1/bookings/{booked}/cancel")
    with app.app_context():
        offer_message = db.session.scalar(select(Message).where(Message.kind == "offer"))
        assert offer_message.status == "queued" and waiting["phone"] == offer_message.to
    assert client.get(f"/api/v1/waitlist/{waiting['token']}").json["offer"] is None  # not out yet
    deliver(app)
    with app.app_context():
        offer_message = db.session.get(Message, offer_message.id)
        assert offer_message.status == "sent" and offer_message.sent_at is not None
    assert client.get(f"/api/v1/waitlist/{waiting['token']}").json["offer"] is not None


# --- the pages ---------------------------------------------------------------

def test_the_office_page_invites_to_the_waitlist_and_hides_seats_on_offer(client, booked):
    page = client.get("/o/lanstrop?lang=en").get_data(as_text=True)
    assert 'href="/o/lanstrop/waitlist"' in page
    join(client)
    client.post(f"/api/v1/bookings/{booked}/cancel")
    deliver(client.application)
    page = client.get("/o/lanstrop?lang=en").get_data(as_text=True)
    assert "/o/lanstrop/book/" not in page  # the freed seat is on offer, not free for all


def join_through_the_form(client, **fields):
    form = client.get("/o/lanstrop/waitlist?lang=en")
    assert form.status_code == 200
    data = {"csrf_token": factories.csrf_token(form.get_data(as_text=True)), "name": "Olena",
            "phone": "0151 11112222", **fields}
    return client.post("/o/lanstrop/waitlist", data=data)


def test_joining_through_the_form_shows_the_position(client, booked):
    response = join_through_the_form(client, weekdays=["3", "4"], earliest="08:30", before="2026-12-31")
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "You are number 1 on the waitlist." in page


def test_the_form_shows_errors_by_field(client, booked):
    response = join_through_the_form(client, earliest="12:00", latest="09:00")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'aria-invalid="true"' in page and "Must be later than the earliest time." in page
    assert join_through_the_form(client, csrf_token="forged").status_code == 400


def sent_offer(app):
    with app.app_context():
        offer = db.session.scalar(select(Offer))
        return offer.token, offer.status


def test_an_offer_link_only_shows_and_a_post_accepts(app, client, booked):
    join_through_the_form(client)
    client.post(f"/api/v1/bookings/{booked}/cancel")
    deliver(client.application)
    token, _ = sent_offer(app)

    page = client.get(f"/a/{token}")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    assert f'action="/a/{token}/accept"' in html and f'action="/a/{token}/decline"' in html
    assert sent_offer(app)[1] == OfferStatus.PENDING  # looking is not answering

    accepted = client.post(f"/a/{token}/accept", data={"csrf_token": factories.csrf_token(html)})
    assert accepted.status_code == 303 and accepted.headers["Location"].startswith("/b/")
    assert sent_offer(app)[1] == OfferStatus.ACCEPTED
    assert client.post(f"/a/{token}/accept").status_code == 400  # no CSRF token


def test_declining_on_the_page_and_leaving(app, client, booked):
    entry = join_through_the_form(client).headers["Location"]
    client.post(f"/api/v1/bookings/{booked}/cancel")
    deliver(client.application)
    token, _ = sent_offer(app)
    html = client.get(f"/a/{token}").get_data(as_text=True)
    declined = client.post(f"/a/{token}/decline", data={"csrf_token": factories.csrf_token(html)})
    assert declined.status_code == 303
    assert sent_offer(app)[1] == OfferStatus.DECLINED
    assert client.post(f"/a/{token}/accept", data={"csrf_token": factories.csrf_token(html)}).status_code == 410

    entry_page = client.get(entry).get_data(as_text=True)
    left = client.post(f"{entry}/leave", data={"csrf_token": factories.csrf_token(entry_page)})
    assert left.status_code == 303
    assert "You are no longer on the waitlist." in client.get(entry + "?lang=en").get_data(as_text=True)


def test_a_booked_resident_can_ask_for_an_earlier_time_later(app, client, clock):
    with app.app_context():
        office = factories.office()
        early = factories.slot(office, clock.now + timedelta(days=3), seats=1)
        late = factories.slot(office, clock.now + timedelta(days=10), seats=1)
        db.session.commit()
        early_id, late_id = early.id, late.id
    blocker = client.post("/api/v1/bookings", json={
        "slot_id": early_id, "name": "A", "phone": factories.mobile(), "locale": "de"}).json
    mine = client.post("/api/v1/bookings", json={
        "slot_id": late_id, "name": "B", "phone": factories.mobile(), "locale": "en"}).json
    page = client.get(f"/b/{mine['token']}?lang=en").get_data(as_text=True)
    assert f'action="/b/{mine["token"]}/earlier"' in page

    asked = client.post(f"/b/{mine['token']}/earlier",
                        data={"csrf_token": factories.csrf_token(page), "wanted": "1"})
    assert asked.status_code == 303
    assert client.get(f"/api/v1/bookings/{mine['token']}").json["notify_earlier"] is True
    client.post(f"/api/v1/bookings/{blocker['token']}/cancel")
    deliver(app)
    assert client.get(f"/api/v1/bookings/{mine['token']}").json["offer"]["kind"] == "move_up"

    stopped = client.post(f"/api/v1/bookings/{mine['token']}/earlier", json={"notify_earlier": False})
    assert stopped.status_code == 200 and stopped.json["offer"] is None
    assert client.get("/api/v1/offices/lanstrop/slots").json["slots"][0]["available"] == 1
    bad = client.post(f"/api/v1/bookings/{mine['token']}/earlier", json={"notify_earlier": "yes"})
    assert bad.status_code == 422
