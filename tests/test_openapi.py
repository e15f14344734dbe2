"""The OpenAPI description stays true: it names every /api/v1 route and nothing else, and
schemathesis calls every operation with input generated from it (valid and invalid) on
SQLite and PostgreSQL, finding no 5xx and no answer that breaks the description.

Generated tokens and ids rarely name anything, so each generated call is made a second time
with the path pointing at real data: the demo office, a booking, a waiting, a staff account.
The number of examples is bounded and derandomised: the run is the same every time.
"""
import re
from datetime import timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from scheduler.extensions import db
from scheduler.services import booking, waitlist

from . import factories

EXAMPLES = 12
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


def described_routes(app):
    """(method, path) of every /api/v1 rule, in OpenAPI's path syntax."""
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1"):
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
            routes |= {(method.lower(), path) for method in rule.methods - {"HEAD", "OPTIONS"}}
    return routes


def test_the_description_names_every_route_of_the_api_and_no_other(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    description = response.json
    assert description["openapi"].startswith("3.1")
    described = {(method, path) for path, item in description["paths"].items() for method in item}
    assert described == described_routes(client.application)


def test_the_staff_routes_ask_for_a_token_and_the_residents_do_not(client):
    for path, item in client.get("/api/v1/openapi.json").json["paths"].items():
        for operation in item.values():
            assert ("security" in operation) == path.startswith("/api/v1/staff/"), path


@pytest.fixture
def world(app, clock):
    """Real data for the generated calls to reach: an office with times, a booking, a
    waiting, an administrator with an API token."""
    with app.app_context():
        office = factories.office()
        slots = [factories.slot(office, clock.now + timedelta(days=3, minutes=30 * n), seats=2)
                 for n in range(3)]
        made = booking.book(slots[0].id, name="Olena", phone=factories.mobile(), locale="uk",
                            now=clock.now)
        entry = waitlist.join(office, name="Karim", phone=factories.mobile(), locale="ar",
                              now=clock.now)
        admin = factories.staff(admin=True)
        token = factories.api_token(admin)
        db.session.commit()
        return {"slug": office.slug, "booking": made.token, "booking_id": made.id,
                "entry": entry.token, "entry_id": entry.id, "account_id": admin.id,
                "slot_id": slots[1].id, "bearer": token}


def real_path(operation, world):
    """The path parameters of ``operation`` pointed at ``world``'s data."""
    path = operation.path
    token = (world["booking"] if path.startswith("/api/v1/bookings/")
             else world["entry"] if path.startswith("/api/v1/waitlist/") else None)
    known = {"slug": world["slug"], "token": token, "booking_id": world["booking_id"],
             "entry_id": world["entry_id"], "account_id": world["account_id"]}
    return {name: known[name] for name in re.findall(r"{(\w+)}", path)
            if known.get(name) is not None}


def test_schemathesis_finds_no_server_error_and_no_answer_outside_the_description(app, world):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = {"Authorization": f"Bearer {world['bearer']}"}
    failures, answered = [], set()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 35

    for operation in operations:
        try:
            exercise(operation, world, headers, answered)
        except Exception as error:  # every operation is tried; all failures are reported
            failures.append(f"{operation.label}: {error}"[:2000])
    assert failures == []
    # The run reaches the code behind the validation: most operations did their work at
    # least once (the rest need data the generator cannot guess, such as an offer's token).
    assert len(answered) > len(operations) / 2, sorted(answered)


def exercise(operation, world, headers, answered):
    """Call ``operation`` with generated input, then again on real data; raise on a failure.
    ``answered`` collects the operations that answered 2xx at least once."""

    @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                          operation.as_strategy(GenerationMode.NEGATIVE)))
    def call(case):
        responses = [case.call_and_validate(headers=headers, checks=CHECKS)]
        real = real_path(operation, world)
        if real:
            case.path_parameters = {**(case.path_parameters or {}), **real}
            responses.append(case.call_and_validate(headers=headers, checks=CHECKS))
        if any(response.status_code < 300 for response in responses):
            answered.add(operation.label)

    call()
