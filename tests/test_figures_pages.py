"""The figures pages, their CSV and charts, and the staff API: who may see what."""

import csv
import io
import xml.etree.ElementTree as ElementTree

import pytest

from scheduler.extensions import db

from . import factories
from .staff_figures import build_week

SVG = "{http://www.w3.org/2000/svg}"
PERIOD = {"from": "2026-11-23", "to": "2026-11-29"}


@pytest.fixture
def week(app, clock, runner):
    ids = build_week(app, clock, runner)
    with app.app_context():
        from scheduler.models import Office

        lanstrop = db.session.get(Office, ids["lanstrop"])
        anna = factories.staff("anna@example.org", offices=[lanstrop])
        factories.staff("admin@example.org", admin=True)
        tokens = {
            "anna": factories.api_token(anna),
            "admin": factories.api_token(
                db.session.scalars(
                    db.select(type(anna)).where(type(anna).email == "admin@example.org")
                ).one()
            ),
        }
        db.session.commit()
    return tokens


def logged_in(app, email):
    client = app.test_client()
    factories.log_in(client, email)
    client.get("/staff/?lang=en")
    return client


def test_the_office_page_shows_the_figures_and_charts_with_their_tables(app, week):
    client = logged_in(app, "anna@example.org")
    response = client.get("/staff/offices/lanstrop/figures", query_string=PERIOD)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Figures of Lanstrop" in page and "Refill rate" in page
    assert page.count('<svg role="img"') == 4
    # Every chart is valid SVG with its title, hatched bars or marked lines, and text labels.
    charts = [
        page[page.index("<svg", at) : page.index("</svg>", at) + 6]
        for at in [i for i in range(len(page)) if page.startswith('<svg role="img"', i)]
    ]
    demand = ElementTree.fromstring(charts[0])
    assert demand.find(f"{SVG}title").text == "Requests and appointments per week"
    texts = "".join(demand.itertext())
    assert "Requests" in texts and "Appointments" in texts and "W48" in texts
    assert demand.findall(f".//{SVG}pattern"), "bars are told apart by hatching"
    waits = ElementTree.fromstring(charts[1])
    assert "Median" in "".join(waits.itertext()) and "90th percentile" in "".join(waits.itertext())
    ids = [
        element.get("id")
        for chart in charts
        for element in ElementTree.fromstring(chart).iter()
        if element.get("id")
    ]
    assert len(ids) == len(set(ids)), "ids stay unique on the page"
    assert page.count("<table") >= 4 + 3  # a table per chart, the figures, languages, sources


def test_the_csv_has_a_header_row_a_row_per_week_and_a_total(app, week):
    client = logged_in(app, "anna@example.org")
    response = client.get(
        "/staff/offices/lanstrop/figures", query_string={**PERIOD, "format": "csv"}
    )
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "figures-lanstrop-2026-11-23-2026-11-29.csv" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [row["week"] for row in rows] == ["2026-W48", "total"]
    total = rows[-1]
    assert (total["requests"], total["bookings"], total["no_shows"]) == ("6", "3", "1")
    assert (total["wait_days_median"], total["wait_days_p90"], total["refill_rate"]) == (
        "2.9",
        "3.0",
        "0.5",
    )
    assert (total["by_language_ar"], total["by_source_waitlist"], total["offers_accepted"]) == (
        "1",
        "1",
        "1",
    )
    assert total["sms_messages"] == "13"


def test_the_api_answers_json_and_csv(app, week):
    client = app.test_client()
    headers = {"Authorization": f"Bearer {week['anna']}"}
    body = client.get(
        "/api/v1/staff/offices/lanstrop/figures", query_string=PERIOD, headers=headers
    ).get_json()
    assert body["office"] == "lanstrop" and (body["from"], body["to"]) == (
        "2026-11-23",
        "2026-11-29",
    )
    assert (body["requests"], body["bookings"], body["refilled_seats"]) == (6, 3, 1)
    assert body["wait_days"] == {"median": 2.9, "p90": 3.0}
    assert body["sms"]["currency"] == "EUR"
    [week48] = body["weeks"]
    assert week48["week"] == "2026-W48" and week48["bookings"] == 3
    response = client.get(
        "/api/v1/staff/offices/lanstrop/figures",
        query_string={**PERIOD, "format": "csv"},
        headers=headers,
    )
    assert response.get_data(as_text=True).startswith("office,week,from,to,requests,")


@pytest.mark.parametrize(
    "query,field",
    [
        ({"from": "23.11.2026"}, "from"),
        ({"from": "2026-11-30", "to": "2026-11-29"}, "to"),
        ({"from": "2020-01-01", "to": "2026-01-01"}, "to"),
    ],
)
def test_a_wrong_period_is_refused_by_field(app, week, query, field):
    client = app.test_client()
    response = client.get(
        "/api/v1/staff/offices/lanstrop/figures",
        query_string=query,
        headers={"Authorization": f"Bearer {week['anna']}"},
    )
    assert response.status_code == 422 and field in response.get_json()["fields"]
    page = logged_in(app, "anna@example.org").get(
        "/staff/offices/lanstrop/figures", query_string=query
    )
    assert page.status_code == 422 and 'aria-invalid="true"' in page.get_data(as_text=True)


def test_who_may_see_which_figures(app, week):
    anonymous = app.test_client()
    assert anonymous.get("/staff/offices/lanstrop/figures").status_code == 303
    assert anonymous.get("/api/v1/staff/offices/lanstrop/figures").status_code == 401
    assert anonymous.get("/api/v1/staff/figures").status_code == 401
    anna = logged_in(app, "anna@example.org")
    assert anna.get("/staff/offices/nordstadt/figures").status_code == 403
    assert (
        anna.get(
            "/api/v1/staff/offices/nordstadt/figures",
            headers={"Authorization": f"Bearer {week['anna']}"},
        ).status_code
        == 403
    )
    # All offices: Anna sees hers only, the administrator every office.
    mine = anna.get(
        "/api/v1/staff/figures",
        query_string=PERIOD,
        headers={"Authorization": f"Bearer {week['anna']}"},
    ).get_json()
    assert [entry["office"] for entry in mine["offices"]] == ["lanstrop"] and mine["bookings"] == 3
    page = anna.get("/staff/figures", query_string=PERIOD).get_data(as_text=True)
    assert "Lanstrop" in page and "Nordstadt" not in page
    admin = logged_in(app, "admin@example.org")
    everyone = admin.get(
        "/api/v1/staff/figures",
        query_string=PERIOD,
        headers={"Authorization": f"Bearer {week['admin']}"},
    ).get_json()
    assert sorted(entry["office"] for entry in everyone["offices"]) == ["lanstrop", "nordstadt"]
    assert everyone["bookings"] == 4
    assert admin.get("/staff/offices/nordstadt/figures").status_code == 200
    rows = list(
        csv.DictReader(
            io.StringIO(
                admin.get("/staff/figures", query_string={**PERIOD, "format": "csv"}).get_data(
                    as_text=True
                )
            )
        )
    )
    assert [(row["office"], row["week"]) for row in rows] == [
        ("all", "2026-W48"),
        ("all", "total"),
        ("lanstrop", "2026-W48"),
        ("lanstrop", "total"),
        ("nordstadt", "2026-W48"),
        ("nordstadt", "total"),
    ]


def test_the_page_speaks_german_by_default(app, week):
    client = app.test_client()
    factories.log_in(client, "anna@example.org")
    response = client.get("/staff/offices/lanstrop/figures", query_string=PERIOD)
    assert response.status_code == 200
    assert '<html lang="de">' in response.get_data(as_text=True)
    assert "2,9" in response.get_data(as_text=True)  # the median wait, written the German way
