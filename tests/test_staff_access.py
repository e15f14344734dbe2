"""Staff accounts, login, sessions and API tokens: who gets in, and who sees which office."""

import pytest
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import AuditEntry, StaffAccount

from . import factories


@pytest.fixture
def offices(app):
    with app.app_context():
        lanstrop = factories.office()
        nordstadt = factories.office(
            slug="nordstadt", name="Nordstadt", address="Dortmund-Nordstadt"
        )
        factories.staff("anna@example.org", offices=[lanstrop])
        factories.staff("admin@example.org", admin=True)
        db.session.commit()
        return lanstrop.slug, nordstadt.slug


def test_anonymous_visitors_are_sent_to_the_login_form(client, offices):
    response = client.get("/staff/")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/staff/login?next=")


def test_a_wrong_password_is_refused_and_says_so(client, offices):
    token = factories.csrf_token(client.get("/staff/login").get_data(as_text=True))
    response = client.post(
        "/staff/login",
        data={"email": "anna@example.org", "password": "wrong password!", "csrf_token": token},
    )
    assert response.status_code == 401
    assert "falsch" in response.get_data(as_text=True)  # the workspace speaks German by default
    assert client.get("/staff/").status_code == 303


def test_staff_see_their_offices_and_administrators_all(app, offices):
    anna, admin = app.test_client(), app.test_client()
    factories.log_in(anna, "ANNA@example.org ")  # addresses are matched without case and spaces
    page = anna.get("/staff/").get_data(as_text=True)
    assert "Lanstrop" in page and "Nordstadt" not in page
    factories.log_in(admin, "admin@example.org")
    page = admin.get("/staff/?lang=en").get_data(as_text=True)
    assert "Lanstrop" in page and "Nordstadt" in page and "Your offices" in page


def test_logging_out_ends_the_session(client, offices):
    factories.log_in(client, "anna@example.org")
    token = factories.csrf_token(client.get("/staff/").get_data(as_text=True))
    assert client.post("/staff/logout", data={"csrf_token": token}).status_code == 303
    assert client.get("/staff/").status_code == 303


def test_logout_needs_the_form_token(client, offices):
    factories.log_in(client, "anna@example.org")
    assert client.post("/staff/logout").status_code == 400
    assert client.get("/staff/").status_code == 200


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/staff/", "/\\evil.example", "/o/lanstrop"]
)
def test_login_never_sends_anyone_to_another_site(client, offices, target):
    token = factories.csrf_token(client.get("/staff/login").get_data(as_text=True))
    response = client.post(
        "/staff/login",
        query_string={"next": target},
        data={
            "email": "anna@example.org",
            "password": factories.STAFF_PASSWORD,
            "csrf_token": token,
        },
    )
    assert response.headers["Location"] == "/staff/"


def test_login_comes_back_to_the_page_it_interrupted(client, offices):
    first = client.get("/staff/?lang=en")
    token = factories.csrf_token(client.get(first.headers["Location"]).get_data(as_text=True))
    response = client.post(
        first.headers["Location"],
        data={
            "email": "anna@example.org",
            "password": factories.STAFF_PASSWORD,
            "csrf_token": token,
        },
    )
    assert response.headers["Location"] == "/staff/?lang=en"


def test_a_new_password_or_deactivation_ends_other_sessions(app, offices, clock):
    from scheduler.services import staff as accounts

    client = app.test_client()
    factories.log_in(client, "anna@example.org")
    with app.app_context():
        anna = accounts.by_email("anna@example.org")
        accounts.set_password(anna, "another long password", actor=None, now=clock.now)
        db.session.commit()
    assert client.get("/staff/").status_code == 303
    factories.log_in(client, "anna@example.org", "another long password")
    with app.app_context():
        admin = accounts.by_email("admin@example.org")
        accounts.update_account(
            accounts.by_email("anna@example.org"), active=False, actor=admin, now=clock.now
        )
        db.session.commit()
    assert client.get("/staff/").status_code == 303
    token = factories.csrf_token(client.get("/staff/login").get_data(as_text=True))
    assert (
        client.post(
            "/staff/login",
            data={
                "email": "anna@example.org",
                "password": "another long password",
                "csrf_token": token,
            },
        ).status_code
        == 401
    )


def test_an_administrator_cannot_lock_themselves_out(app, offices, clock):
    from scheduler.services import staff as accounts
    from scheduler.services.errors import Conflict

    with app.app_context():
        admin = accounts.by_email("admin@example.org")
        for change in ({"admin": False}, {"active": False}):
            with pytest.raises(Conflict):
                accounts.update_account(admin, actor=admin, now=clock.now, **change)


def test_passwords_are_long_and_stored_as_argon2(app, offices, clock):
    from scheduler.services import staff as accounts
    from scheduler.services.errors import InvalidInput

    with app.app_context():
        with pytest.raises(InvalidInput) as refused:
            accounts.create_account("new@example.org", "elevenchars", actor=None, now=clock.now)
        assert "password" in refused.value.fields
        stored = db.session.scalar(
            select(StaffAccount.password_hash).where(StaffAccount.email == "anna@example.org")
        )
        assert stored.startswith("$argon2id$") and factories.STAFF_PASSWORD not in stored


def test_the_api_wants_a_valid_bearer_token(app, offices, clock):
    client = app.test_client()
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic YTpi"}):
        response = client.get("/api/v1/staff/offices", headers=headers)
        assert response.status_code == 401 and response.is_json
        assert response.json["code"] == "unauthorized"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    with app.app_context():
        token = factories.api_token(StaffAccount.query.filter_by(email="anna@example.org").one())
        db.session.commit()
    response = client.get("/api/v1/staff/offices", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert [office["slug"] for office in response.json["offices"]] == ["lanstrop"]
    assert response.headers["Cache-Control"] == "no-store"


def test_the_command_line_creates_accounts_and_tokens_and_revokes_them(app, runner, offices):
    result = runner.invoke(
        args=[
            "staff",
            "create",
            "ben@example.org",
            "--office",
            "lanstrop",
            "--office",
            "nordstadt",
        ],
        input="a long password\na long password\n",
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["staff", "token", "ben@example.org"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    client = app.test_client()
    listed = client.get("/api/v1/staff/offices", headers={"Authorization": f"Bearer {token}"}).json
    assert [office["slug"] for office in listed["offices"]] == ["lanstrop", "nordstadt"]

    assert runner.invoke(args=["staff", "token", "ben@example.org", "--revoke"]).exit_code == 0
    assert (
        client.get(
            "/api/v1/staff/offices", headers={"Authorization": f"Bearer {token}"}
        ).status_code
        == 401
    )
    with app.app_context():
        stored = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
        assert stored[-3:] == ["staff.create", "staff.token", "staff.revoke_tokens"]
        # The audit log keeps ids and settings, never a token or a password.
        for entry in db.session.scalars(select(AuditEntry)):
            assert token not in str(entry.after) and "password" not in str(entry.after)


@pytest.mark.parametrize(
    "args",
    [
        ["staff", "create", "short@example.org", "--password", "too short"],
        [
            "staff",
            "create",
            "x@example.org",
            "--office",
            "nowhere",
            "--password",
            "a long password",
        ],
        ["staff", "create", "anna@example.org", "--password", "a long password"],
        ["staff", "token", "nobody@example.org"],
    ],
)
def test_the_command_line_says_what_is_wrong(runner, offices, args):
    result = runner.invoke(args=args)
    assert result.exit_code == 1
    assert "Error:" in result.output


@pytest.fixture
def config_overrides(request):
    if "limited" in request.keywords:
        return {"RATELIMIT_ENABLED": True, "RATELIMIT_LOGIN": "3 per minute"}
    return {}


@pytest.mark.limited
def test_only_failed_logins_count_against_the_limit(app, offices):
    client = app.test_client()
    for _ in range(4):  # successful logins do not count
        factories.log_in(client, "anna@example.org")
    token = factories.csrf_token(client.get("/staff/login").get_data(as_text=True))
    wrong = {"email": "anna@example.org", "password": "wrong password!", "csrf_token": token}
    assert [client.post("/staff/login", data=wrong).status_code for _ in range(4)] == [
        401,
        401,
        401,
        429,
    ]


def test_session_cookies_are_secure_behind_https_and_expire(app, offices):
    client = app.test_client()
    response = factories.log_in(client, "anna@example.org")
    cookie = response.headers["Set-Cookie"]
    assert (
        "Secure" in cookie and "HttpOnly" in cookie and "Expires=" in cookie
    )  # PUBLIC_BASE_URL is https
