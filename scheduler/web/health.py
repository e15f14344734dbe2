"""Health for load balancers and monitoring: the database, and whether the scheduler runs."""
from flask import Blueprint, jsonify
from sqlalchemy.exc import SQLAlchemyError

from .. import clock
from ..database import READY, database_state
from ..extensions import db
from ..leadership import scheduler_health
from ..services import sms_budget

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """503 when the database cannot serve: ``database`` says why, ``unreachable`` (no
    connection) or ``not_migrated`` (run ``flask --app wsgi db upgrade``). A stopped
    scheduler delays offers and reminders but the site still books, so ``scheduler.status``
    reports it for monitoring to alert on; ``sms`` the hourly budget of SMS to new numbers."""
    state = database_state()
    if state == READY:
        try:
            scheduler = scheduler_health(clock.now())
            sms = sms_budget.health(clock.now())
        except SQLAlchemyError:
            db.session.rollback()
            state = "unreachable"
    if state != READY:
        return jsonify(status="unavailable", database=state), 503, {"Retry-After": "60"}
    return jsonify(status="ok", database="ok", scheduler=scheduler, sms=sms)
