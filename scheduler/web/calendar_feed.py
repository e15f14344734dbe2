"""The office calendar feed: a secret URL that Outlook or any calendar app subscribes to.

The token in the URL is the only key, so the answer is never cached or stored on the way
(``no-store``) and the site's ``Referrer-Policy: no-referrer`` applies; an unknown or
renewed-away token answers 404, like any page that does not exist.
"""
from flask import Blueprint, current_app
from flask_babel import force_locale

from .. import clock
from ..services import feed, offices
from .staff.records import feed_texts

bp = Blueprint("feed", __name__)


@bp.get("/feed/<token>.ics")
def calendar(token):
    office = offices.office_by_feed_token(token)
    now = clock.now()
    locale = current_app.config["STAFF_LANGUAGES"][0]  # a calendar app says nothing useful
    with force_locale(locale):
        body = feed.office_calendar(office, offices.feed_bookings(office, now), now, locale=locale,
                                    texts=feed_texts())
    return body, 200, {
        "Content-Type": "text/calendar; charset=utf-8",
        "Content-Disposition": f'inline; filename="{office.slug}.ics"',
        "Cache-Control": "no-store",
    }
