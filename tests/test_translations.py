"""Every word a resident reads is translated, in every language the service offers."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from scheduler import catalogues
from scheduler.config import DEFAULTS, ROOT
from scheduler.extensions import db
from scheduler.models import Booking

from . import factories

LANGUAGES = DEFAULTS["LANGUAGES"]
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def catalog(language, domain="messages"):
    return catalogues.read(catalogues.catalogue_path(language, domain))


def source_messages(domain="messages"):
    """The message ids the code says today: plain strings, or (singular, plural)."""
    return {message.id for message in catalogues.extract(domain) if message.id}


def texts(message):
    return list(message.string) if isinstance(message.string, (list, tuple)) else [message.string]


def sources(message):
    return list(message.id) if isinstance(message.id, (list, tuple)) else [message.id]


def test_the_committed_templates_are_what_the_code_says():
    """A stale template means `flask --app wsgi translations extract` was not run."""
    for domain in catalogues.DOMAINS:
        committed = {m.id for m in catalogues.read(catalogues.template_path(domain)) if m.id}
        assert committed == source_messages(domain), domain


def test_staff_messages_stay_out_of_the_residents_catalogue():
    """The staff pages have their own catalogue. A word both say ("Address", "Date") may
    stand in both, but must read the same: the two are merged at run time, and the staff
    catalogue would otherwise change what residents read."""
    mapping = (ROOT / "babel.cfg").read_text()
    assert "[ignore: scheduler/web/staff/**]" in mapping and "[ignore: templates/staff/**]" in mapping
    shared = source_messages("messages") & source_messages("staff") - {""}
    for language in ("de", "en"):
        residents = {m.id: m.string for m in catalog(language) if m.id in shared}
        staff = {m.id: m.string for m in catalog(language, "staff") if m.id in shared}
        assert residents == staff, language


def test_the_staff_catalogues_exist_in_german_and_english():
    for language in ("de", "en"):
        assert {m.id for m in catalog(language, "staff") if m.id} >= source_messages("staff")


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_of_the_source_is_in_the_catalogue_and_translated(language):
    messages = {m.id: m for m in catalog(language) if m.id}
    missing = source_messages() - set(messages)
    assert not missing, f"run `flask --app wsgi translations extract`: {sorted(missing, key=str)}"
    untranslated = [m.id for m in messages.values() if not all(texts(m)) or m.fuzzy]
    assert untranslated == []


@pytest.mark.parametrize("language", [language for language in LANGUAGES if language != "en"])
def test_no_sentence_is_left_in_english(language):
    """An English sentence as the "translation" reads as translated to the tests above."""
    english = [m.id for m in catalog(language) if isinstance(m.id, str) and len(m.id.split()) >= 3
               and m.string == m.id]
    assert english == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_count_has_all_the_plural_forms_of_the_language(language):
    messages = catalog(language)
    for message in messages:
        if message.id and message.pluralizable:
            assert len(texts(message)) == messages.num_plurals, message.id


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_every_placeholder(language):
    for message in catalog(language):
        if message.id:
            expected = sorted(set(PLACEHOLDER.findall(" ".join(sources(message)))))
            for text in texts(message):
                assert sorted(set(PLACEHOLDER.findall(text))) == expected, message.id


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
