"""When the service may text residents, and how long an offered seat is held for them."""
from datetime import datetime, time, timedelta

from flask import current_app


def quiet_hours():
    """The configured quiet hours as (start, end) local times, e.g. (20:00, 08:00)."""
    start, end = current_app.config["QUIET_HOURS"].split("-")
    return time.fromisoformat(start.strip()), time.fromisoformat(end.strip())


def sending_time(now, office):
    """The first moment at or after ``now`` outside the office's quiet hours."""
    start, end = quiet_hours()
    if start == end:
        return now
    local = now.astimezone(office.tz)
    moment = local.timetz().replace(tzinfo=None)
    quiet = (start <= moment or moment < end) if start > end else (start <= moment < end)
    if not quiet:
        return now
    day = local.date() if moment < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=office.tz).astimezone(now.tzinfo)


def hold_time(slot_start, sent_at):
    """How long a seat starting at ``slot_start`` is held when its offer goes out at
    ``sent_at``; None when it is too close to offer at all (it is left for walk-ins).

    A seat next month can wait hours for an answer; one tomorrow morning cannot.
    """
    ahead = slot_start - sent_at
    for hours_ahead, minutes_held in current_app.config["OFFER_HOLD_POLICY"]:
        if ahead >= timedelta(hours=hours_ahead):
            return timedelta(minutes=minutes_held)
    return None


def closest_offer_lead():
    """Slots closer than this are never offered."""
    return timedelta(hours=min(hours for hours, _ in current_app.config["OFFER_HOLD_POLICY"]))
