"""The scheduler's dispatcher, run by hand: requests only write messages, and the
dispatcher of ``scheduler run`` sends them the moment they are committed."""
import threading

from scheduler import jobs


def deliver(app, now=None):
    """Send what is due now, as the dispatcher does right after a request's commit."""
    with app.app_context():
        return jobs.dispatch_outbox(now)


def two_dispatchers_at_once(app):
    """Run ``dispatch_outbox`` in two threads started together; what each sent. A thread's
    failure fails the caller."""
    start = threading.Barrier(2)
    counts, errors = [], []

    def dispatcher():
        try:
            with app.app_context():
                start.wait()
                counts.append(jobs.dispatch_outbox())
        except Exception as error:  # re-raised below
            errors.append(error)

    threads = [threading.Thread(target=dispatcher) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == [] and len(counts) == 2, errors
    return counts
