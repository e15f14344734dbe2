"""One scheduler leads; a second waits and takes over when the first dies."""
from datetime import timedelta

from sqlalchemy import text

from scheduler import leadership
from scheduler.extensions import db


def test_a_second_scheduler_waits_until_the_first_is_gone(app, clock, ctx):
    first = leadership.leadership_for("first", 60)
    second = leadership.leadership_for("second", 60)

    assert first.acquire(clock.now)
    assert not second.acquire(clock.now)
    assert first.acquire(clock.now)  # the leader keeps leading

    first.release()
    assert second.acquire(clock.now)
    assert not first.acquire(clock.now)
    second.release()


def test_a_leader_that_dies_without_a_word_is_replaced(app, clock, ctx):
    first = leadership.leadership_for("first", 60)
    second = leadership.leadership_for("second", 60)
    assert first.acquire(clock.now)

    if db.engine.dialect.name == "postgresql":
        # the process dies: PostgreSQL ends its session, and the advisory lock with it.
        # Termination is a signal; the timeout makes the call wait until the backend is gone.
        pid = first.connection.execute(text("SELECT pg_backend_pid()")).scalar()
        db.session.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})
        db.session.commit()
    else:
        # the process dies: its lease is not renewed and runs out
        assert not second.acquire(clock.now + timedelta(seconds=59))
        clock.advance(seconds=61)

    assert second.acquire(clock.now)
    assert not first.acquire(clock.now)
    second.release()
    first.release()


def test_the_process_runs_the_jobs_only_while_it_leads(app, clock):
    first = leadership.SchedulerProcess(app)
    second = leadership.SchedulerProcess(app)
    try:
        assert first.step() and first.scheduler.running
        assert {job.id for job in first.scheduler.get_jobs()} == {
            job.__name__ for job, _ in leadership.SCHEDULE
        }
        assert all(job.coalesce and job.max_instances == 1 for job in first.scheduler.get_jobs())
        assert not second.step() and second.scheduler is None

        first.stop()
        clock.advance(seconds=1)
        assert second.step() and second.scheduler.running
    finally:
        first.stop()
        second.stop()


def test_healthz_reports_the_schedulers_heartbeat(app, client, clock):
    assert client.get("/healthz").json["scheduler"] == {"status": "never_run"}
    process = leadership.SchedulerProcess(app)
    with app.app_context():
        process.leadership.acquire(clock.now)
        leadership.heartbeat(process.holder, clock.now, 60)
    health = client.get("/healthz").json["scheduler"]
    assert health["status"] == "running" and health["holder"] == process.holder
    clock.advance(seconds=3 * app.config["SCHEDULER_HEARTBEAT_SECONDS"] + 1)
    assert client.get("/healthz").json["scheduler"]["status"] == "stopped"
    with app.app_context():
        process.leadership.release()
