"""The what-if simulator on invented history: repeatable, monotonic, backtested; its page and API."""

import re
from datetime import date, time

import pytest
from sqlalchemy import func, select

from scheduler.extensions import db
from scheduler.models import Booking, Message, MessageStatus, Office, WaitlistEntry
from scheduler.services import history, simulation

from . import factories

TUESDAY, THURSDAY = 1, 3


@pytest.fixture
def office(app, clock):
    """Lanstrop (Thursdays 08:30-11:30, two seats: 12 a week) with six weeks of invented
    history at 13 requests a week, up to Monday 23 November 2026, 09:00."""
    with app.app_context():
        lanstrop = factories.office()
        history.generate(clock.now, 6, seed=7, per_week=13, office_slugs=["lanstrop"])
        anna = factories.staff("anna@example.org", offices=[lanstrop])
        factories.office(slug="nordstadt", name="Nordstadt", address="Dortmund-Nordstadt")
        admin = factories.staff("admin@example.org", admin=True)
        tokens = {"anna": factories.api_token(anna), "admin": factories.api_token(admin)}
        db.session.commit()
    return tokens


def lanstrop():
    return db.session.scalar(select(Office).where(Office.slug == "lanstrop"))


def more_seats(rules, extra=1):
    return [{**rule, "seats": rule["seats"] + extra} for rule in rules]


def test_seed_demo_invents_history_for_every_demo_office_once(app, runner, clock):
    result = runner.invoke(args=["seed-demo", "--history", "1", "--seed", "4"])
    assert result.exit_code == 0, result.output
    assert "history of 1 weeks for 8 offices" in result.output
    with app.app_context():
        requests = dict(
            db.session.execute(
                select(Office.slug, func.count(Booking.id))
                .join(Booking, Booking.office_id == Office.id)
                .group_by(Office.slug)
            ).all()
        )
        for slug, count in db.session.execute(
            select(Office.slug, func.count(WaitlistEntry.id))
            .join(WaitlistEntry, WaitlistEntry.office_id == Office.id)
            .group_by(Office.slug)
        ):
            requests[slug] = requests.get(slug, 0) + count
        phones = set(db.session.scalars(select(Booking.phone).where(Booking.phone.is_not(None))))
        kinds = set(
            db.session.scalars(select(Message.kind).where(Message.status == MessageStatus.SENT))
        )
    assert len(requests) == 8 and all(8 <= count <= 50 for count in requests.values()), (
        requests
    )  # ~25 a week
    assert phones and all(
        re.fullmatch(r"\+49(3023125|6990009|4066969|2214710|8999998)\d{3}", phone)
        for phone in phones
    )
    assert {"confirmation", "waitlist", "offer"} <= kinds
    again = runner.invoke(args=["seed-demo", "--history", "1"])
    assert (
        "history of 1 weeks for 0 offices" in again.output
    )  # offices with bookings are left alone


def test_a_seed_repeats_and_more_seats_never_predict_a_longer_wait(app, office, clock):
    with app.app_context():
        today = simulation.rules_of(lanstrop())
        first = simulation.compare(
            lanstrop(), more_seats(today), weeks=6, now=clock.now, seed=5, runs=5
        )
        assert (
            simulation.compare(
                lanstrop(), more_seats(today), weeks=6, now=clock.now, seed=5, runs=5
            )
            == first
        )
        assert (first["current"]["seats_per_week"], first["proposed"]["seats_per_week"]) == (
            12.0,
            18.0,
        )
        assert first["demand"]["requests_per_week"] > 0
        for seed in (1, 2, 3):
            for proposed in (
                more_seats(today),
                simulation.one_more_hour(today, THURSDAY),
                simulation.one_more_hour(today, TUESDAY),
            ):
                result = simulation.compare(
                    lanstrop(), proposed, weeks=8, now=clock.now, seed=seed, runs=4
                )
                now, then = result["current"], result["proposed"]
                assert then["seats_per_week"] > now["seats_per_week"]
                assert then["wait_days"]["median"] <= now["wait_days"]["median"], (
                    seed,
                    proposed,
                    result,
                )
                assert then["wait_days"]["p90"] <= now["wait_days"]["p90"], (seed, proposed, result)
                assert then["queue"] <= now["queue"], (seed, proposed, result)
            fewer = simulation.compare(
                lanstrop(), more_seats(today, -1), weeks=8, now=clock.now, seed=seed, runs=4
            )
            assert (
                fewer["proposed"]["wait_days"]["median"] >= fewer["current"]["wait_days"]["median"]
            )
            assert fewer["proposed"]["queue"] >= fewer["current"]["queue"]


def test_one_more_hour_extends_the_day_or_opens_one():
    hours = [
        {
            "weekday": THURSDAY,
            "start": time(8, 30),
            "end": time(11, 30),
            "slot_minutes": 30,
            "seats": 2,
            "valid_from": None,
            "valid_until": None,
            "languages": [],
        }
    ]
    assert simulation.one_more_hour(hours, THURSDAY)[0]["end"] == time(12, 30)
    assert hours[0]["end"] == time(11, 30)  # the office's own hours are left alone
    [_same, tuesday] = simulation.one_more_hour(hours, TUESDAY)
    assert (tuesday["weekday"], tuesday["start"], tuesday["end"], tuesday["seats"]) == (
        TUESDAY,
        time(9),
        time(10),
        1,
    )


def test_the_backtest_predicts_a_recorded_month_from_the_weeks_before(app, office, clock):
    first = date(2026, 11, 2)  # the last three whole weeks before the clock's Monday
    with app.app_context():
        result = simulation.backtest(lanstrop(), first, 3, history_weeks=3, seed=1, runs=10)
    predicted, actual = result["predicted"], result["actual"]
    assert abs(result["demand"]["weeks_observed"] - 3) < 0.2
    assert (
        actual["wait_days"]["median"] is not None and predicted["wait_days"]["median"] is not None
    )
    # The model is rough (docs/figures.md reports how rough): the same order of magnitude.
    assert abs(predicted["wait_days"]["median"] - actual["wait_days"]["median"]) <= max(
        3.0, actual["wait_days"]["median"] / 2
    ), result
    assert abs(predicted["bookings_per_week"] - actual["bookings_per_week"]) <= 3, result


def test_the_api_compares_both_hours(app, office):
    client = app.test_client()
    url = "/api/v1/staff/offices/lanstrop/simulate"
    body = {
        "hours": [
            {
                "weekday": THURSDAY,
                "start": "08:30",
                "end": "12:30",
                "slot_minutes": 30,
                "seats": 2,
                "valid_from": None,
                "valid_until": None,
                "languages": ["ar"],
            }
        ],
        "weeks": 4,
        "seed": 3,
    }
    assert client.post(url, json=body).status_code == 401
    assert (
        client.post(
            "/api/v1/staff/offices/nordstadt/simulate",
            json=body,
            headers={"Authorization": f"Bearer {office['anna']}"},
        ).status_code
        == 403
    )
    response = client.post(url, json=body, headers={"Authorization": f"Bearer {office['anna']}"})
    assert response.status_code == 200, response.get_json()
    answer = response.get_json()
    assert set(answer["current"]) >= {"wait_days", "queue", "seats_per_week", "utilisation"}
    assert (answer["current"]["seats_per_week"], answer["proposed"]["seats_per_week"]) == (
        12.0,
        16.0,
    )
    assert answer["hours"][0]["end"] == "12:30" and answer["seed"] == 3
    again = client.post(
        url, json=body, headers={"Authorization": f"Bearer {office['admin']}"}
    ).get_json()
    assert (
        again["proposed"] == answer["proposed"]
    )  # an administrator, the same seed: the same answer
    quick = client.post(
        url,
        json={"one_more_hour": TUESDAY, "weeks": 2},
        headers={"Authorization": f"Bearer {office['anna']}"},
    ).get_json()
    assert quick["proposed"]["seats_per_week"] == 14.0
    # What is wrong, by field.
    response = client.post(
        "/api/v1/staff/offices/lanstrop/simulate",
        headers={"Authorization": f"Bearer {office['anna']}"},
        json={
            "hours": [
                {"weekday": 9, "start": "12:00", "end": "11:00", "slot_minutes": 30, "seats": 0}
            ],
            "weeks": 0,
        },
    )
    assert response.status_code == 422
    assert set(response.get_json()["fields"]) == {"hours.0.weekday", "hours.0.end", "hours.0.seats", "weeks"}
    response = client.post(
        "/api/v1/staff/offices/lanstrop/simulate",
        headers={"Authorization": f"Bearer {office['anna']}", "Accept-Language": "en"},
        json={
            "hours": [
                {"weekday": 1, "start": "12:00", "end": "11:00", "slot_minutes": 30, "seats": 1}
            ]
        },
    )
    assert response.get_json()["fields"] == {"hours.0.end": "Must be later than the start."}


def test_the_page_shows_one_more_hour_side_by_side_and_takes_edited_hours(app, office):
    client = app.test_client()
    factories.log_in(client, "anna@example.org")
    page = client.get("/staff/offices/lanstrop/simulate?lang=en&more=3")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Prediction for the next 12 weeks" in html, html
    assert "Today's hours" in html and "Proposed hours" in html and '<svg role="img"' in html
    assert 'value="12:30"' in html  # the extra hour, ready to edit
    token = factories.csrf_token(html)
    form = {
        "csrf_token": token,
        "weeks": "3",
        "seed": "1",
        "weekday-0": "3",
        "start-0": "08:30",
        "end-0": "11:30",
        "slot_minutes-0": "30",
        "seats-0": "3",
        "valid_from-0": "",
        "valid_until-0": "",
        "languages-0": "",
    }
    html = client.post("/staff/offices/lanstrop/simulate", data=form).get_data(as_text=True)
    assert "Prediction for the next 3 weeks" in html
    broken = client.post("/staff/offices/lanstrop/simulate", data={**form, "end-0": "08:00"})
    assert broken.status_code == 422 and 'aria-invalid="true"' in broken.get_data(as_text=True)
    assert client.get("/staff/offices/nordstadt/simulate").status_code == 403


def test_proposed_hours_are_refused_for_the_reasons_the_hours_page_refuses_them(app, office):
    """One rule for weekly hours (``services.hours``): what could not be saved cannot be
    simulated either, under the same field names."""
    rule = {"weekday": 1, "start": "09:00", "end": "10:00", "slot_minutes": 30, "seats": 1}
    cases = [
        ([rule, {**rule, "start": "09:30", "end": "10:30"}], {"hours.1.start"}),  # overlap
        ([{**rule, "end": "10:10"}], {"hours.0.slot_minutes"}),  # not a whole number of slots
        ([{**rule, "languages": ["xx"]}], {"hours.0.languages"}),
    ]
    for hours, fields in cases:
        response = app.test_client().post(
            "/api/v1/staff/offices/lanstrop/simulate", json={"hours": hours, "weeks": 1},
            headers={"Authorization": f"Bearer {office['anna']}"})
        assert response.status_code == 422, hours
        assert set(response.get_json()["fields"]) == fields, response.get_json()
