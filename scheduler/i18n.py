"""Languages: which one a request speaks, and dates and times in an office's local time."""
from babel import Locale
from babel.dates import format_date, format_interval, format_skeleton, format_time
from flask import current_app, g, has_request_context, request
from flask_babel import get_locale

LANGUAGE_COOKIE = "lang"


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
    return request.accept_languages.best_match(supported) or supported[0]


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
        (code, Locale.parse(code).display_name.capitalize(), text_direction(code))
        for code in current_app.config["LANGUAGES"]
    ]


def text_direction(code=None):
    return Locale.parse(str(code or get_locale())).text_direction


def _locale(locale):
    return Locale.parse(str(locale or get_locale()))


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
    """Day, month and time for an SMS: "Sep 30, 11:30 AM", "30. Sept., 11:30".

    No weekday: an Arabic SMS has 134 characters in two parts, link and office included.
    The month in letters, so that 9/3 is not read as 9 March.
    """
    return _day_and_time("MMMd", moment, office, _locale(locale))


def _day_and_time(skeleton, moment, office, locale):
    day = format_skeleton(skeleton, moment, tzinfo=office.tz, locale=locale)
    # The locale's own glue ("{1}, {0}"; Arabic uses its own comma) joins day and time.
    return locale.datetime_formats["short"].format(local_time(moment, office, locale), day)
