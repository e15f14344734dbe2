"""Numbers only from the countries in PHONE_COUNTRIES: the guard against SMS-pumping fraud."""
import re
from datetime import timedelta

import pytest

from scheduler.extensions import db

from . import factories

FRENCH = "+33 6 12 34 56 78"
UKRAINIAN = "+380 50 123 4567"


@pytest.fixture
def slot_ids(app, clock):
    with app.app_context():
        office = factories.office()
        ids = [factories.slot(office, clock.now + timedelta(days=3, hours=n), seats=5).id for n in range(3)]
        db.session.commit()
    return ids


def api_book(client, slot_id, phone, locale="de"):
    return client.post("/api/v1/bookings", json={"slot_id": slot_id, "name": "A", "phone": phone, "locale": locale})


def test_a_number_from_a_listed_country_is_accepted(client, slot_ids):
    response = api_book(client, slot_ids[0], UKRAINIAN)
    assert response.status_code == 201 and response.json["phone"] == "+380501234567"


def test_a_number_from_another_country_is_refused_at_the_field_in_the_residents_language(client, slot_ids):
    response = client.post("/api/v1/bookings?lang=en", json={"slot_id": slot_ids[0], "name": "A", "phone": FRENCH})
    assert response.status_code == 422
    assert "country" in response.json["fields"]["phone"]
    joined = client.post("/api/v1/waitlist", json={"office": "lanstrop", "name": "A", "phone": FRENCH})
    assert joined.status_code == 422 and set(joined.json["fields"]) == {"phone"}


def test_the_page_shows_the_refusal_at_the_phone_field(client, slot_ids):
    client.set_cookie("lang", "uk")
    path = f"/o/lanstrop/book/{slot_ids[0]}"
    token = factories.csrf_token(client.get(path).get_data(as_text=True))
    response = client.post(path, data={"csrf_token": token, "name": "Olena", "phone": FRENCH})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    error = re.search(r'<p class="error" id="phone-error">([^<]+)</p>', html)
    assert error and re.search("[а-яіїє]{4}", error.group(1)) and "country" not in error.group(1)  # Ukrainian


@pytest.fixture
def config_overrides():
    return {"PHONE_COUNTRIES": ["de", "UA"]}  # codes in either case


def test_the_list_is_configurable(app, client, slot_ids):
    assert api_book(client, slot_ids[0], UKRAINIAN).status_code == 201
    assert api_book(client, slot_ids[1], "+963 944 567 890").status_code == 422  # Syria, not listed here
    assert api_book(client, slot_ids[2], factories.mobile()).status_code == 201


def test_the_desk_refuses_such_a_number_and_books_without_one(app, client, slot_ids):
    with app.app_context():
        token = factories.api_token(factories.staff(admin=True))
        db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}

    def desk_book(phone):
        return client.post("/api/v1/staff/offices/lanstrop/bookings", headers=headers, json={
            "slot_id": slot_ids[0], "name": "Caller", "phone": phone, "locale": "en", "source": "phone"})

    refused = desk_book(FRENCH)
    assert refused.status_code == 422 and "phone" in refused.json["fields"]
    booked = desk_book("")
    assert booked.status_code == 201 and booked.json["phone"] is None
