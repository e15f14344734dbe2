"""The scheduler's dispatcher, run by hand: requests only write messages, and the
dispatcher of ``scheduler run`` sends them the moment they are committed."""
from scheduler import jobs


def deliver(app, now=None):
    """Send what is due now, as the dispatcher does right after a request's commit."""
    with app.app_context():
        return jobs.dispatch_outbox(now)
