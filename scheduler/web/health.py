"""Health for load balancers and monitoring: the database, and whether the scheduler runs."""
from flask import Blueprint, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from .. import clock
from ..extensions import db
from ..leadership import scheduler_health
from ..services import sms_budget

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """503 only when the database is gone. A stopped scheduler delays offers and reminders
    but the site still books, so ``scheduler.status`` reports it for monitoring to alert on."""
    try:
        db.session.execute(text("SELECT 1"))
        scheduler = scheduler_health(clock.now())
        sms = sms_budget.health(clock.now())
    except SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="unavailable", database="unreachable"), 503
    return jsonify(status="ok", database="ok", scheduler=scheduler, sms=sms)
