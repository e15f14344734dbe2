"""Set-up shared by the administrators' tests: two offices, staff of each, an administrator.

Import ``world`` into a test module to use it as a fixture.
"""
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient

from scheduler.extensions import db

from . import factories

PEOPLE = {"anna": "anna@example.org", "ben": "ben@example.org", "admin": "admin@example.org"}


@dataclass
class World:
    """Lanstrop (Anna works there) and Nordstadt (Ben), and an administrator; their API tokens."""

    app: Flask
    tokens: dict
    ids: dict

    def page(self, who: str | None) -> FlaskClient:
        """A browser: anonymous (None) or logged in as ``who``, speaking English."""
        client = self.app.test_client()
        if who is not None:
            factories.log_in(client, PEOPLE[who])
        client.get("/staff/login?lang=en" if who is None else "/staff/?lang=en")
        return client

    def api(self, who: str | None, method: str, path: str, **kwargs):
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who is not None else {}
        return getattr(self.app.test_client(), method.lower())(path, headers=headers, **kwargs)


@pytest.fixture
def world(app):
    with app.app_context():
        lanstrop = factories.office()
        nordstadt = factories.office(slug="nordstadt", name="Nordstadt", address="Mallinckrodtstr. 1")
        accounts = {
            "anna": factories.staff(PEOPLE["anna"], offices=[lanstrop]),
            "ben": factories.staff(PEOPLE["ben"], offices=[nordstadt]),
            "admin": factories.staff(PEOPLE["admin"], admin=True),
        }
        tokens = {who: factories.api_token(account) for who, account in accounts.items()}
        db.session.commit()
        ids = {who: account.id for who, account in accounts.items()}
        ids.update(lanstrop=lanstrop.id, nordstadt=nordstadt.id)
    return World(app, tokens, ids)


def post_form(client: FlaskClient, path: str, data: dict, page: str | None = None):
    """Post ``data`` to ``path`` with the CSRF token of ``page`` (default: the start page)."""
    token = factories.csrf_token(client.get(page or "/staff/").get_data(as_text=True))
    return client.post(path, data={**data, "csrf_token": token})
