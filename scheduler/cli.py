"""The command line: ``flask --app wsgi <command>``."""
import functools
import json
import os
import signal
import textwrap
import threading
from datetime import UTC, datetime

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade
from werkzeug.serving import run_simple

from . import catalogues, clock, jobs
from .config import ROOT
from .database import NOT_MIGRATED, READY, database_state, describe
from .extensions import db
from .leadership import SchedulerProcess
from .services import demo, history, outbox, phones
from .services import staff as accounts
from .services.errors import DomainError, InvalidInput


def register(app):
    app.cli.add_command(seed_demo)
    app.cli.add_command(messages)
    app.cli.add_command(scheduler)
    app.cli.add_command(translations)
    app.cli.add_command(run_demo)
    app.cli.add_command(staff)


def needs_database(command):
    """Commands that read or write the data: in an app context, and refused with one line
    naming the database when it is unreachable or not migrated (instead of a traceback)."""

    @functools.wraps(command)
    def checked(*args, **kwargs):
        require_database()
        return command(*args, **kwargs)

    return with_appcontext(checked)


def require_database():
    state = database_state()
    if state == READY:
        return
    where = describe(current_app.config["SQLALCHEMY_DATABASE_URI"])
    if state == NOT_MIGRATED:
        raise click.ClickException(f"the database {where} is not migrated: run flask --app wsgi db upgrade")
    raise click.ClickException(f"the database {where} is {state.replace('_', ' ')}: "
                               "check SQLALCHEMY_DATABASE_URI and that the server runs")


@click.command("seed-demo")
@click.option("--history", "history_weeks", type=click.IntRange(0, 156), default=0,
              help="Also invent this many weeks of past bookings, waits, offers and SMS (no real people).")
@click.option("--seed", "history_seed", type=int, default=1, help="The random seed of --history.")
@needs_database
def seed_demo(history_weeks, history_seed):
    """Create the demo offices, their hours and slots, and a staff account (no residents' data)."""
    offices, slots = demo.seed(clock.now())
    db.session.commit()
    click.echo(f"{offices} offices created, {slots} slots created")
    if history_weeks:
        written = history.generate(clock.now(), history_weeks, seed=history_seed)
        db.session.commit()
        click.echo(f"history of {history_weeks} weeks for {written['offices']} offices: "
                   f"{written['bookings']} bookings, {written['waitlist']} waitlist entries, "
                   f"{written['messages']} messages kept (older ones are past RETENTION_DAYS)")
    _echo_demo_login()


def _echo_demo_login(base=None):
    base = (base or current_app.config["PUBLIC_BASE_URL"]).rstrip("/")
    click.echo(f"staff workspace: {base}/staff/login  e-mail {demo.STAFF_EMAIL}  "
               f"password {demo.STAFF_PASSWORD}")


@click.group("staff")
def staff():
    """Staff accounts and their API tokens."""


def _fail(error):
    """A refusal of the service as the command line says it: the message, exit code 1."""
    details = "; ".join(f"{name}: {text}" for name, text in error.fields.items())
    raise click.ClickException(f"{error.message}" + (f" ({details})" if details else ""))


@staff.command("create")
@click.argument("email")
@click.option("--office", "offices", multiple=True, help="Slug of an office the account works for (repeatable).")
@click.option("--admin", is_flag=True, help="An administrator: sees and manages every office.")
@click.option("--password", help="At least 12 characters; asked for when not given.")
@click.option("--name", default="", help="The name shown to colleagues.")
@needs_database
def create_staff(email, offices, admin, password, name):
    """Create a staff account."""
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        account = accounts.create_account(
            email, password, offices=accounts.offices_by_slug(offices), admin=admin, name=name,
            actor=None, now=clock.now(),
        )
    except DomainError as error:
        _fail(error)
    db.session.commit()
    click.echo(f"created {account.email}" + (" (administrator)" if admin else "")
               + (f" for {', '.join(offices)}" if offices else ""))


@staff.command("password")
@click.argument("email")
@click.option("--password", help="At least 12 characters; asked for when not given.")
@needs_database
def staff_password(email, password):
    """Set a new password; the account's other sessions end."""
    if password is None:
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    try:
        accounts.set_password(accounts.by_email(email), password, actor=None, now=clock.now())
    except DomainError as error:
        _fail(error)
    db.session.commit()
    click.echo(f"new password set for {email}")


@staff.command("token")
@click.argument("email")
@click.option("--revoke", is_flag=True, help="End every token of the account instead.")
@needs_database
def staff_token(email, revoke):
    """Print a new API token for the account, alone on the last line (shown only once)."""
    try:
        account = accounts.by_email(email)
        if revoke:
            revoked = accounts.revoke_tokens(account, actor=None, now=clock.now())
        else:
            token = accounts.issue_token(account, actor=None, now=clock.now())
    except DomainError as error:
        _fail(error)
    db.session.commit()
    if revoke:
        click.echo(f"{revoked} token(s) of {account.email} revoked")
    else:
        click.echo(f"API token for {account.email} (use as 'Authorization: Bearer <token>'; shown only once):")
        click.echo(token)


@click.command("messages")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.option("--to", "to", help="Only messages to this phone number or e-mail address.")
@needs_database
def messages(as_json, to):
    """Show the outbox: every SMS and e-mail the service has written."""
    if to and "@" not in to:
        try:
            to = phones.normalise(to)
        except InvalidInput as error:
            raise click.BadParameter(str(error.fields["phone"]), param_hint="--to") from error
    rows = [
        {
            "id": m.id, "to": m.to, "channel": m.channel, "kind": m.kind,
            "status": str(m.status), "body": m.body, "error": m.error,
            "created_at": m.created_at.isoformat(),
            "sent_at": m.sent_at.isoformat() if m.sent_at else None,
        }
        for m in outbox.listing(to)
    ]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        click.echo(f"#{row['id']} {row['created_at']} {row['status']:8} {row['channel']:5} "
                   f"{row['kind']:13} to {row['to']}" + (f"  ({row['error']})" if row["error"] else ""))
        click.echo(textwrap.indent(row["body"], "    "))
    if not rows:
        click.echo("no messages")


@click.group("scheduler")
def scheduler():
    """The periodic work."""


@scheduler.command("tick")
@click.option("--now", "now", help="Run as if the clock showed this ISO 8601 time (UTC if no offset).")
@needs_database
def tick(now):
    """Run one pass of every job."""
    moment = _parse_now(now) if now else clock.now()
    done = jobs.tick(moment)
    click.echo("; ".join(f"{name}: {count}" for name, count in done.items()))


@scheduler.command("run")
@needs_database
def run():
    """Run the loop until stopped (Ctrl+C or SIGTERM). A second one waits as a standby."""
    process = SchedulerProcess(current_app._get_current_object())
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    click.echo(f"scheduler {process.holder} started (Ctrl+C stops)")
    try:
        process.run(stop)
    except KeyboardInterrupt:
        process.stop()


def _parse_now(raw):
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError as error:
        raise click.BadParameter("use ISO 8601, e.g. 2026-11-26T07:00:00+01:00", param_hint="--now") from error
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@click.group("translations")
def translations():
    """Extract, update and compile the message catalogues in translations/."""


@translations.command("extract")
def extract():
    """Extract messages.pot (residents) and staff.pot (staff workspace) from the code and
    update every catalogue from them."""
    for domain in catalogues.DOMAINS:
        for path in catalogues.update(domain):
            click.echo(f"updated {path.relative_to(ROOT)}")


@translations.command("compile")
def compile_():
    """Compile every catalogue of both domains to the .mo files the service reads."""
    for path in catalogues.compile_all():
        click.echo(f"compiled {path.relative_to(ROOT)}")


@click.command("demo")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@with_appcontext
def run_demo(host, port):
    """Migrate, seed the demo offices, then serve the site and run the scheduler loop."""
    catalogues.compile_all()
    if database_state() not in (READY, NOT_MIGRATED):
        require_database()  # unreachable: says so; a missing schema is what upgrade is for
    upgrade(directory=str(ROOT / "migrations"))
    offices, slots = demo.seed(clock.now())
    db.session.commit()
    click.echo(f"demo data: {offices} offices and {slots} slots created")
    app = current_app._get_current_object()
    if "PUBLIC_BASE_URL" not in os.environ:  # links in SMS follow the port
        app.config["PUBLIC_BASE_URL"] = f"http://{'localhost' if host in ('127.0.0.1', '0.0.0.0') else host}:{port}"
    _echo_demo_login()
    process = SchedulerProcess(app)
    stop = threading.Event()
    threading.Thread(target=process.run, args=(stop,), name="scheduler", daemon=True).start()
    click.echo(f"serving on http://{host}:{port}/ with the scheduler loop (Ctrl+C stops)")
    try:
        run_simple(host, port, app, threaded=True)
    finally:
        stop.set()
