"""Every word a resident reads is translated, in every language the service offers."""
import re
from datetime import timedelta

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from sqlalchemy import select

from scheduler.config import DEFAULTS, ROOT
from scheduler.extensions import db
from scheduler.models import Booking

from . import factories

LANGUAGES = DEFAULTS["LANGUAGES"]
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def catalog(language):
    with open(ROOT / "translations" / language / "LC_MESSAGES" / "messages.po", "rb") as file:
        return read_po(file)


def source_messages():
    # The staff workspace has a catalogue of its own (de, en): the "staff" domain.
    method_map = [("scheduler/web/staff/**", "ignore"), ("templates/staff/**", "ignore"),
                  ("scheduler/**.py", "python"), ("templates/**.html", "jinja2")]
    keywords = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None}
    return {message for _file, _line, message, _comments, _context
            in extract_from_dir(str(ROOT), method_map, keywords=keywords)}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_of_the_source_is_in_the_catalogue_and_translated(language):
    messages = {m.id: m for m in catalog(language) if m.id}
    missing = source_messages() - set(messages)
    assert not missing, f"run `flask --app wsgi translations extract`: {sorted(missing)}"
    untranslated = [m.id for m in messages.values() if not m.string or m.fuzzy]
    assert untranslated == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_every_placeholder(language):
    for message in catalog(language):
        if message.id:
            assert sorted(PLACEHOLDER.findall(message.string)) == sorted(PLACEHOLDER.findall(message.id)), message.id


@pytest.fixture
def booked(app, clock):
    with app.app_context():
        office = factories.office()
        slot_id = factories.slot(office, clock.now + timedelta(days=3)).id
        db.session.commit()
    client = app.test_client()
    client.post("/api/v1/bookings", json={"slot_id": slot_id, "name": "A", "phone": factories.mobile(), "locale": "ar"})
    with app.app_context():
        return db.session.scalar(select(Booking.token)), slot_id


@pytest.mark.parametrize("language", [code for code in LANGUAGES if code != "en"])
def test_no_english_is_left_on_the_pages(client, booked, language):
    token, slot_id = booked
    english = {m.id for m in catalog("en") if m.id and len(m.id) > 12 and "%" not in m.id}
    client.get(f"/?lang={language}")
    for path in ["/", "/o/lanstrop", f"/o/lanstrop/book/{slot_id}", f"/b/{token}/booked", f"/b/{token}", "/b/nope"]:
        page = client.get(path).get_data(as_text=True)
        assert [text for text in english if text in page] == [], path
