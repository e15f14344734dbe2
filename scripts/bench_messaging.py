"""The benchmark's measurements of messaging (see ``scripts/benchmark.py``): bookings under
gunicorn against a bare Flask app, a catch-up of due reminders, and cancellation to offer
with ``flask scheduler run`` running. All load stays on 127.0.0.1, bounded in count and time.

``bare_app`` is also the bare app itself: ``gunicorn 'bench_messaging:bare_app()'`` parses the
booking's JSON and does one INSERT, nothing else.
"""
import http.client
import json
import os
import queue
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BARE_TABLE = "bench_bare_booking"


def bare_app():
    """A Flask app that parses the booking JSON and INSERTs one row: the floor to compare with."""
    from flask import Flask, jsonify, request
    from sqlalchemy import create_engine, text

    app = Flask("bare")
    engine = create_engine(os.environ["BENCH_BARE_URL"], pool_size=2)

    @app.post("/api/v1/bookings")
    def book():
        data = request.get_json()
        if not isinstance(data, dict) or not isinstance(data.get("slot_id"), int):
            return jsonify(error="bad"), 422
        with engine.begin() as connection:
            row = connection.execute(
                text(f"INSERT INTO {BARE_TABLE} (slot_id, name, phone, locale) "
                     "VALUES (:slot_id, :name, :phone, :locale) RETURNING id"),
                {key: data.get(key) for key in ("slot_id", "name", "phone", "locale")},
            ).scalar_one()
        return jsonify(token=str(row), status="booked"), 201

    return app


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def gunicorn(app_spec, port, env, workers):
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}",
         "--log-level", "warning", app_spec],
        cwd=ROOT, env={**os.environ, **env, "PYTHONPATH": f"{ROOT}:{ROOT / 'scripts'}"},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn {app_spec} failed: {process.stderr.read()}") from None
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"gunicorn {app_spec} did not start")


def burst(port, bodies, concurrency):
    """POST every body; returns requests per second and the status codes seen."""
    codes = []

    def post(body):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            connection.request("POST", "/api/v1/bookings", body=json.dumps(body),
                               headers={"Content-Type": "application/json"})
            response = connection.getresponse()
            response.read()
            return response.status
        finally:
            connection.close()

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        codes = list(pool.map(post, bodies))
    return len(bodies) / (time.perf_counter() - started), codes


def measure_throughput(uri, slot_ids, rounds, per_round, workers=2, concurrency=4):
    """Bookings per second under gunicorn, against the bare app, alternated round by round.
    Returns [(booking rps, bare rps)]."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(uri)
    libpq = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq, autocommit=True) as connection:
        connection.execute(f"CREATE TABLE IF NOT EXISTS {BARE_TABLE} (id serial PRIMARY KEY, "
                           "slot_id integer, name text, phone text, locale text)")
    booking_port, bare_port = free_port(), free_port()
    service = gunicorn("wsgi:app", booking_port, {
        "SQLALCHEMY_DATABASE_URI": uri, "SECRET_KEY": "benchmark", "SMS_BACKEND": "console",
        "RATELIMIT_ENABLED": "false", "MAX_UPCOMING_BOOKINGS_PER_OFFICE": "0",
        "LOG_LEVEL": "WARNING", "QUIET_HOURS": "00:00-00:00",
    }, workers)
    bare = gunicorn("bench_messaging:bare_app()", bare_port, {"BENCH_BARE_URL": uri}, workers)
    numbers = iter(range(10**7))
    results = []
    try:
        for round_ in range(rounds + 1):  # the first round warms both up and is not counted
            bodies = [{"slot_id": slot_ids[n % len(slot_ids)], "name": "Bench Throughput",
                       "phone": f"+49160{next(numbers):08d}", "locale": "de"} for n in range(per_round)]
            booked, codes = burst(booking_port, bodies, concurrency)
            if set(codes) != {201}:
                raise RuntimeError(f"bookings answered {sorted(set(codes))}")
            floor, codes = burst(bare_port, bodies, concurrency)
            if set(codes) != {201}:
                raise RuntimeError(f"the bare app answered {sorted(set(codes))}")
            if round_:
                results.append((booked, floor))
    finally:
        for process in (service, bare):
            process.terminate()
            process.wait(timeout=30)
    return results


def measure_catch_up(app, count):
    """Queue ``count`` reminders due at once (rendered as the service renders them), then
    time the dispatcher draining them through the console backend. Returns (seconds, sent)."""
    from sqlalchemy import select

    from scheduler import jobs
    from scheduler.extensions import db
    from scheduler.models import Booking, BookingStatus
    from scheduler.services import notify

    now = app.config["CLOCK"]()
    with app.app_context():
        bookings = db.session.scalars(
            select(Booking).where(Booking.status == BookingStatus.BOOKED).order_by(Booking.id).limit(count)
        ).all()
        for booking in bookings:
            # lead 999: a dedupe key no reminder of the loop uses
            notify.booking_reminder(booking, 999, now, opted_out=False)
        db.session.commit()
        db.session.remove()
    with app.app_context():  # a session of its own, as the dispatcher thread has
        started = time.perf_counter()
        sent = jobs.dispatch_outbox(now)
        seconds = time.perf_counter() - started
        db.session.remove()
    return seconds, sent


def measure_scheduler_run(app, uri, tokens, timeout=20):
    """Cancel each booking through the API while ``flask scheduler run`` runs in its own
    process; the time from the request's start until that process hands the offer SMS to
    the (console) backend, read from its log line. Returns (latencies, misses)."""
    from sqlalchemy import select

    from scheduler.extensions import db
    from scheduler.models import Booking, Message, MessageStatus, Offer

    env = {**os.environ, "SQLALCHEMY_DATABASE_URI": uri, "SECRET_KEY": "benchmark",
           "SMS_BACKEND": "console", "LOG_LEVEL": "INFO", "QUIET_HOURS": "00:00-00:00",
           "PYTHONUNBUFFERED": "1", "PUBLIC_BASE_URL": "https://termine.example.org",
           "SMS_NEW_NUMBERS_PER_HOUR": "0"}  # the seeded residents were never texted
    process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "scheduler", "run"],
                               cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    lines = queue.Queue()

    def read():
        for line in process.stdout:
            lines.put((time.perf_counter(), line))

    threading.Thread(target=read, daemon=True).start()
    client = app.test_client()
    latencies, misses = [], 0
    try:
        _wait_for(lines, "leads; starting the jobs", 120)
        with app.app_context():  # let the first pass drain what the other measurements left
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline and db.session.scalar(
                    select(Message.id).where(Message.status == MessageStatus.QUEUED,
                                             Message.due_at <= datetime.now(UTC)).limit(1)):
                db.session.rollback()
                time.sleep(0.5)
            db.session.remove()
        _drain(lines)
        for token in tokens:
            started = time.perf_counter()
            response = client.post(f"/api/v1/bookings/{token}/cancel")
            if response.status_code != 200:
                raise RuntimeError(f"cancel failed: {response.status_code}")
            with app.app_context():
                slot_id = db.session.scalar(select(Booking.slot_id).where(Booking.token == token))
                offer_id = db.session.scalar(select(Offer.id).where(Offer.slot_id == slot_id)
                                             .order_by(Offer.id.desc()).limit(1))
                # The log masks the number: the offer's SMS is known by its id.
                message_id = offer_id and db.session.scalar(
                    select(Message.id).where(Message.offer_id == offer_id, Message.kind == "offer"))
                db.session.remove()
            seen = _wait_for(lines, f"SMS #{message_id} to ", timeout) if message_id else None
            if seen is None:
                misses += 1
            else:
                latencies.append(seen - started)
    finally:
        process.terminate()
        process.wait(timeout=60)
    return latencies, misses


def _wait_for(lines, words, timeout):
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            at, line = lines.get(timeout=left)
        except queue.Empty:
            break
        if words in line:
            return at
    return None


def _drain(lines):
    while not lines.empty():
        lines.get_nowait()


def spread(values):
    return statistics.median(values), min(values), max(values)


def future_slots(app, now, count):
    """Slots a week or more ahead, with room made for a throughput run's bookings."""
    from sqlalchemy import select, update

    from scheduler.extensions import db
    from scheduler.models import Slot

    with app.app_context():
        ids = list(db.session.scalars(
            select(Slot.id).where(Slot.starts_at > now + timedelta(days=7)).order_by(Slot.id).limit(count)))
        db.session.execute(update(Slot).where(Slot.id.in_(ids)).values(seats=Slot.seats + 100_000))
        db.session.commit()
        db.session.remove()
    return ids
