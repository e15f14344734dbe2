"""Administrators: accounts and offices through the pages and the API, and who may do what."""

from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import AuditEntry, Office, StaffAccount

from . import factories
from .staff_admin import PEOPLE, post_form, world  # noqa: F401  (world is a fixture)

ROLES = (None, "anna", "ben", "admin")


def expect(anonymous, anna, ben, admin):
    return dict(zip(ROLES, (anonymous, anna, ben, admin), strict=True))


def test_who_may_open_the_administrators_pages(world):
    """Anonymous visitors go to the login; Anna works at Lanstrop, Ben at Nordstadt."""
    admin_only, lanstrop = expect(303, 403, 403, 200), expect(303, 200, 403, 200)
    pages = {
        "/staff/accounts": admin_only,
        "/staff/accounts/new": admin_only,
        f"/staff/accounts/{world.ids['anna']}": admin_only,
        "/staff/offices/new": admin_only,
        "/staff/offices/lanstrop/settings": lanstrop,
        "/staff/offices/lanstrop/feed": lanstrop,
        "/staff/offices/lanstrop/feed/renew": expect(303, 403, 403, 200),
        "/staff/residents": admin_only,
        "/staff/audit": admin_only,
    }
    clients = {who: world.page(who) for who in ROLES}
    seen = {path: {who: clients[who].get(path).status_code for who in ROLES} for path in pages}
    assert seen == pages
    assert clients[None].get("/staff/accounts").headers["Location"].startswith("/staff/login?next=")


def test_who_may_change_things_through_the_pages(world):
    """Posts by staff who are no administrators are refused before anything happens."""
    anna_id = world.ids["anna"]
    posts = {
        f"/staff/accounts/{anna_id}": {"name": "x"},
        f"/staff/accounts/{anna_id}/password": {"password": "x" * 20},
        "/staff/accounts/new": {"email": "x@example.org", "password": "x" * 20},
        "/staff/offices/new": {"slug": "new", "name": "New"},
        "/staff/offices/lanstrop/feed/renew": {},
        "/staff/residents": {"phone": factories.mobile()},
        "/staff/residents/export": {"phone": factories.mobile()},
        "/staff/residents/erase": {"phone": factories.mobile(), "confirm": "y"},
    }
    for who in ("anna", "ben"):
        client = world.page(who)
        assert {
            path: post_form(client, path, data).status_code for path, data in posts.items()
        } == dict.fromkeys(posts, 403)
    ben = world.page("ben")
    assert post_form(ben, "/staff/offices/lanstrop/settings", {"note": "x"}).status_code == 403
    with world.app.app_context():
        assert (
            db.session.scalars(select(AuditEntry.action)).all()
            == ["staff.create"] * 3 + ["staff.token"] * 3
        )


def test_who_may_call_the_administrators_api(world):
    phone = factories.mobile()
    calls = [
        ("GET", "/api/v1/staff/accounts", {}, expect(401, 403, 403, 200)),
        (
            "POST",
            "/api/v1/staff/accounts",
            {"json": {"email": "new@example.org", "password": "y" * 12}},
            expect(401, 403, 403, 201),
        ),
        (
            "PATCH",
            f"/api/v1/staff/accounts/{world.ids['ben']}",
            {"json": {"name": "Ben"}},
            expect(401, 403, 403, 200),
        ),
        (
            "POST",
            "/api/v1/staff/offices",
            {"json": {"slug": "huckarde", "name": "Huckarde"}},
            expect(401, 403, 403, 201),
        ),
        (
            "PATCH",
            "/api/v1/staff/offices/lanstrop",
            {"json": {"note": "Pass mitbringen"}},
            expect(401, 200, 403, 200),
        ),
        (
            "PATCH",
            "/api/v1/staff/offices/lanstrop",
            {"json": {"name": "Lanstrop-Grevel"}},
            expect(401, 403, 403, 200),
        ),
        ("GET", "/api/v1/staff/offices/lanstrop/feed", {}, expect(401, 200, 403, 200)),
        ("POST", "/api/v1/staff/offices/lanstrop/feed/renew", {}, expect(401, 403, 403, 200)),
        (
            "GET",
            "/api/v1/staff/residents",
            {"query_string": {"phone": phone}},
            expect(401, 403, 403, 200),
        ),
        (
            "DELETE",
            "/api/v1/staff/residents",
            {"query_string": {"phone": phone}},
            expect(401, 403, 403, 200),
        ),
        ("GET", "/api/v1/staff/audit", {}, expect(401, 403, 403, 200)),
    ]
    for method, path, kwargs, expected in calls:
        answers = {who: world.api(who, method, path, **kwargs) for who in ROLES}
        assert {who: answer.status_code for who, answer in answers.items()} == expected, (
            method,
            path,
        )
        assert all(answer.is_json for answer in answers.values())


def test_an_administrator_creates_an_account_with_offices(world):
    admin = world.page("admin")
    page = admin.get("/staff/accounts/new")
    assert 'type="checkbox"' in page.get_data(as_text=True) and "Lanstrop" in page.get_data(
        as_text=True
    )
    short = post_form(
        admin, "/staff/accounts/new", {"email": "clara@example.org", "password": "too short"}
    )
    assert short.status_code == 422 and "at least 12 characters" in short.get_data(as_text=True)
    made = post_form(
        admin,
        "/staff/accounts/new",
        {
            "email": "Clara@Example.org",
            "name": "Clara",
            "password": "a long first password",
            "offices": ["lanstrop", "nordstadt"],
        },
    )
    assert made.status_code == 303 and made.headers["Location"] == "/staff/accounts"
    listing = admin.get("/staff/accounts").get_data(as_text=True)
    assert "clara@example.org" in listing and "Lanstrop, Nordstadt" in listing
    again = post_form(
        admin, "/staff/accounts/new", {"email": "clara@example.org", "password": "another long one"}
    )
    assert again.status_code == 409 and "exists already" in again.get_data(as_text=True)
    clara = world.app.test_client()
    factories.log_in(clara, "clara@example.org", "a long first password")
    assert "Nordstadt" in clara.get("/staff/?lang=en").get_data(as_text=True)
    with world.app.app_context():
        entry = db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "staff.create")
            .order_by(AuditEntry.id.desc())
        ).first()
        assert entry.staff.email == PEOPLE["admin"]
        assert entry.after == {
            "email": "clara@example.org",
            "admin": False,
            "active": True,
            "offices": ["lanstrop", "nordstadt"],
        }


def test_deactivating_an_account_ends_its_sessions_and_tokens_and_reactivating_lets_it_in(world):
    anna, admin = world.page("anna"), world.page("admin")
    path = f"/staff/accounts/{world.ids['anna']}"
    assert post_form(admin, path, {"offices": ["lanstrop"]}).status_code == 303  # active unticked
    assert anna.get("/staff/").status_code == 303
    assert world.api("anna", "GET", "/api/v1/staff/offices").status_code == 401
    assert "deactivated" in admin.get("/staff/accounts").get_data(as_text=True)
    assert post_form(admin, path, {"offices": ["nordstadt"], "active": "y"}).status_code == 303
    factories.log_in(anna, PEOPLE["anna"])
    page = anna.get("/staff/?lang=en").get_data(as_text=True)
    assert "Nordstadt" in page and "Lanstrop" not in page
    with world.app.app_context():
        entry = db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "staff.update")
            .order_by(AuditEntry.id.desc())
        ).first()
        assert (entry.before["active"], entry.after["active"]) == (False, True)
        assert (entry.before["offices"], entry.after["offices"]) == (["lanstrop"], ["nordstadt"])


def test_resetting_a_password_ends_the_sessions_and_the_new_one_works(world):
    anna, admin = world.page("anna"), world.page("admin")
    path = f"/staff/accounts/{world.ids['anna']}/password"
    page = f"/staff/accounts/{world.ids['anna']}"
    refused = post_form(admin, path, {"password": "short"}, page=page)
    assert refused.status_code == 422 and "at least 12 characters" in refused.get_data(as_text=True)
    assert (
        post_form(admin, path, {"password": "a brand new password"}, page=page).status_code == 303
    )
    assert anna.get("/staff/").status_code == 303
    factories.log_in(anna, PEOPLE["anna"], "a brand new password")
    with world.app.app_context():
        actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
        assert actions[-1] == "staff.password" and "staff.update" not in actions


def test_an_administrator_cannot_take_their_own_rights_on_the_page_or_through_the_api(world):
    admin = world.page("admin")
    page = admin.get(f"/staff/accounts/{world.ids['admin']}").get_data(as_text=True)
    assert 'name="admin"' not in page and 'name="active"' not in page and "your own account" in page
    # Posting the fields anyway changes nothing: the form has none to read.
    post_form(
        admin, f"/staff/accounts/{world.ids['admin']}", {"name": "Root", "admin": "", "active": ""}
    )
    answer = world.api(
        "admin", "PATCH", f"/api/v1/staff/accounts/{world.ids['admin']}", json={"active": False}
    )
    assert answer.status_code == 409 and answer.json["code"] == "own_account"
    with world.app.app_context():
        me = db.session.get(StaffAccount, world.ids["admin"])
        assert (me.is_admin, me.active, me.name) == (True, True, "Root")


def test_accounts_through_the_api(world):
    created = world.api(
        "admin",
        "POST",
        "/api/v1/staff/accounts",
        json={
            "email": "dana@example.org",
            "password": "dana's long password",
            "offices": ["nordstadt"],
            "admin": False,
        },
    )
    assert created.status_code == 201
    assert {key: created.json[key] for key in ("email", "admin", "active", "offices")} == {
        "email": "dana@example.org",
        "admin": False,
        "active": True,
        "offices": ["nordstadt"],
    }
    listed = world.api("admin", "GET", "/api/v1/staff/accounts").json["accounts"]
    assert [account["email"] for account in listed] == [
        "admin@example.org",
        "anna@example.org",
        "ben@example.org",
        "dana@example.org",
    ]
    assert all("password" not in str(account) for account in listed)
    path = f"/api/v1/staff/accounts/{created.json['id']}"
    changed = world.api(
        "admin", "PATCH", path, json={"offices": ["lanstrop", "nordstadt"], "admin": True}
    )
    assert changed.status_code == 200 and changed.json["admin"] is True
    assert changed.json["offices"] == ["lanstrop", "nordstadt"]
    assert (
        world.api("admin", "PATCH", path, json={"password": "dana's second password"}).status_code
        == 200
    )
    dana = world.app.test_client()
    factories.log_in(dana, "dana@example.org", "dana's second password")
    for body, field in (
        ({"offices": [1]}, "offices"),
        ({"offices": ["nowhere"]}, "offices"),
        ({"password": "short"}, "password"),
        ({"active": "no"}, "active"),
    ):
        answer = world.api("admin", "PATCH", path, json=body)
        assert answer.status_code == 422 and field in answer.json["fields"], body
    assert world.api("admin", "PATCH", "/api/v1/staff/accounts/9999", json={}).status_code == 404


def test_an_administrator_changes_an_office_and_the_log_keeps_before_and_after(world):
    admin = world.page("admin")
    page = admin.get("/staff/offices/lanstrop/settings").get_data(as_text=True)
    assert 'value="Lanstrop"' in page and 'value="ar"' in page and "What to bring" in page
    saved = post_form(
        admin,
        "/staff/offices/lanstrop/settings",
        {
            "name": "Lanstrop-Grevel",
            "address": "Nadlerweg 1, 44329 Dortmund",
            "languages": ["de", "ar"],
            "note": "Bitte den Pass mitbringen.",  # active unticked: residents can no longer book
        },
    )
    assert saved.status_code == 303
    with world.app.app_context():
        office = db.session.get(Office, world.ids["lanstrop"])
        assert (office.name, office.languages, office.active, office.note) == (
            "Lanstrop-Grevel",
            "de,ar",
            False,
            "Bitte den Pass mitbringen.",
        )
        entry = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "office.update")
        ).one()
        assert (
            entry.office_id == office.id
            and entry.record_type == "office"
            and entry.record_id == office.id
        )
        assert entry.before == {
            "name": "Lanstrop",
            "languages": ["de", "en", "ar"],
            "active": True,
            "note": "",
        }
        assert entry.after == {
            "name": "Lanstrop-Grevel",
            "languages": ["de", "ar"],
            "active": False,
            "note": "Bitte den Pass mitbringen.",
        }
    assert "Lanstrop" not in [
        office["slug"] for office in world.app.test_client().get("/api/v1/offices").json["offices"]
    ]
    refused = post_form(
        admin, "/staff/offices/lanstrop/settings", {"name": " ", "languages": ["xx"]}
    )
    assert refused.status_code == 422


def test_the_office_staff_may_change_only_the_note(world):
    anna = world.page("anna")
    page = anna.get("/staff/offices/lanstrop/settings").get_data(as_text=True)
    assert 'name="note"' in page and 'name="name"' not in page and 'name="active"' not in page
    assert (
        post_form(
            anna,
            "/staff/offices/lanstrop/settings",
            {"note": "Pass und Briefe mitbringen", "name": "Hijacked"},
        ).status_code
        == 303
    )
    answer = world.api(
        "anna", "PATCH", "/api/v1/staff/offices/lanstrop", json={"note": "Nur den Pass"}
    )
    assert answer.status_code == 200 and answer.json["note"] == "Nur den Pass"
    assert (
        world.api(
            "anna", "PATCH", "/api/v1/staff/offices/lanstrop", json={"active": False}
        ).status_code
        == 403
    )
    with world.app.app_context():
        office = db.session.get(Office, world.ids["lanstrop"])
        assert (office.name, office.active, office.note) == ("Lanstrop", True, "Nur den Pass")
        entries = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "office.update").order_by(AuditEntry.id)
        ).all()
        assert [entry.after for entry in entries] == [
            {"note": "Pass und Briefe mitbringen"},
            {"note": "Nur den Pass"},
        ]
        assert {entry.staff_id for entry in entries} == {world.ids["anna"]}


def test_a_new_office_needs_a_valid_unused_slug(world):
    admin = world.page("admin")
    for slug in ("Huckarde", "huck arde", "-huckarde", "hückarde", "huckarde-"):
        answer = post_form(admin, "/staff/offices/new", {"slug": slug, "name": "Huckarde"})
        assert answer.status_code == 422 and "lowercase letters" in answer.get_data(as_text=True), (
            slug
        )
    taken = post_form(admin, "/staff/offices/new", {"slug": "lanstrop", "name": "Another"})
    assert taken.status_code == 409
    made = post_form(
        admin,
        "/staff/offices/new",
        {
            "slug": "huckarde-2",
            "name": "Huckarde",
            "address": "Urbanusstr. 5",
            "languages": ["de", "en"],
            "active": "y",
        },
    )
    assert (
        made.status_code == 303 and made.headers["Location"] == "/staff/offices/huckarde-2/settings"
    )
    assert "Huckarde" in admin.get("/staff/").get_data(as_text=True)
    api = world.api(
        "admin",
        "POST",
        "/api/v1/staff/offices",
        json={"slug": "eving", "name": "Eving", "languages": ["de", "xx"]},
    )
    assert api.status_code == 422 and "languages" in api.json["fields"]
    api = world.api(
        "admin", "POST", "/api/v1/staff/offices", json={"slug": "eving", "name": "Eving"}
    )
    assert (
        api.status_code == 201
        and api.json["slug"] == "eving"
        and api.json["timezone"] == "Europe/Berlin"
    )
    assert (
        world.api(
            "admin", "POST", "/api/v1/staff/offices", json={"slug": "eving", "name": "E"}
        ).json["code"]
        == "office_exists"
    )
    with world.app.app_context():
        created = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "office.create").order_by(AuditEntry.id)
        ).all()
        assert [entry.after["slug"] for entry in created] == ["huckarde-2", "eving"]


def test_data_requests_show_in_the_header_for_administrators_only(world):
    assert "Data requests" in world.page("admin").get("/staff/").get_data(as_text=True)
    for who in ("anna", "ben"):
        page = world.page(who).get("/staff/").get_data(as_text=True)
        assert (
            "Data requests" not in page
            and "/staff/residents" not in page
            and "/staff/audit" not in page
        )
