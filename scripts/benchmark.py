#!/usr/bin/env python
"""Benchmark the waitlist on PostgreSQL: cancellation -> offer SMS, and one scheduler pass.

    .venv/bin/python scripts/benchmark.py [--database-url URL] [--waitlist 100000]
        [--bookings 50000] [--runs 50] [--passes 5] [--sms-latency-ms 200]
        [--profile] [--explain] [--keep] [--output docs/benchmark.md | --no-write]
        [--no-messaging] [--throughput-rounds 5] [--throughput-requests 300]
        [--catch-up 2700] [--scheduler-runs 30]

What it does:

1. Creates a fresh database ``lw_bench_<random>`` on the server of ``--database-url``
   (default ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``), migrates it to head,
   seeds the eight demo offices with their slots over the horizon (``demo.seed``), and
   loads (COPY) ``--bookings`` booked seats spread evenly over the slots (every slot's seats
   are raised to hold them, ``seats_taken`` matches) and ``--waitlist`` waiting entries with
   a mix of preferences. The database is dropped at the end unless ``--keep``.
2. Runs passes of the loop (``jobs.tick``) on that data, timing each job of every pass:
   the first (which catches up on the loaded data), the second (which drains the outbox),
   then ``--passes`` steady-state passes.
3. Cancels ``--runs`` random bookings through the JSON API (Flask test client) and measures
   from the start of the request to the moment the offer SMS of the freed seat is handed to
   the SMS backend (a recording wrapper around the configured console backend); then as
   many again with every send taking ``--sms-latency-ms``, as a provider's API call does.
4. Unless ``--no-messaging`` (needs ``pip install -e '.[bench]'`` for gunicorn): times the
   dispatcher draining ``--catch-up`` reminders due at once; cancels ``--scheduler-runs``
   bookings with ``flask scheduler run`` running in its own process, timed until it hands the
   offer to the backend; and serves bookings under gunicorn alternated with a bare Flask app
   doing one INSERT (``scripts/bench_messaging.py``), as a ratio per round.
5. Prints a Markdown report and writes it to ``docs/benchmark.md`` (unless ``--no-write``).
   Whatever follows the NOTES_MARKER line in that file is kept: notes written by hand.

The clock is fixed (``CLOCK``) on a working day at 10:00 in Dortmund, outside quiet hours,
so offers go out at once. ``--profile`` adds the slowest SQL statements of each phase,
``--explain`` their EXPLAIN ANALYZE plans.
"""
import argparse
import math
import os
import platform
import random
import secrets
import statistics
import sys
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import holidays  # noqa: E402
import psycopg  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import event, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from scheduler import create_app, jobs  # noqa: E402
from scheduler.extensions import db  # noqa: E402
from scheduler.models import Booking, BookingStatus, Slot  # noqa: E402
from scheduler.services import demo  # noqa: E402

BERLIN = ZoneInfo("Europe/Berlin")
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
TARGET_SECONDS = 1.0
NOTES_MARKER = "<!-- Notes below this line are written by hand; the benchmark keeps them. -->"
JOB_NAMES = ["materialise_slots", "expire_offers", "make_offers", "send_reminders",
             "recover_outbox", "dispatch_outbox", "purge_personal_data"]
TIME_WINDOWS = [(9 * 60, 12 * 60), (8 * 60, 11 * 60), (13 * 60, 17 * 60), (10 * 60, 16 * 60),
                (9 * 60, 13 * 60)]


class FixedClock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


class RecordingBackend:
    """Wraps the real SMS backend; notes when each offer SMS is handed to it.

    ``latency`` (seconds) makes every send take that long, as a call to a provider's API
    does (the console backend returns at once)."""

    def __init__(self, inner):
        self.inner = inner
        self.offer_times = []
        self.latency = 0.0

    def send(self, message, now):
        if message.kind == "offer":
            self.offer_times.append(time.perf_counter())
        if self.latency:
            time.sleep(self.latency)
        return self.inner.send(message, now)

    def lookup(self, message, since):
        return self.inner.lookup(message, since)


class QueryProfile:
    """Total time and count per SQL statement while active; keeps the slowest call."""

    def __init__(self, engine):
        self.engine = engine
        self.stats = defaultdict(lambda: {"count": 0, "total": 0.0, "max": 0.0, "params": None,
                                          "many": False})

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._before)
        event.listen(self.engine, "after_cursor_execute", self._after)
        # Commits are no cursor executes: time them at the driver.
        self._commit = psycopg.Connection.commit
        profile, original = self, self._commit

        def commit(connection):
            started = time.perf_counter()
            try:
                return original(connection)
            finally:
                profile._record("COMMIT", time.perf_counter() - started, None, False)

        psycopg.Connection.commit = commit
        return self

    def __exit__(self, *exc):
        psycopg.Connection.commit = self._commit
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        conn.info.setdefault("bench_start", []).append(time.perf_counter())

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        elapsed = time.perf_counter() - conn.info["bench_start"].pop()
        self._record(statement, elapsed, parameters, executemany)

    def _record(self, statement, elapsed, parameters, executemany):
        row = self.stats[statement]
        row["count"] += 1
        row["total"] += elapsed
        row["many"] = row["many"] or executemany
        if elapsed >= row["max"]:
            row["max"], row["params"] = elapsed, parameters

    def top(self, n=6):
        return sorted(self.stats.items(), key=lambda item: -item[1]["total"])[:n]


# --- database -----------------------------------------------------------------------------

def connect_args(url):
    return {"host": url.host or "127.0.0.1", "port": url.port or 5432,
            "user": url.username or "postgres", "password": url.password,
            "dbname": url.database or "postgres"}


def create_database(server_url):
    name = f"lw_bench_{secrets.token_hex(5)}"
    with psycopg.connect(**connect_args(server_url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name


def drop_database(server_url, name):
    with psycopg.connect(**connect_args(server_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def server_version(server_url):
    with psycopg.connect(**connect_args(server_url)) as conn:
        return conn.execute("SHOW server_version").fetchone()[0]


def default_now():
    """The next working day (Mon-Fri, no NRW holiday) after today, 10:00 in Dortmund."""
    day = datetime.now(BERLIN).date() + timedelta(days=1)
    public = holidays.country_holidays("DE", subdiv="NW", years={day.year, day.year + 1})
    while day.weekday() >= 5 or day in public:
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=BERLIN)


# --- data ---------------------------------------------------------------------------------

def seed(app, now, n_bookings, n_waitlist, rng):
    """Offices and slots from the demo, then bookings and waitlist entries by COPY."""
    with app.app_context():
        offices, n_slots = demo.seed(now)
        db.session.commit()
        slots = db.session.execute(
            select(Slot.id, Slot.office_id, Slot.starts_at).order_by(Slot.starts_at, Slot.id)
        ).all()
        office_ids = sorted({slot.office_id for slot in slots})
        seats = max(2, math.ceil(n_bookings / len(slots)))
        # Bookings go round-robin over the slots in random order: every slot is full, or
        # has one seat free (len(slots) * seats - n_bookings of them).
        order = list(slots)
        rng.shuffle(order)
        booking_rows = []
        for n in range(n_bookings):
            slot = order[n % len(order)]
            created = now - timedelta(minutes=rng.randint(1, 14 * 24 * 60))
            # One in ten came from the waitlist: their wait counts from when they joined it.
            requested = created
            if rng.random() < 0.1:
                requested -= timedelta(minutes=rng.randint(0, 7 * 24 * 60))
            booking_rows.append((
                secrets.token_urlsafe(18), str(uuid.uuid4()), slot.id, slot.office_id, "booked",
                f"Bench Booking {n}", f"+{4915100000000 + n}", None, "",
                rng.choices(["de", "en", "ar"], weights=[5, 3, 2])[0],
                rng.random() < 0.2, requested, created, 0,
            ))
        today = now.astimezone(BERLIN).date()
        waitlist_rows = []
        for n in range(n_waitlist):
            weekdays = 0b1111111
            if rng.random() < 0.25:  # some days only, Monday to Friday
                weekdays = sum(1 << day for day in rng.sample(range(5), rng.randint(1, 3)))
            earliest = latest = None
            if rng.random() < 0.2:
                earliest, latest = rng.choice(TIME_WINDOWS)
            last_day = None
            roll = rng.random()
            if roll < 0.002:  # a few whose last day has just passed: the first pass lapses them
                last_day = today - timedelta(days=rng.randint(1, 3))
            elif roll < 0.2:
                last_day = today + timedelta(days=rng.randint(3, 42))
            waitlist_rows.append((
                secrets.token_urlsafe(18), rng.choice(office_ids), "waiting",
                f"Bench Waiting {n}", f"+{4915200000000 + n}",
                rng.choices(["de", "en", "ar"], weights=[5, 3, 2])[0], "",
                weekdays, earliest, latest, last_day,
                now - timedelta(seconds=rng.randint(60, 14 * 24 * 3600)),
            ))
        with db.engine.begin() as connection:
            raw = connection.connection.driver_connection
            with raw.cursor() as cursor:
                with cursor.copy(
                    "COPY booking (token, uid, slot_id, office_id, status, name, phone, email,"
                    " topic, locale, notify_earlier, requested_at, created_at, sequence)"
                    " FROM STDIN"
                ) as copy:
                    for row in booking_rows:
                        copy.write_row(row)
                with cursor.copy(
                    "COPY waitlist_entry (token, office_id, status, name, phone, locale, topic,"
                    " weekdays, earliest_minute, latest_minute, last_day, requested_at)"
                    " FROM STDIN"
                ) as copy:
                    for row in waitlist_rows:
                        copy.write_row(row)
            connection.execute(text(
                "UPDATE slot SET seats = GREATEST(slot.seats, :seats),"
                " seats_taken = (SELECT count(*) FROM booking b"
                "                WHERE b.slot_id = slot.id AND b.status = 'booked')"
            ), {"seats": seats})
        # As autovacuum would after a load of this size: planner statistics.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
        free = db.session.scalar(text("SELECT sum(seats - seats_taken) FROM slot"))
        db.session.remove()
    return {
        "offices": offices, "slots": n_slots, "seats": seats, "free_seats": int(free),
        "notify_earlier": sum(1 for row in booking_rows if row[10]),
        "no_preferences": sum(1 for row in waitlist_rows
                              if row[7] == 0b1111111 and row[8] is None and row[10] is None),
    }


# --- measurements -------------------------------------------------------------------------

def timed_pass(app, now):
    """One ``jobs.tick`` with each job timed; each job in its own app context, as the
    scheduler process runs them. Returns (total seconds, {job: seconds}, tick result)."""
    originals = {name: getattr(jobs, name) for name in JOB_NAMES if hasattr(jobs, name)}
    times = {}

    def wrap(name, function):
        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                with app.app_context():
                    return function(*args, **kwargs)
            finally:
                times[name] = times.get(name, 0.0) + time.perf_counter() - started
        return timed

    for name, function in originals.items():
        setattr(jobs, name, wrap(name, function))
    try:
        with app.app_context():
            started = time.perf_counter()
            result = jobs.tick(now)
            total = time.perf_counter() - started
    finally:
        for name, function in originals.items():
            setattr(jobs, name, function)
    # Whatever tick does besides the jobs we know (a job added later, say).
    times["(rest of tick)"] = max(0.0, total - sum(times.values()))
    return total, times, result


def pick_bookings(app, now, count, rng):
    """Booked seats at least a day ahead (an offer is held hours there), random order."""
    with app.app_context():
        tokens = list(db.session.scalars(
            select(Booking.token).join(Booking.slot)
            .where(Booking.status == BookingStatus.BOOKED, Slot.starts_at > now + timedelta(days=1))
        ))
        db.session.remove()
    return rng.sample(tokens, count)


def measure_cancellations(app, recorder, tokens, warm_up=True):
    """Cancel each booking through the API; the time from the request's start to the offer
    SMS being handed to the backend, and of the whole request."""
    client = app.test_client()
    offer_latency, request_time, misses = [], [], 0
    for index, token in enumerate(tokens):
        recorder.offer_times.clear()
        started = time.perf_counter()
        response = client.post(f"/api/v1/bookings/{token}/cancel")
        finished = time.perf_counter()
        with app.app_context():
            jobs.dispatch_outbox()  # what the scheduler's dispatcher does, woken by the commit
        if response.status_code != 200 or response.get_json()["status"] != "cancelled":
            raise RuntimeError(f"cancel failed: {response.status_code} {response.get_data(True)}")
        if warm_up and index == 0:
            continue  # the first request loads templates, catalogues and connections
        request_time.append(finished - started)
        if recorder.offer_times:
            offer_latency.append(recorder.offer_times[0] - started)
        else:
            misses += 1
    return offer_latency, request_time, misses


def percentile(values, fraction):
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def ms(seconds):
    if seconds is None:
        return "n/a"
    return f"{seconds * 1000:,.0f} ms" if seconds >= 0.1 else f"{seconds * 1000:,.1f} ms"


def median(values):
    values = list(values)
    return statistics.median(values) if values else None


def explain(app, statement, params):
    with app.app_context():
        raw = db.engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        finally:
            raw.rollback()  # EXPLAIN ANALYZE runs the statement: undo any write
            raw.close()
    return plan


def profile_section(app, title, profile, with_plans, n=6):
    statements = sum(row["count"] for row in profile.stats.values())
    seconds = sum(row["total"] for row in profile.stats.values())
    lines = [f"#### {title}: {statements:,} statements, {ms(seconds)} in the database driver", "",
             "| total | calls | slowest | statement |", "| ---: | ---: | ---: | --- |"]
    for statement, row in profile.top(n):
        short = " ".join(statement.split())
        short = short if len(short) <= 150 else short[:147] + "..."
        lines.append(f"| {ms(row['total'])} | {row['count']:,} | {ms(row['max'])} | "
                     f"`{short.replace('|', '/')}` |")
    lines.append("")
    if with_plans:
        for statement, row in profile.top(n):
            if row["many"] or not statement.lstrip().upper().startswith(("SELECT", "WITH")):
                continue
            if row["max"] < 0.002:
                continue  # plans of statements that never took 2 ms say little
            lines += ["```", " ".join(statement.split()), f"-- params: {row['params']}",
                      explain(app, statement, row["params"]), "```", ""]
    return lines


# --- report -------------------------------------------------------------------------------

def report(app, args, command, machine, data, now, passes, cancel, slow_cancel, profiles):
    first, second, steady = passes[0], passes[1], passes[2:]
    offer, request, misses = cancel
    steady_total = [total for total, _, _ in steady]
    rows = [
        ("cancellation → offer SMS handed to the backend, median", median(offer), "< 1 s"),
        ("cancellation → offer SMS handed to the backend, p95",
         percentile(offer, 0.95) if offer else None, "< 1 s"),
        ("whole cancel request (API), median", median(request), ""),
        ("whole cancel request (API), p95", percentile(request, 0.95), ""),
    ]
    if slow_cancel:
        rows += [
            (f"the same with a provider taking {args.sms_latency_ms} ms per SMS, median",
             median(slow_cancel[0]), "< 1 s"),
            (f"the same with a provider taking {args.sms_latency_ms} ms per SMS, p95",
             percentile(slow_cancel[0], 0.95) if slow_cancel[0] else None, "< 1 s"),
        ]
    rows += [
        ("one pass of the loop (`jobs.tick`), first pass on the loaded data", first[0], "< 1 s"),
        ("one pass of the loop, second pass", second[0], "< 1 s"),
        (f"one pass of the loop, steady state: median of {len(steady)}",
         median(steady_total), "< 1 s"),
        (f"one pass of the loop, steady state: slowest of {len(steady)}",
         max(steady_total), "< 1 s"),
    ]
    lines = [
        "# Benchmark: cancellation to offer, and one pass of the scheduler loop", "",
        f"Run on {machine['date']}: {machine['cpu']}, {machine['nproc']} CPUs (`nproc`), "
        f"load average {machine['load']} at the start, PostgreSQL {machine['pg']} on the same "
        f"machine, Python {machine['python']}, SQLAlchemy {machine['sqlalchemy']}, "
        f"psycopg {machine['psycopg']}.", "",
        "Command (from the repository root; PostgreSQL at 127.0.0.1:5432, user `postgres`, "
        "trust authentication; the script creates and drops a database of its own):", "",
        f"    {command}", "",
        f"Data: the 8 demo offices and their {data['slots']} slots over the 6-week horizon, "
        f"each slot raised to {data['seats']} seats; {args.bookings:,} booked seats spread "
        f"evenly over them ({data['free_seats']} seats left free, one each in as many slots; "
        f"{data['notify_earlier']:,} bookings ask for an earlier time); {args.waitlist:,} "
        f"residents waiting, joined over the last two weeks ({data['no_preferences']:,} "
        "without preferences, the others with some weekdays, a time window and/or a last day). "
        f"Clock fixed at {now.isoformat()} (Europe/Berlin, outside quiet hours). SMS backend: "
        "console (returns at once), wrapped to note when the offer SMS reaches it.", "",
        "| measurement | result | target |", "| --- | ---: | ---: |",
        *(f"| {name} | {ms(value)} | {target} |" for name, value, target in rows),
        "",
        f"Cancellations: {len(offer)} random booked seats at least a day ahead (after one "
        "warm-up request), each `POST /api/v1/bookings/<token>/cancel` through the Flask test "
        "client, timed from the start of the request to the backend's `send()` of the offer. "
        "The cancellation writes the resident's confirmation and the offer to the next person "
        "in one transaction; after the commit one pass of the dispatcher (`jobs.dispatch_outbox`, "
        "in the same thread: what the scheduler's woken dispatcher runs) sends both.",
    ]
    if misses:
        lines += ["", f"{misses} cancellation(s) made no offer (nobody could use the seat)."]
    lines += [
        "", "Passes of the loop: every job of `jobs.tick`, each timed (in its own application "
        "context, as the scheduler process runs them). The first pass catches up on the loaded "
        "data (reminders for the next 24 hours, offers for the free seats, lapsed waits) and "
        "drains the outbox in batches; after that there is nothing to do but look.", "",
        "| job | first pass | second pass | steady state (median) |",
        "| --- | ---: | ---: | ---: |",
    ]
    names = [name for name in [*JOB_NAMES, "(rest of tick)"] if name in first[1]]
    for name in names:
        label = f"`{name}`" if not name.startswith("(") else name
        lines.append(f"| {label} | {ms(first[1][name])} | {ms(second[1].get(name))} | "
                     f"{ms(median(times.get(name, 0.0) for _, times, _ in steady))} |")
    lines += ["", f"What the passes did: first {first[2]}; second {second[2]}; "
              f"steady {steady[-1][2]}.", ""]
    missed = []
    if not offer or percentile(offer, 0.95) >= TARGET_SECONDS:
        missed.append("cancellation → offer")
    if slow_cancel and (not slow_cancel[0] or percentile(slow_cancel[0], 0.95) >= TARGET_SECONDS):
        missed.append(f"cancellation → offer with a {args.sms_latency_ms} ms provider")
    for label, seconds in (("first pass", first[0]), ("second pass", second[0]),
                           ("steady pass", max(steady_total))):
        if seconds >= TARGET_SECONDS:
            missed.append(label)
    lines += [f"Over the 1 s target: {', '.join(missed)}." if missed
              else "All within the 1 s targets.", ""]
    if profiles:
        lines += ["### Where the time goes: the statements that took longest in total", ""]
        for title, profile in profiles:
            lines += profile_section(app, title, profile, args.explain)
    return "\n".join(lines)


def measure_messaging(app, uri, now, args, rng):
    """(a) bookings under gunicorn against a bare app, (b) a catch-up of due reminders,
    (c) cancellation to offer with ``flask scheduler run`` running."""
    import bench_messaging as messaging

    log(f"catch-up of {args.catch_up} reminders")
    catch_up = messaging.measure_catch_up(app, args.catch_up)
    log(f"catch-up: {catch_up[1]} sent in {catch_up[0]:.2f} s")
    live = create_app({  # the real clock, as the scheduler process has it
        "SQLALCHEMY_DATABASE_URI": uri, "SECRET_KEY": "benchmark", "SMS_BACKEND": "console",
        "RATELIMIT_ENABLED": False, "PUBLIC_BASE_URL": "https://termine.example.org",
        "LOG_LEVEL": "WARNING", "QUIET_HOURS": "00:00-00:00", "SMS_NEW_NUMBERS_PER_HOUR": 0,
    })
    tokens = pick_bookings(live, now, args.scheduler_runs, rng)
    log(f"{args.scheduler_runs} cancellations with scheduler run running")
    offers = messaging.measure_scheduler_run(live, uri, tokens)
    log(f"offer at the provider: median {ms(median(offers[0]))}")
    log(f"throughput: {args.throughput_rounds} rounds of {args.throughput_requests} requests")
    slots = messaging.future_slots(app, now, 50)
    rounds = messaging.measure_throughput(uri, slots, args.throughput_rounds, args.throughput_requests)
    with live.app_context():
        db.engine.dispose()
    return catch_up, offers, rounds


def messaging_report(args, command, catch_up, offers, rounds):
    import bench_messaging as messaging

    ratios = [booked / floor for booked, floor in rounds]
    ratio, low, high = messaging.spread(ratios)
    latencies, misses = offers
    rows = [
        ("(a) bookings per second under gunicorn (2 sync workers), median of rounds",
         f"{messaging.spread([b for b, _ in rounds])[0]:,.0f}/s", ""),
        ("(a) the bare app (parse the JSON, one INSERT), median of rounds",
         f"{messaging.spread([f for _, f in rounds])[0]:,.0f}/s", ""),
        ("(a) ratio booking / bare app: median (lowest, highest round)",
         f"{ratio:.2f} ({low:.2f}, {high:.2f})", "≥ 0.33"),
        (f"(b) catch-up: {catch_up[1]:,} due reminders sent (console backend)",
         f"{catch_up[0]:.2f} s", "≤ 3 s"),
        ("(c) cancellation → offer at the provider, `scheduler run` running, median",
         ms(median(latencies)), "< 1 s"),
        ("(c) the same, p95", ms(percentile(latencies, 0.95)) if latencies else "n/a", "< 1 s"),
    ]
    lines = [
        "## Messages off the request path", "",
        f"Command: `{command}` (the measurements below run after the ones above, on the same "
        "database; `--no-messaging` skips them).", "",
        "| measurement | result | aim |", "| --- | ---: | ---: |",
        *(f"| {name} | {value} | {aim} |" for name, value, aim in rows), "",
        f"(a) `gunicorn -w 2 wsgi:app` and `gunicorn -w 2 'bench_messaging:bare_app()'` on "
        f"127.0.0.1, each given {args.throughput_requests} `POST /api/v1/bookings` from 4 client "
        f"threads, alternated for {args.throughput_rounds} rounds after one warm-up round; the "
        "ratio is taken round by round. No scheduler runs meanwhile: the confirmations wait in "
        "the outbox.",
        f"(b) {args.catch_up:,} reminders queued in one transaction, then `jobs.dispatch_outbox` "
        "timed until the outbox is drained (batches of `OUTBOX_BATCH_SIZE`, "
        "`OUTBOX_SEND_CONCURRENCY` at a time).",
        f"(c) `flask --app wsgi scheduler run` in its own process (console backend); "
        f"{len(latencies)} cancellations through the API, each timed from the request's start "
        "to the scheduler's log line handing the offer to the backend."
        + (f" {misses} made no offer or none was seen within 20 s." if misses else ""), "",
    ]
    return "\n".join(lines)


def machine_info(server_url):
    import sqlalchemy

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return {"date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "cpu": cpu,
            "nproc": os.cpu_count(), "load": load, "pg": server_version(server_url),
            "python": platform.python_version(), "sqlalchemy": sqlalchemy.__version__,
            "psycopg": psycopg.__version__}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL),
                        help="a PostgreSQL server as an SQLAlchemy URL; a fresh database is "
                             f"created on it and dropped afterwards (default {DEFAULT_URL})")
    parser.add_argument("--waitlist", type=int, default=100_000, help="residents waiting")
    parser.add_argument("--bookings", type=int, default=50_000, help="booked seats")
    parser.add_argument("--runs", type=int, default=50, help="cancellations measured")
    parser.add_argument("--passes", type=int, default=5, help="steady-state passes of the loop")
    parser.add_argument("--sms-latency-ms", type=int, default=200,
                        help="also measure cancellations with a provider taking this long per "
                             "SMS (0: skip)")
    parser.add_argument("--now",
                        help="local ISO time in Dortmund (default: next working day 10:00)")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the data")
    parser.add_argument("--profile", action="store_true", help="report the slowest SQL statements")
    parser.add_argument("--explain", action="store_true",
                        help="with the profile, EXPLAIN ANALYZE the slowest SELECTs")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--output", default=str(ROOT / "docs" / "benchmark.md"),
                        help="where to write the report (default docs/benchmark.md)")
    parser.add_argument("--no-write", action="store_true", help="only print the report")
    parser.add_argument("--no-messaging", dest="messaging", action="store_false",
                        help="skip the messaging measurements (gunicorn throughput, catch-up, "
                             "scheduler run)")
    parser.add_argument("--throughput-rounds", type=int, default=5,
                        help="alternated rounds of bookings and of the bare app under gunicorn")
    parser.add_argument("--throughput-requests", type=int, default=300,
                        help="requests per round and app")
    parser.add_argument("--catch-up", type=int, default=2700, help="reminders due at once")
    parser.add_argument("--scheduler-runs", type=int, default=30,
                        help="cancellations measured with `flask scheduler run` running")
    args = parser.parse_args(argv)
    args.profile = args.profile or args.explain
    if args.passes < 1 or args.runs < 1:
        parser.error("--passes and --runs must be at least 1")

    command = " ".join([".venv/bin/python scripts/benchmark.py",
                        *(argv if argv is not None else sys.argv[1:])])
    server_url = make_url(args.database_url)
    now = datetime.fromisoformat(args.now).replace(tzinfo=BERLIN) if args.now else default_now()
    rng = random.Random(args.seed)
    machine = machine_info(server_url)
    name = create_database(server_url)
    uri = server_url.set(database=name).render_as_string(hide_password=False)
    log(f"database {name}; clock {now.isoformat()}")
    app = None
    try:
        app = create_app({
            "SQLALCHEMY_DATABASE_URI": uri, "SECRET_KEY": "benchmark", "SMS_BACKEND": "console",
            "RATELIMIT_ENABLED": False, "PUBLIC_BASE_URL": "https://termine.example.org",
            "CLOCK": FixedClock(now), "LOG_LEVEL": "WARNING",
            # The seeded residents were never texted (they come by COPY, without the
            # confirmation each would have had): no budget of new numbers.
            "SMS_NEW_NUMBERS_PER_HOUR": 0,
        })
        recorder = RecordingBackend(app.extensions["sms_backend"])
        app.extensions["sms_backend"] = recorder
        with app.app_context():
            upgrade(directory=str(ROOT / "migrations"))
            engine = db.engine
        started = time.perf_counter()
        data = seed(app, now, args.bookings, args.waitlist, rng)
        log(f"seeded in {time.perf_counter() - started:.1f} s: {data}")

        profiles = []
        passes = []
        for index in range(2 + args.passes):
            with QueryProfile(engine) as profile:
                passes.append(timed_pass(app, now))
            if index < 2 or index == 2 + args.passes - 1:
                profiles.append((["first pass", "second pass"][index] if index < 2
                                 else "last steady pass", profile))
            log(f"pass {index + 1}: {ms(passes[-1][0])} {passes[-1][2]}")

        slow_runs = args.runs if args.sms_latency_ms else 0
        tokens = pick_bookings(app, now, 1 + args.runs + slow_runs, rng)
        with QueryProfile(engine) as profile:
            cancel = measure_cancellations(app, recorder, tokens[:1 + args.runs])
        profiles.append((f"{args.runs} cancellations (and the warm-up)", profile))
        log(f"offer after cancellation: median {ms(median(cancel[0]))}")
        slow_cancel = None
        if args.sms_latency_ms:
            recorder.latency = args.sms_latency_ms / 1000
            slow_cancel = measure_cancellations(app, recorder, tokens[1 + args.runs:],
                                                warm_up=False)
            recorder.latency = 0.0
            log(f"with a slow provider: median {ms(median(slow_cancel[0]))}")

        text_report = report(app, args, command, machine, data, now, passes, cancel, slow_cancel,
                             profiles if args.profile else [])
        if args.messaging:
            text_report += "\n" + messaging_report(args, command, *measure_messaging(
                app, uri, now, args, rng))
        print(text_report)
        if not args.no_write:
            path = Path(args.output)
            path.parent.mkdir(parents=True, exist_ok=True)
            notes = ""
            if path.exists() and NOTES_MARKER in (old := path.read_text()):
                notes = "\n" + NOTES_MARKER + old.split(NOTES_MARKER, 1)[1]
            path.write_text(text_report + "\n" + notes)
            log(f"written to {path}")
    finally:
        if app is not None:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
        if args.keep:
            log(f"kept database {name}: {uri}")
        else:
            drop_database(server_url, name)


def log(text_):
    print(text_, file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
