"""Residents reached in their language: choosing it, RTL, who speaks what, replies, and the
rough edges of booking, changing, cancelling and waiting."""
import re
from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import Booking, Message, Offer, Office, OptOut, Slot, WaitlistEntry
from scheduler.services import booking as bookings
from scheduler.services import languages, replies, waitlist
from scheduler.services.errors import InvalidInput

from . import factories
from .outbox import deliver

THURSDAY = 3


@pytest.fixture
def office(app):
    """Lanstrop, Thursdays 08:30-11:30; Arabic and Persian are spoken from 10:00."""
    with app.app_context():
        office = factories.office(hours=((THURSDAY, "08:30", "10:00", 30, 1), (THURSDAY, "10:00", "11:30", 30, 1)))
        office.hours[1].languages = "ar,fa"
        office.note = "Ihren Pass und den Mietvertrag"
        db.session.commit()
        return office.id


@pytest.fixture
def slot_ids(app, clock, office):
    """Thursday 26 November at 09:00 (German only) and 10:30 (also Arabic and Persian)."""
    with app.app_context():
        lanstrop = db.session.get(Office, office)
        ids = [factories.slot(lanstrop, clock.now + timedelta(days=3, hours=hours), seats=1).id
               for hours in (0, 1.5)]
        db.session.commit()
        return ids


# --- choosing the language --------------------------------------------------------------------

@pytest.mark.parametrize(("header", "lang", "direction"), [
    ("fa-AF,en;q=0.5", "fa", "rtl"),
    ("uk-UA,ru;q=0.8,en;q=0.5", "uk", "ltr"),
    ("ar-SY", "ar", "rtl"),
    ("tr-TR,de;q=0.9", "tr", "ltr"),
    ("sw-KE,en-GB;q=0.7", "en", "ltr"),
    ("sw-KE", "de", "ltr"),
])
def test_accept_language_matches_regional_variants_before_falling_back(client, header, lang, direction):
    page = client.get("/", headers={"Accept-Language": header}).get_data(as_text=True)
    assert f'<html lang="{lang}" dir="{direction}">' in page


def test_the_picker_names_every_language_in_itself(client):
    page = client.get("/").get_data(as_text=True)
    names = re.findall(r'hreflang="(\w+)"\s*(?:aria-current="true")?>([^<]+)</a>', page)
    assert names == [("de", "Deutsch"), ("en", "English"), ("ar", "العربية"), ("fa", "فارسی"),
                     ("uk", "Українська"), ("ru", "Русский"), ("tr", "Türkçe"), ("ro", "Română"),
                     ("bg", "Български")]


def test_the_choice_is_kept_in_a_cookie(client):
    client.get("/?lang=fa")
    assert '<html lang="fa" dir="rtl">' in client.get("/").get_data(as_text=True)


def test_english_reads_the_time_and_date_as_in_europe(client, slot_ids):
    page = client.get("/o/lanstrop?lang=en").get_data(as_text=True)
    assert "Thursday 26 November 2026" in page and ">09:00<" in page and "AM" not in page


# --- who speaks what --------------------------------------------------------------------------

def test_a_slot_speaks_the_languages_of_its_hour_and_german(app, slot_ids, office):
    with app.app_context():
        german, arabic = (db.session.get(Slot, slot_id) for slot_id in slot_ids)
        assert languages.slot_languages(german, german.office) == ["de"]
        assert languages.slot_languages(arabic, arabic.office) == ["de", "ar", "fa"]


def test_the_office_list_names_the_languages_in_the_residents_language(client, office):
    assert "Deutsch, Arabisch und Persisch" in client.get("/?lang=de").get_data(as_text=True)
    assert "German, Arabic and Persian" in client.get("/?lang=en").get_data(as_text=True)


def test_the_slots_api_has_languages_and_filters_by_one(client, slot_ids):
    every = client.get("/api/v1/offices/lanstrop/slots").json["slots"]
    assert [slot["languages"] for slot in every] == [["de"], ["de", "ar", "fa"]]
    persian = client.get("/api/v1/offices/lanstrop/slots?language=fa").json["slots"]
    assert [slot["id"] for slot in persian] == [slot_ids[1]]
    refused = client.get("/api/v1/offices/lanstrop/slots?language=xx")
    assert refused.status_code == 422 and set(refused.json["fields"]) == {"language"}


def test_the_office_page_shows_only_times_in_the_residents_language_without_javascript(client, slot_ids):
    page = client.get("/o/lanstrop?lang=ar").get_data(as_text=True)
    assert 'href="/o/lanstrop?language=ar"' in page
    assert f"/book/{slot_ids[0]}" in page and f"/book/{slot_ids[1]}" in page
    only = client.get("/o/lanstrop?language=ar").get_data(as_text=True)
    assert f"/book/{slot_ids[0]}" not in only and f"/book/{slot_ids[1]}" in only
    assert 'href="/o/lanstrop"' in only  # back to all times


# --- replies ----------------------------------------------------------------------------------

@pytest.mark.parametrize("body", ["Stopp", "СТОП", "стоп", "توقف", "DUR", "  stop\u200b ",
                                  "\u200fتوقف\u200f", "STOP!"])
def test_stop_is_understood_as_residents_write_it(app, clock, body):
    with app.app_context():
        replies.handle("SM1", "+4915100000001", body, clock.now)
        db.session.flush()
        assert db.session.get(OptOut, "+4915100000001") is not None
        replies.handle("SM2", "+4915100000001", "Start", clock.now)
        db.session.flush()
        assert db.session.get(OptOut, "+4915100000001") is None


@pytest.mark.parametrize("language", ["de", "en", "ar"])
def test_the_help_text_names_a_stop_word_of_the_residents_language(app, language):
    with app.app_context(), force_locale(language):
        said = replies.words(replies.help_text())
        assert said & replies.reply_words("stop") and said & replies.reply_words("start")


def test_yes_and_no_are_understood_in_the_languages_translators_gave(app):
    with app.app_context():
        assert {"ja", "yes", "نعم", "1"} <= replies.reply_words("yes")
        assert {"nein", "no", "لا", "2"} <= replies.reply_words("no")


# --- changing, cancelling, waiting ------------------------------------------------------------

def book(app, slot_id, clock, **fields):
    with app.app_context():
        made = bookings.book(slot_id, name="Amina", phone=fields.pop("phone", factories.mobile()),
                             locale=fields.pop("locale", "ar"), now=clock.now, **fields)
        db.session.commit()
        return made.token


def test_changing_keeps_the_link_and_uid_frees_the_seat_and_offers_it_on(app, clock, slot_ids):
    token = book(app, slot_ids[0], clock, email="amina@example.org")
    with app.app_context():
        before = db.session.scalar(select(Booking).where(Booking.token == token))
        uid, sequence = before.uid, before.sequence
        lanstrop = before.office
        # Olena waits for an early time: the one Amina holds now.
        waiting = waitlist.join(lanstrop, name="Olena", phone=factories.mobile(), locale="uk",
                                latest="09:30", now=clock.now)
        db.session.commit()
        moved = bookings.change(before, slot_ids[1], clock.now)
        db.session.commit()
        assert (moved.token, moved.uid, moved.slot_id) == (token, uid, slot_ids[1])
        assert moved.sequence == sequence + 1
        offer = db.session.scalar(select(Offer).where(Offer.waitlist_entry_id == waiting.id))
        assert offer.slot_id == slot_ids[0]  # the freed seat went to who waits
        kinds = db.session.scalars(select(Message.kind).where(Message.booking_id == moved.id)
                                   .order_by(Message.id)).all()
        assert kinds[-2:] == ["change", "invitation"]
        invitation = db.session.scalar(select(Message).where(Message.kind == "invitation")
                                       .order_by(Message.id.desc()))
        assert f"SEQUENCE:{sequence + 1}" in invitation.attachment and uid in invitation.attachment


def test_the_api_changes_a_booking_and_refuses_a_full_time(client, app, clock, slot_ids):
    token = book(app, slot_ids[0], clock)
    book(app, slot_ids[1], clock)  # the other time is full now
    full = client.post(f"/api/v1/bookings/{token}/change", json={"slot_id": slot_ids[1]})
    assert full.status_code == 409 and full.json["code"] == "slot_full"
    bad = client.post(f"/api/v1/bookings/{token}/change", json={"slot_id": "soon"})
    assert bad.status_code == 422 and set(bad.json["fields"]) == {"slot_id"}
    with app.app_context():
        third = factories.slot(db.session.get(Slot, slot_ids[0]).office, clock.now + timedelta(days=10)).id
        db.session.commit()
    moved = client.post(f"/api/v1/bookings/{token}/change", json={"slot_id": third})
    assert moved.status_code == 200 and (moved.json["token"], moved.json["slot_id"]) == (token, third)


def test_the_change_page_offers_other_times_and_moves_the_booking(client, app, clock, slot_ids):
    token = book(app, slot_ids[0], clock)
    manage = client.get(f"/b/{token}?lang=en").get_data(as_text=True)
    assert f'href="/b/{token}/change"' in manage
    page = client.get(f"/b/{token}/change").get_data(as_text=True)
    assert f'value="{slot_ids[1]}"' in page and f'value="{slot_ids[0]}"' not in page
    response = client.post(f"/b/{token}/change", data={
        "csrf_token": factories.csrf_token(page), "slot_id": slot_ids[1]})
    assert response.status_code == 303 and response.location == f"/b/{token}?changed=1"
    with app.app_context():
        assert db.session.scalar(select(Booking.slot_id)) == slot_ids[1]


def test_confirmation_and_manage_pages_show_the_address_and_what_to_bring(client, app, clock, slot_ids):
    token = book(app, slot_ids[0], clock)
    for path in (f"/b/{token}/booked", f"/b/{token}"):
        page = client.get(path).get_data(as_text=True)
        assert "<bdi>Nadlerweg 1, 44329 Dortmund</bdi>" in page
        assert "Ihren Pass und den Mietvertrag" in page


def test_joining_with_a_free_time_that_fits_sends_only_the_offer(client, app, clock, slot_ids):
    joined = client.post("/api/v1/waitlist", json={
        "office": "lanstrop", "name": "Olena", "phone": factories.mobile(), "locale": "en"})
    assert joined.status_code == 201
    with app.app_context():
        kinds = db.session.scalars(select(Message.kind)).all()
        assert kinds == ["offer"]
    deliver(app)  # the scheduler's dispatcher sends the offer the moment it is committed
    page = client.get(f"/w/{joined.json['token']}").get_data(as_text=True)
    assert "A time is free for you." in page
    assert "We send you an SMS when a time" not in page and "You are number" not in page


def test_the_join_page_shows_the_free_times_first(client, slot_ids):
    page = client.get("/o/lanstrop/waitlist?lang=en").get_data(as_text=True)
    assert page.index("These times are free now") < page.index('<form method="post"')
    assert f"/o/lanstrop/book/{slot_ids[0]}" in page


@pytest.mark.parametrize(("wishes", "field"), [
    ({"weekdays": [0, 1]}, "weekdays"),
    ({"earliest": "13:00"}, "earliest"),
    ({"latest": "08:45"}, "latest"),
    ({"before": "2026-11-25"}, "before"),
])
def test_wishes_the_office_can_never_meet_are_refused(client, app, clock, office, wishes, field):
    refused = client.post("/api/v1/waitlist", json={
        "office": "lanstrop", "name": "Olena", "phone": factories.mobile(), "locale": "en", **wishes})
    assert refused.status_code == 422 and set(refused.json["fields"]) == {field}
    with app.app_context():
        assert db.session.scalar(select(WaitlistEntry.id)) is None


def test_a_refused_wish_is_said_at_its_field_on_the_page(client, office):
    page = client.get("/o/lanstrop/waitlist?lang=en")
    response = client.post("/o/lanstrop/waitlist?lang=en", data={
        "csrf_token": factories.csrf_token(page.get_data(as_text=True)), "name": "Olena",
        "phone": "0151 23456789", "weekdays": ["0"]})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "It is open on: Thursday." in html and 'aria-describedby="weekdays-error"' in html


def test_a_wish_the_office_can_meet_is_kept(app, clock, office):
    with app.app_context():
        entry = waitlist.join(db.session.get(Office, office), name="Olena", phone=factories.mobile(),
                              locale="en", weekdays=[THURSDAY], earliest="10:00", now=clock.now)
        assert entry.status == "waiting"
        with pytest.raises(InvalidInput):
            waitlist.join(db.session.get(Office, office), name="Olena", phone=factories.mobile(),
                          locale="en", weekdays=[THURSDAY], latest="08:30", now=clock.now)


def test_accepting_an_offer_ends_on_a_page_that_says_booked(client, app, clock, slot_ids):
    joined = client.post("/api/v1/waitlist", json={
        "office": "lanstrop", "name": "Olena", "phone": factories.mobile(), "locale": "en"})
    with app.app_context():
        offer_token = db.session.scalar(select(Offer.token))
    page = client.get(f"/a/{offer_token}").get_data(as_text=True)
    response = client.post(f"/a/{offer_token}/accept", data={"csrf_token": factories.csrf_token(page)})
    assert response.status_code == 303 and response.location.endswith("/booked")
    assert "Your appointment is booked" in client.get(response.location).get_data(as_text=True)
    assert joined.status_code == 201


# --- what every page is -----------------------------------------------------------------------

def test_the_favicon_is_served_from_here(client):
    with client.get("/favicon.ico") as response:
        assert response.status_code == 200 and response.data[:4] == b"\0\0\1\0"


@pytest.mark.parametrize("lang", ["de", "ar", "fa"])
def test_every_resident_page_is_small_and_loads_nothing_from_other_hosts(client, app, clock, slot_ids, lang):
    token = book(app, slot_ids[0], clock, locale=lang)
    with client.get("/static/style.css") as response:
        css = response.data
    assert b"@import" not in css and b"url(" not in css
    for path in ["/", "/o/lanstrop", f"/o/lanstrop/book/{slot_ids[1]}", f"/b/{token}/booked",
                 f"/b/{token}", f"/b/{token}/change", "/o/lanstrop/waitlist"]:
        response = client.get(f"{path}?lang={lang}")
        html = response.data
        assert response.status_code == 200, path
        assert len(html) + len(css) < 60_000, path
        assert b"<script" not in html
        assert not re.search(rb'(src|href)="(https?:)?//', html), path


def test_the_language_links_of_the_really_cancel_step_lead_to_a_page_that_opens(client, app, clock, slot_ids):
    token = book(app, slot_ids[0], clock)
    manage = client.get(f"/b/{token}").get_data(as_text=True)
    really = client.post(f"/b/{token}/cancel", data={"csrf_token": factories.csrf_token(manage)})
    assert f'href="/b/{token}?lang=fa"' in really.get_data(as_text=True)
