#!/usr/bin/env python
"""Benchmark the evaluation's figures and the what-if simulator on PostgreSQL.

    .venv/bin/python scripts/bench_figures.py [--database-url URL] [--bookings 100000]
        [--message-days 90] [--runs 5] [--keep]

1. Creates a database ``lw_bench_figures_<random>`` on the server of ``--database-url``
   (default ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``), migrates it, seeds
   the eight demo offices, and loads (COPY) a year of their slots (seats raised so that they
   hold ``--bookings``) with that many bookings: attended, no-shows, cancellations by
   residents, staff and changes of hours, seats refilled after cancellations, bookings from
   the waitlist with their waitlist entries and accepted offers, declined and expired offers,
   and the SMS of the last ``--message-days`` days (older ones are deleted by the retention
   job after RETENTION_DAYS, 90 by default; ``--message-days 365`` is the worst case).
2. Times ``figures.report`` for the year, all offices together and each (the all-offices
   page and API), and for one office; then a twelve-week ``simulation.compare`` for the
   busiest office (its demand read from the loaded data). Median of ``--runs`` each.
3. Prints the command, the data and the results as Markdown. The database is dropped at the
   end unless ``--keep``.
"""

import argparse
import os
import platform
import random
import secrets
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from flask_babel import force_locale  # noqa: E402
from flask_babel import gettext as _  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from scheduler import create_app  # noqa: E402
from scheduler.extensions import db  # noqa: E402
from scheduler.models import Booking, Office, Slot, WeeklyHours  # noqa: E402
from scheduler.segments import segments  # noqa: E402
from scheduler.services import demo, figures, simulation  # noqa: E402
from scheduler.services import slots as planning  # noqa: E402

BERLIN = ZoneInfo("Europe/Berlin")
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=BERLIN)
WHATIF = "bench-whatif"
LOCALES = ["de", "ar", "uk", "fa", "en", "ru", "tr", "ro", "bg"]
SOURCES = ["online"] * 55 + ["walk_in"] * 12 + ["phone"] * 10 + ["waitlist"] * 20 + ["move_up"] * 3
# Texts as the service writes them (notify.py), so that segments are counted on real lengths.
TEXTS = {
    "confirmation": "%(office)s\nYour appointment: %(when)s\nChange or cancel:\n%(link)s",
    "cancellation": "%(office)s\nYour appointment on %(when)s is cancelled.\nBook a new one:\n%(link)s",
    "reminder": "%(office)s\nReminder: your appointment is on %(when)s.\nCannot come? Reply 2 or cancel:\n%(link)s",
    "offer": "%(office)s\nA time is free for you: %(when)s\nHeld for you for %(hold)s.\n"
    "Reply 1 to take it, 2 to decline, or answer here:\n%(link)s",
    "waitlist": "%(office)s\nYou are number %(position)d on the waitlist. We will text you when "
    "a time is free.\nDetails:\n%(link)s",
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--bookings", type=int, default=100_000)
    parser.add_argument("--message-days", type=int, default=90)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    server = make_url(args.database_url)
    name = f"lw_bench_figures_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(
        host=server.host,
        port=server.port or 5432,
        user=server.username,
        password=server.password,
        dbname=server.database or "postgres",
        autocommit=True,
    )
    admin.execute(f'CREATE DATABASE "{name}"')
    url = server.set(database=name).render_as_string(hide_password=False)
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "CLOCK": lambda: NOW,
            "LOG_LEVEL": "WARNING",
            "SECRET_KEY": "bench",
            "LANGUAGES": LOCALES,
        }
    )
    try:
        with app.app_context():
            upgrade(directory=str(ROOT / "migrations"))
            loaded, seconds = timed(lambda: load(args))
            report(args, loaded, seconds)
            db.session.remove()
            db.engine.dispose()
    finally:
        if not args.keep:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.close()


def timed(call):
    start = time.perf_counter()
    result = call()
    return result, time.perf_counter() - start


def load(args):
    rng = random.Random(2026)
    demo.seed(NOW - timedelta(days=365))
    db.session.commit()
    offices = list(db.session.scalars(select(Office).order_by(Office.id)))
    # An office of ordinary size (Brackel's hours and seats, about 25 requests a week) for the
    # what-if: the eight offices' seats are multiplied to hold the bookings.
    ordinary = Office(
        slug=WHATIF,
        name="What-if (ordinary size)",
        languages="de,en,ar",
        hours=[
            WeeklyHours(
                weekday=rule.weekday,
                start_time=rule.start_time,
                end_time=rule.end_time,
                slot_minutes=rule.slot_minutes,
                seats=rule.seats,
            )
            for rule in offices[0].hours
        ],
    )
    db.session.add(ordinary)
    db.session.flush()
    days = [(NOW - timedelta(days=364)).date() + timedelta(days=n) for n in range(364 + 42)]
    planned = [row for office in offices for row in planning.planned_slots(office, days)]
    seats = max(1, round(args.bookings / (sum(row["seats"] for row in planned) * 0.8)))
    db.session.execute(Slot.__table__.delete())
    for row in planned:
        row["seats"] *= seats
    db.session.execute(
        Slot.__table__.insert(), planned + list(planning.planned_slots(ordinary, days))
    )
    db.session.commit()
    slots = db.session.execute(
        select(Slot.id, Slot.office_id, Slot.starts_at, Slot.seats).order_by(Slot.starts_at)
    ).all()
    by_office = {}
    for slot_id, office_id, _start, _seats in slots:
        by_office.setdefault(office_id, []).append(slot_id)
    names = {office.id: office.name for office in [*offices, ordinary]}
    bodies = {(kind, locale): texts(kind, locale) for kind in TEXTS for locale in LOCALES}
    rows = {"booking": [], "waitlist_entry": [], "offer": [], "message": []}
    ids = {"booking": 0, "waitlist_entry": 0, "offer": 0}
    messages_from = NOW - timedelta(days=args.message_days)

    def new(table, **values):
        ids[table] += 1
        rows[table].append({"id": ids[table], **values})
        return ids[table]

    def sms(kind, locale, office_id, at, to, booking_id=None, offer_id=None):
        if messages_from <= at <= NOW:
            body = (
                bodies[kind, locale]
                .replace("OFFICE", names[office_id])
                .replace("TOKEN", secrets.token_urlsafe(18))
            )
            rows["message"].append(
                {
                    "channel": "sms",
                    "to": to,
                    "kind": kind,
                    "locale": locale,
                    "body": body,
                    # What the service records as it writes a message (models.message).
                    "segments": segments(body),
                    "office_id": office_id,
                    "booking_id": booking_id,
                    "offer_id": offer_id,
                    "status": "sent",
                    "due_at": at,
                    "attempts": 1,
                    "created_at": at,
                    "sent_at": at + timedelta(seconds=2),
                }
            )

    # --bookings with appointments in the year counted; cancelled seats refilled add about 7 %.
    year = [slot for slot in slots if slot.office_id != ordinary.id and slot.starts_at < NOW]
    per_slot = args.bookings / len(year) / 1.07
    for slot_id, office_id, start, capacity in slots:
        if office_id == ordinary.id:
            count = sum(rng.random() < 0.9 for _ in range(capacity))
        else:
            count = int(per_slot) + (rng.random() < per_slot % 1)
        for _seat in range(min(capacity, count)):
            book(
                rng, new, sms, by_office[office_id], slot_id, office_id, start, rng.choice(SOURCES)
            )
    for table in ("booking", "waitlist_entry", "offer", "message"):
        copy(table, rows[table])
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    return {table: len(found) for table, found in rows.items()} | {
        "slots": len(slots),
        "seats_per_slot": seats,
    }


def book(rng, new, sms, office_slots, slot_id, office_id, start, source, seated=None):
    """One booking of a slot, and what it brings along: its wait, its fate, its SMS."""
    locale, phone = rng.choice(LOCALES), f"+4930231{rng.randrange(10**5):05d}"
    wait = timedelta(hours=max(1.0, rng.expovariate(1 / (8 * 24))))
    requested = start - wait
    seated = seated or (
        requested
        if source not in ("waitlist", "move_up")
        else requested + wait * rng.random() * 0.8
    )
    past = start < NOW
    fate = rng.random()
    status = (
        "cancelled"
        if fate < 0.12
        else "booked"
        if not past
        else "no_show"
        if fate < 0.21
        else "attended"
    )
    cancelled_at = seated + (start - seated) * rng.random() if status == "cancelled" else None
    by = rng.choice(["resident"] * 17 + ["staff"] * 2 + ["schedule"]) if cancelled_at else None
    booking = new(
        "booking",
        token=secrets.token_urlsafe(18),
        uid=str(uuid.uuid4()),
        slot_id=slot_id,
        office_id=office_id,
        status=status,
        name="Bench",
        phone=phone,
        topic="",
        locale=locale,
        notify_earlier=False,
        requested_at=requested,
        created_at=seated,
        seated_at=seated,
        cancelled_at=cancelled_at,
        cancelled_by=by,
        source=source,
        sequence=0,
        attendance_marked_at=start + timedelta(hours=1)
        if status in ("attended", "no_show")
        else None,
    )
    sms("confirmation", locale, office_id, seated, phone, booking_id=booking)
    if start - seated > timedelta(hours=24) and (
        status != "cancelled" or cancelled_at > start - timedelta(hours=24)
    ):
        sms("reminder", locale, office_id, start - timedelta(hours=24), phone, booking_id=booking)
    if source == "waitlist":
        entry = new(
            "waitlist_entry",
            token=secrets.token_urlsafe(18),
            office_id=office_id,
            status="booked",
            name="Bench",
            phone=phone,
            locale=locale,
            topic="",
            weekdays=127,
            requested_at=requested,
            ended_at=seated,
            booking_id=booking,
        )
        sms("waitlist", locale, office_id, requested, phone)
        others = iter(rng.sample(office_slots, 4))
        for status_of_offer in [s for s in ("declined", "expired") if rng.random() < 0.4] + [
            "accepted"
        ]:
            other = next(others)
            offer = new(
                "offer",
                token=secrets.token_urlsafe(18),
                kind="waitlist",
                status=status_of_offer,
                slot_id=slot_id
                if status_of_offer == "accepted"
                else (other if other != slot_id else next(others)),
                office_id=office_id,
                waitlist_entry_id=entry,
                booking_id=booking if status_of_offer == "accepted" else None,
                phone=phone,
                locale=locale,
                hold_minutes=180,
                created_at=seated - timedelta(hours=1),
                sent_at=seated - timedelta(minutes=50),
                expires_at=seated + timedelta(hours=2),
                answered_at=seated,
            )
            sms("offer", locale, office_id, seated - timedelta(minutes=50), phone, offer_id=offer)
    if cancelled_at:
        sms("cancellation", locale, office_id, cancelled_at, phone, booking_id=booking)
        if by != "schedule" and rng.random() < 0.6 and start - cancelled_at > timedelta(hours=2):
            refill = cancelled_at + (start - cancelled_at) * rng.random() * 0.5
            book(
                rng,
                new,
                sms,
                office_slots,
                slot_id,
                office_id,
                start,
                rng.choice(["waitlist", "online", "walk_in"]),
                seated=refill,
            )


def texts(kind, locale):
    with force_locale(locale):
        return _(
            TEXTS[kind],
            office="OFFICE",
            when="26. Nov., 08:30",
            hold="3 Stunden",
            position=4,
            link="https://termine.example.org/b/TOKEN",
        )


def copy(table, rows):
    """COPY the rows in: a year of data in seconds."""
    if not rows:
        return
    columns = sorted({key for row in rows for key in row})
    connection = db.session.connection().connection.driver_connection
    quoted = ", ".join(f'"{column}"' for column in columns)
    with connection.cursor().copy(f'COPY "{table}" ({quoted}) FROM STDIN') as copying:
        for row in rows:
            copying.write_row([row.get(column) for column in columns])
    if "id" in columns:
        db.session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM \"{table}\"))"
            )
        )


def report(args, loaded, load_seconds):
    offices = list(
        db.session.scalars(select(Office).where(Office.slug != WHATIF).order_by(Office.name))
    )
    ordinary = db.session.scalar(select(Office).where(Office.slug == WHATIF))
    first, last = (NOW - timedelta(days=364)).date(), NOW.date()
    busiest = max(
        offices,
        key=lambda office: db.session.scalar(
            select(func.count()).select_from(Booking).where(Booking.office_id == office.id)
        ),
    )

    def measure(call):
        call()  # warm up: compiled statements, catalogues
        samples = []
        for _run in range(args.runs):
            db.session.expire_all()
            samples.append(timed(call)[1])
        return statistics.median(samples), max(samples)

    year_all = measure(lambda: figures.report(offices, first, last))
    year_each = measure(lambda: figures.report(offices, first, last, per_office=True))
    year_one = measure(lambda: figures.report([busiest], first, last))
    whatif = measure(
        lambda: simulation.compare(
            ordinary,
            simulation.one_more_hour(simulation.rules_of(ordinary), 3),
            weeks=12,
            now=NOW,
            seed=1,
        )
    )
    demand = simulation.compare(ordinary, simulation.rules_of(ordinary), weeks=1, now=NOW, runs=1)[
        "demand"
    ]
    whatif_busy = measure(
        lambda: simulation.compare(
            busiest,
            simulation.one_more_hour(simulation.rules_of(busiest), 3),
            weeks=12,
            now=NOW,
            seed=1,
        )
    )
    # How fast this machine is: a plain count of the year's bookings joined to their slots.
    plain = measure(
        lambda: db.session.execute(
            text("SELECT count(*) FROM booking JOIN slot ON slot.id = booking.slot_id")
        ).scalar()
    )
    counted = figures.report(offices, first, last)
    server = db.session.scalar(text("SELECT version()")).split(" on ")[0]
    print("# Benchmark: figures and what-if\n")
    load = (
        " ".join(Path("/proc/loadavg").read_text().split()[:3])
        if Path("/proc/loadavg").exists()
        else "?"
    )
    print(
        f"Run on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, load average {load} at the end, {server}, Python {platform.python_version()}.\n"
    )
    print("    .venv/bin/python scripts/bench_figures.py " + " ".join(sys.argv[1:]) + "\n")
    print(
        f"Data (loaded in {load_seconds:.0f} s): the 8 demo offices, {loaded['slots']:,} slots over a year "
        f"and the six weeks ahead ({loaded['seats_per_slot']} times the demo seats), {loaded['booking']:,} bookings, "
        f"{loaded['waitlist_entry']:,} waitlist entries, {loaded['offer']:,} offers, {loaded['message']:,} SMS "
        f"(the last {args.message_days} days). The year counted: {counted['bookings']:,} appointments, "
        f"{counted['requests']:,} requests, {counted['freed_seats']:,} freed seats, "
        f"{counted['sms']['messages']:,} SMS.\n"
    )
    print("| measurement | median | slowest | target |\n| --- | ---: | ---: | ---: |")
    for label, (median, slowest), target in [
        ("figures of a year, all offices together, with 53 ISO weeks", year_all, "< 0.5 s"),
        (
            "the same and each office with its weeks (all-offices page and API)",
            year_each,
            "< 0.5 s",
        ),
        (f"figures of a year, one office ({busiest.name})", year_one, ""),
        (
            f"what-if, 12 weeks, {simulation.RUNS} runs of both hours, an office of ordinary size "
            f"({demand['requests_per_week']:.0f} requests a week)",
            whatif,
            "< 2 s",
        ),
        (
            f"the same for {busiest.name} of this benchmark ({loaded['seats_per_slot']} times the seats and requests)",
            whatif_busy,
            "",
        ),
        ("for scale: `SELECT count(*) FROM booking JOIN slot ...` (all bookings)", plain, ""),
    ]:
        print(f"| {label} | {median * 1000:,.0f} ms | {slowest * 1000:,.0f} ms | {target} |")


if __name__ == "__main__":
    main()
