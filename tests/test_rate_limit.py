"""Rate limits count what matters: bookings and waits made, one bucket per address across
booking and waitlist, page and API; SMS per number; staff never limited."""
import logging
import re
import uuid
from datetime import timedelta

import pytest

from scheduler import create_app
from scheduler.extensions import db

from . import factories
from .conftest import base_config

pytestmark = pytest.mark.limited


@pytest.fixture
def config_overrides():
    return {"RATELIMIT_ENABLED": True, "RATELIMIT_BOOKING": "2 per minute",
            "RATELIMIT_SMS_PER_NUMBER": "5 per hour"}


@pytest.fixture
def ids(app, clock):
    """Five free times at Lanstrop, and a second office for the waitlist."""
    with app.app_context():
        office = factories.office()
        factories.office(slug="eving", name="Eving")
        found = [factories.slot(office, clock.now + timedelta(days=3, hours=n), seats=5).id for n in range(5)]
        db.session.commit()
    return found


def api_book(client, slot_id, phone=None, **extra):
    return client.post("/api/v1/bookings", json={"slot_id": slot_id, "name": "A", "phone": phone or factories.mobile(),
                                                 "locale": "de"}, **extra)


def page_book(client, slot_id, phone=None, name="Amal Haddad"):
    token = factories.csrf_token(client.get(f"/o/lanstrop/book/{slot_id}").get_data(as_text=True))
    return client.post(f"/o/lanstrop/book/{slot_id}", data={
        "csrf_token": token, "name": name, "phone": phone or factories.mobile()})


def test_the_third_booking_in_a_minute_answers_429_json_with_retry_after(client, ids):
    assert [api_book(client, slot_id).status_code for slot_id in ids[:2]] == [201, 201]
    response = api_book(client, ids[2])
    assert response.status_code == 429 and response.json["code"] == "too_many_requests"
    assert 0 < response.json["retry_after"] <= 60
    assert response.headers["Retry-After"] == str(response.json["retry_after"])
    assert client.get("/api/v1/offices").status_code == 200  # reading is not limited


def test_typing_mistakes_do_not_count(client, ids):
    for _ in range(5):
        assert api_book(client, ids[0], phone="12").status_code == 422
        assert page_book(client, ids[0], phone="not a number").status_code == 422
    assert [api_book(client, slot_id).status_code for slot_id in ids[:2]] == [201, 201]


def test_booking_and_waitlist_page_and_api_share_one_bucket(client, ids):
    assert page_book(client, ids[0]).status_code == 303
    joined = client.post("/api/v1/waitlist", json={"office": "eving", "name": "B", "phone": factories.mobile()})
    assert joined.status_code == 201
    assert api_book(client, ids[1]).status_code == 429
    token = factories.csrf_token(client.get("/o/eving/waitlist").get_data(as_text=True))
    page = client.post("/o/eving/waitlist", data={"csrf_token": token, "name": "C", "phone": factories.mobile()})
    assert page.status_code == 429


def test_a_refused_page_keeps_what_was_typed_and_says_when(client, ids, clock):
    assert [api_book(client, slot_id).status_code for slot_id in ids[:2]] == [201, 201]
    client.set_cookie("lang", "de")
    response = page_book(client, ids[2], phone="0151 23456789", name="Olena Kovalenko")
    html = response.get_data(as_text=True)
    assert response.status_code == 429 and 0 < int(response.headers["Retry-After"]) <= 60
    assert 'value="Olena Kovalenko"' in html and 'value="0151 23456789"' in html
    # Monday 09:00 in Dortmund plus under a minute: the time to try again, in the alert.
    assert re.search(r'role="alert">[^<]*09:0[01]', html)


def test_staff_are_never_limited(app, client, ids):
    with app.app_context():
        account = factories.staff(admin=True)
        token, email = factories.api_token(account), account.email
        db.session.commit()
    bearer = {"Authorization": f"Bearer {token}"}
    assert [api_book(client, slot_id, headers=bearer).status_code for slot_id in ids[:3]] == [201] * 3
    factories.log_in(client, email)
    assert page_book(client, ids[3]).status_code == 303


@pytest.fixture
def sms_limited(app):
    app.config.update(RATELIMIT_BOOKING="100 per minute", RATELIMIT_SMS_PER_NUMBER="2 per hour")
    return app


def test_one_number_gets_a_few_messages_an_hour(sms_limited, client, ids):
    phone = factories.mobile()
    booked = api_book(client, ids[0], phone=phone)
    assert booked.status_code == 201
    token = booked.json["token"]
    assert client.post(f"/api/v1/bookings/{token}/change", json={"slot_id": ids[1]}).status_code == 200
    refused = client.post(f"/api/v1/bookings/{token}/change", json={"slot_id": ids[2]})
    assert refused.status_code == 429 and refused.json["retry_after"] > 0
    assert "SMS an diese Nummer" in refused.json["error"]  # German, the default
    # The same number at another office: refused too; another number is not.
    joined = client.post("/api/v1/waitlist", json={"office": "eving", "name": "B", "phone": phone})
    assert joined.status_code == 429
    assert api_book(client, ids[3]).status_code == 201


@pytest.fixture
def redis_apps(database_uri, clock):
    """Two instances, as two workers, counting in one Redis under a key prefix of this test."""
    settings = base_config(database_uri, CLOCK=clock, RATELIMIT_ENABLED=True, RATELIMIT_BOOKING="2 per minute",
                           RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/0",
                           RATELIMIT_KEY_PREFIX=f"test-{uuid.uuid4().hex}")
    apps = [create_app(config=dict(settings)) for _ in range(2)]
    yield apps
    for app in apps:
        with app.app_context():
            db.engine.dispose()


def test_two_workers_share_the_limit_in_redis(redis_apps, clock):
    first, second = redis_apps
    with first.app_context():
        office = factories.office()
        ids = [factories.slot(office, clock.now + timedelta(days=3, hours=n), seats=5).id for n in range(3)]
        db.session.commit()
    apps = [first, second, first]
    codes = [api_book(app.test_client(), slot_id).status_code for app, slot_id in zip(apps, ids, strict=True)]
    assert codes == [201, 201, 429]


def test_in_memory_storage_warns_at_start(database_uri, caplog):
    with caplog.at_level(logging.WARNING, logger="scheduler"):
        app = create_app(config=base_config(database_uri, TESTING=False, RATELIMIT_ENABLED=True))
    assert any("memory://" in record.getMessage() and "worker" in record.getMessage()
               for record in caplog.records)
    with caplog.at_level(logging.WARNING, logger="scheduler"):
        caplog.clear()
        create_app(config=base_config(database_uri, TESTING=False, RATELIMIT_ENABLED=True,
                                      RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/0"))
    assert not [record for record in caplog.records if "memory://" in record.getMessage()]
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def behind_proxy(database_uri, clock):
    app = create_app(config=base_config(database_uri, CLOCK=clock, TRUSTED_PROXIES=1,
                                        RATELIMIT_ENABLED=True, RATELIMIT_BOOKING="1 per minute"))
    yield app
    with app.app_context():
        db.engine.dispose()


def test_behind_a_proxy_each_resident_has_a_limit_of_their_own(behind_proxy, clock):
    with behind_proxy.app_context():
        office = factories.office()
        ids = [factories.slot(office, clock.now + timedelta(days=3, hours=n), seats=5).id for n in range(3)]
        db.session.commit()
    client = behind_proxy.test_client()

    def book(slot_id, address):
        return api_book(client, slot_id, headers={"X-Forwarded-For": address}).status_code

    assert [book(ids[0], "203.0.113.7"), book(ids[1], "198.51.100.9"), book(ids[2], "203.0.113.7")] == [201, 201, 429]
