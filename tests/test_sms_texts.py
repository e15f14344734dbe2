"""Every SMS, in every language, fits in two segments: 306 GSM-7 characters, or 134 in UCS-2
(Arabic, Persian, Cyrillic, Turkish, Romanian), link and office name included; German and
English stay in the GSM alphabet.

The texts are rendered by the real services at their longest: the longest office name and
slug of the demo offices with the longest address, a two-digit day of a long month at 11:30,
every hold of the offer policy, a three-digit place on the waitlist, and a 45-character
``PUBLIC_BASE_URL``.
"""
from datetime import datetime, timedelta

import pytest
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from scheduler.config import DEFAULTS
from scheduler.extensions import db
from scheduler.models import Message, Offer, OfferKind
from scheduler.segments import is_gsm7, segments
from scheduler.services import booking, notify, offers, replies, waitlist
from scheduler.services.demo import OFFICES
from scheduler.services.errors import OfferGone

from . import factories
from .conftest import BERLIN

LANGUAGES = DEFAULTS["LANGUAGES"]
GSM7_LANGUAGES = ["de", "en"]
LONGEST_NAME = max((name for _slug, name, *_rest in OFFICES), key=len)
LONGEST_SLUG = max((slug for slug, *_rest in OFFICES), key=len)
# The longest street address of the demo offices (the others name only their district).
LONGEST_ADDRESS = "Brackeler Hellweg 146, 44309 Dortmund"
# 45 characters as the operators write it, with its slash; the links are the same without it.
BASE_URL = "https://termine.lokal-willkommen.dortmund.de/"
assert len(BASE_URL) == 45
# Wednesday 30 September: "Sept." in German, a six-letter month in Arabic, two-digit hours.
EARLIER = datetime(2026, 9, 30, 11, 30, tzinfo=BERLIN)
LATER = datetime(2026, 9, 30, 12, 30, tzinfo=BERLIN)
HOLDS = sorted({minutes for _hours, minutes in DEFAULTS["OFFER_HOLD_POLICY"]}, reverse=True)
KINDS = {"confirmation", "change", "reminder", "waitlist", f"offer {OfferKind.WAITLIST}",
         f"offer {OfferKind.MOVE_UP}", "cancellation", "closed", "waitlist_removed", "reply"}
# The office closed the appointment's time: the new time comes in the next SMS, with its link.
WITHOUT_LINK = {"closed", "reply"}


@pytest.fixture
def config_overrides():
    return {"PUBLIC_BASE_URL": BASE_URL}


@pytest.fixture(params=LANGUAGES)
def language(request):
    return request.param


@pytest.fixture
def texts(app, ctx, clock, language):
    """(kind, text) of every SMS and every SMS answer the service writes in ``language``."""
    assert language in app.config["LANGUAGES"]
    clock.set("2026-09-01T09:00")
    now = clock.now
    office = factories.office(slug=LONGEST_SLUG, name=LONGEST_NAME, address=LONGEST_ADDRESS)
    earlier = factories.slot(office, EARLIER, seats=2)
    later = factories.slot(office, LATER, seats=1)
    first = factories.slot(office, LATER.replace(hour=15), seats=1)
    second = factories.slot(office, LATER.replace(hour=16), seats=1)
    # Jonas changes his time before anyone waits: his old seat is simply free again.
    jonas = booking.book(first.id, name="Jonas", phone=factories.mobile(), locale=language, now=now)
    booking.change(jonas, second.id, now)

    amina = booking.book(later.id, name="Amina", phone=factories.mobile(), locale=language,
                         now=now, notify_earlier=True)
    notify.booking_reminder(amina, 24, now)
    # Karim waits: the free seats of the earlier time go to him, then to Amina.
    karim = waitlist.join(office, name="Karim", phone=factories.mobile(), locale=language, now=now)
    notify.waitlist_joined(karim, 999, now)
    waiting = db.session.scalar(select(Offer).where(Offer.phone == karim.phone))
    move_up = db.session.scalar(select(Offer).where(Offer.phone == amina.phone))
    assert (waiting.slot, move_up.slot) == (earlier, earlier)
    for offer in (waiting, move_up):
        for minutes in HOLDS:
            notify.offer_made(offer, timedelta(minutes=minutes), now)
        assert offers.start_hold(offer, now)  # as the dispatcher does when it sends it

    with force_locale(language):
        no = _("no")
    answers = [
        replies.handle("SM1", karim.phone, "2", now),  # declined: keeps his place
        replies.handle("SM2", amina.phone, no, now),  # declined: keeps her appointment
        replies.handle("SM3", amina.phone, "1", now),  # nothing open any more
        replies.handle("SM4", amina.phone, "hello?", now),  # help
        replies.handle("SM5", amina.phone, "STOP", now),
        replies.handle("SM6", amina.phone, "START", now),
        replies.handle("SM7", amina.phone, "2", now),  # cancels: the cancellation SMS answers
    ]
    assert answers[-1] == ""
    with force_locale(language):
        answers.append(str(OfferGone().message))  # what accepting too late answers

    # Staff closed Amina's time and took Karim off the waitlist.
    notify.waitlist_removed(karim, now)
    notify.booking_closed(amina, now)
    closed = db.session.scalar(select(Message.id).order_by(Message.id.desc()).limit(1))

    messages = db.session.scalars(
        select(Message).where(Message.channel == "sms").order_by(Message.id)
    ).all()
    return [
        (f"offer {message.offer.kind}" if message.offer
         else "closed" if message.id == closed else message.kind, message.body)
        for message in messages
    ] + [("reply", answer) for answer in answers if answer]


def test_every_kind_of_text_is_rendered_with_its_link(texts):
    assert {kind for kind, _text in texts} == KINDS
    assert len({text for kind, text in texts if kind == "reply"}) == 6
    for kind, text in texts:
        if kind not in WITHOUT_LINK:
            assert f"\n{BASE_URL}" in text, text  # on a line of its own
        if kind != "reply":
            assert text.startswith(f"lokal willkommen {LONGEST_NAME}\n"), text


def test_confirmations_and_reminders_carry_the_address_or_at_least_the_street(texts, language):
    street = LONGEST_ADDRESS.split(",")[0]
    for kind, text in texts:
        if kind in ("confirmation", "change", "reminder"):
            assert f"\n{street}" in text, text
            if language in GSM7_LANGUAGES:
                assert f"\n{LONGEST_ADDRESS}\n" in text, text


# A link on the 45-character base URL takes 64 characters ("/b/" and a 16-character token):
# in UCS-2 that leaves 70 of two segments' 134 for "lokal willkommen", the office's name (up
# to 19 characters in the demo), the time, and every word. Offers and confirmations do not
# fit there without dropping the link or the words residents need (docs/languages.md), so a
# non-Latin SMS may take a third segment; a Latin one (German, English) never does.
MAX_SEGMENTS_GSM7, MAX_SEGMENTS_UCS2 = 2, 3


def test_every_text_fits_in_two_segments_or_three_in_unicode(texts):
    too_long = [(kind, segments(text), len(text), text) for kind, text in texts
                if segments(text) > (MAX_SEGMENTS_GSM7 if is_gsm7(text) else MAX_SEGMENTS_UCS2)]
    assert too_long == []


@pytest.mark.parametrize("language", GSM7_LANGUAGES)
def test_german_and_english_texts_fit_in_two_segments_with_the_whole_address(texts):
    assert [(kind, segments(text)) for kind, text in texts if segments(text) > 2] == []


@pytest.mark.parametrize("language", GSM7_LANGUAGES)
def test_german_and_english_texts_stay_in_the_gsm_alphabet(texts):
    unicode = [(kind, text, {char for char in text if not is_gsm7(char)}) for kind, text in texts
               if not is_gsm7(text)]
    assert unicode == []


@pytest.mark.parametrize(("language", "expected"), [
    ("en", ["8 hours", "3 hours", "90 minutes", "30 minutes"]),
    ("de", ["8 Stunden", "3 Stunden", "90 Minuten", "30 Minuten"]),
    ("ar", ["8 ساعات", "3 ساعات", "90 دقيقة", "30 دقيقة"]),
    ("fa", ["8 ساعت", "3 ساعت", "90 دقیقه", "30 دقیقه"]),
])
def test_an_offer_says_how_long_it_is_held_in_hours_or_minutes(app, language, expected):
    with app.app_context(), force_locale(language):
        assert [notify.hold_text(timedelta(minutes=minutes)) for minutes in HOLDS] == expected


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_hold_reads_as_words_in_every_language(app, language):
    with app.app_context(), force_locale(language):
        texts = [notify.hold_text(timedelta(minutes=minutes)) for minutes in HOLDS]
    assert not [text for text in texts if "duration" in text or not text[0].isdigit()]


@pytest.mark.parametrize(("text", "count"), [
    ("", 1),
    ("a" * 160, 1),
    ("a" * 161, 2),
    ("a" * 306, 2),
    ("a" * 307, 3),
    ("Grüße, Ärztin, Straße " * 7, 1),  # umlauts and ß are in the GSM alphabet: 154 septets
    ("€" * 80, 1),  # an extension character takes two septets
    ("€" * 80 + "a", 2),
    ("a" * 152 + "€" + "a" * 152, 3),  # 306 septets, but an escape pair is not split
    ("ع" * 70, 1),
    ("ع" * 71, 2),
    ("ع" * 134, 2),
    ("ع" * 135, 3),
    ("a" * 69 + "\u202f", 1),  # one character outside GSM-7 makes the whole text UCS-2
    ("a" * 70 + "\u202f", 2),
    ("ç" * 70, 1),  # Ç is GSM-7, ç is not
    ("😀" * 35, 1),  # outside the BMP: two UTF-16 code units each
    ("😀" * 36, 2),
    ("a" * 66 + "😀" + "a" * 66, 3),  # 134 code units, but a surrogate pair is not split
])
def test_segments_are_counted_as_gsm_and_ucs2_send_them(text, count):
    assert segments(text) == count


def test_verification_texts_fit_as_every_other_text(app, ctx, clock, language):
    """Phone verification (docs/verification.md): the request to confirm, and the note to a
    number that already has an appointment; within the limits of every other kind."""
    app.config["BOOKING_VERIFICATION"] = "sms"
    clock.set("2026-09-01T09:00")
    office = factories.office(slug=LONGEST_SLUG, name=LONGEST_NAME, address=LONGEST_ADDRESS)
    earlier, later = factories.slot(office, EARLIER, seats=2), factories.slot(office, LATER, seats=2)
    phone = factories.mobile()
    booking.book(earlier.id, name="Amina", phone=phone, locale=language, now=clock.now)
    replies.handle("SM1", db.session.scalar(select(Message.to)), "1", clock.now)
    booking.book(later.id, name="Amina", phone=phone, locale=language, now=clock.now)
    texts = {message.kind: message.body for message in db.session.scalars(select(Message).where(
        Message.channel == "sms", Message.kind.in_(["verification", "verification_known"])))}
    assert set(texts) == {"verification", "verification_known"}
    assert_fits_like_every_other_text(texts, language)


def test_the_texts_of_a_held_wait_fit_as_every_other_text(app, ctx, clock, language):
    """Phone verification of waits: the request to confirm a place, and the note to a number
    that already waits."""
    app.config["BOOKING_VERIFICATION"] = "sms"
    clock.set("2026-09-01T09:00")
    office = factories.office(slug=LONGEST_SLUG, name=LONGEST_NAME, address=LONGEST_ADDRESS)
    phone = factories.mobile()
    waitlist.join(office, name="Karim", phone=phone, locale=language, now=clock.now)
    replies.handle("SM1", db.session.scalar(select(Message.to)), "1", clock.now)
    waitlist.join(office, name="Karim", phone=phone, locale=language, now=clock.now)
    texts = {message.kind: message.body for message in db.session.scalars(select(Message).where(
        Message.channel == "sms", Message.kind.in_(["verification", "waitlist_known"])))}
    assert set(texts) == {"verification", "waitlist_known"}
    assert_fits_like_every_other_text(texts, language)


def assert_fits_like_every_other_text(texts, language):
    for kind, text in texts.items():
        assert text.startswith(f"lokal willkommen {LONGEST_NAME}\n") and f"\n{BASE_URL}" in text, text
        limit = MAX_SEGMENTS_GSM7 if is_gsm7(text) else MAX_SEGMENTS_UCS2
        assert segments(text) <= limit, (kind, segments(text), len(text), text)
        assert is_gsm7(text) or language not in GSM7_LANGUAGES, text
