"""Languages: which one a request speaks, and dates and times in an office's local time."""
from babel import Locale
from babel.dates import format_date, format_interval, format_skeleton, format_time
from babel.lists import format_list
from flask import current_app, g, has_request_context, request
from flask_babel import get_locale

LANGUAGE_COOKIE = "lang"

# Each language named in itself, as the picker shows it (Babel writes some in lower case).
NATIVE_NAMES = {
    "de": "Deutsch", "en": "English", "ar": "العربية", "fa": "فارسی", "uk": "Українська",
    "ru": "Русский", "tr": "Türkçe", "ro": "Română", "bg": "Български",
}

# The locale whose conventions format dates and times, where it is not the language itself:
# English in Dortmund reads a 24-hour clock and the day before the month.
FORMATTING_LOCALES = {"en": "en_IE"}


def select_locale():
    """An explicit choice (``?lang=``, kept in a cookie), the language of the booking a page
    shows, else ``Accept-Language``."""
    supported = current_app.config["LANGUAGES"]
    if not has_request_context():  # the scheduler, the command line: force_locale decides
        return supported[0]
    if request.blueprint and request.blueprint.startswith("staff"):
        supported = current_app.config["STAFF_LANGUAGES"]
    preferences = (
        request.args.get("lang"),
        request.cookies.get(LANGUAGE_COOKIE),
        g.get("resident_locale"),
    )
    for choice in preferences:
        if choice in supported:
            return choice
    return best_language(request.accept_languages, supported) or supported[0]


def best_language(accepted, supported):
    """The first accepted language, by quality, that we speak, regional variants included:
    ``fa-AF`` is ``fa`` and wins over a later ``en``, where an exact-match-first rule would
    give English to a phone set to Dari."""
    for value, _quality in accepted:  # Werkzeug sorts by quality, stable for equal ones
        primary = value.replace("_", "-").split("-")[0].lower()
        if primary in supported:
            return primary
    return None


def in_their_language(record):
    """Speak the language of ``record`` (a booking, wait or offer: what its link opens)
    unless this browser chose one; returns ``record``.

    Call before anything is translated in the request (Flask-Babel keeps the first answer).
    """
    g.resident_locale = record.locale
    return record


def language_choices():
    """(code, name in its own language, direction) for every supported language."""
    return [
        (code, native_name(code), text_direction(code))
        for code in current_app.config["LANGUAGES"]
    ]


def native_name(code):
    return NATIVE_NAMES.get(code) or Locale.parse(code).display_name.capitalize()


def language_name(code, locale=None):
    """``code``'s language named in the reader's language: "Arabisch", "عربی", "Arabic"."""
    name = Locale.parse(code).get_display_name(_locale(locale)) or code
    return name[:1].upper() + name[1:] if _locale(locale).language in ("de", "en") else name


def name_list(codes, locale=None):
    """"Deutsch, Englisch und Arabisch": languages named in the reader's language."""
    return format_list([language_name(code, locale) for code in codes], locale=_locale(locale))


def text_direction(code=None):
    return Locale.parse(str(code or get_locale())).text_direction


def is_rtl(code=None):
    return text_direction(code) == "rtl"


def _locale(locale=None):
    code = str(locale or get_locale())
    return Locale.parse(FORMATTING_LOCALES.get(code, code))


def formatting_locale(locale=None):
    """The Babel locale for formatting in ``locale`` (default: the request's)."""
    return _locale(locale)


def local_date(moment, office, locale=None, format="full"):
    return format_date(moment.astimezone(office.tz).date(), format, locale=_locale(locale))


def local_time(moment, office, locale=None):
    return format_time(moment, "short", tzinfo=office.tz, locale=_locale(locale))


def local_time_range(start, end, office, locale=None):
    """"08:30–09:00 Uhr", "8:30 ص – 9:00 ص": Babel's interval, in the locale's own order."""
    locale = _locale(locale)
    skeleton = "hm" if "h" in locale.time_formats["short"].pattern else "Hm"
    return format_interval(start, end, skeleton, tzinfo=office.tz, locale=locale)


def local_when(moment, office, locale=None):
    """A short weekday, day, month and time, as a list of times shows it."""
    return _day_and_time("MMMEd", moment, office, _locale(locale))


def sms_when(moment, office, locale=None):
    """Day, month and time for an SMS: "30 Sept, 11:30", "30. Sept., 11:30".

    No weekday: a non-Latin SMS has 134 characters in two parts, link and office included.
    The month in letters, so that 9/3 is not read as 9 March.
    """
    return _day_and_time("MMMd", moment, office, _locale(locale))


def _day_and_time(skeleton, moment, office, locale):
    day = format_skeleton(skeleton, moment, tzinfo=office.tz, locale=locale)
    # The locale's own glue ("{1}, {0}"; Arabic uses its own comma) joins day and time.
    return locale.datetime_formats["short"].format(local_time(moment, office, locale), day)
