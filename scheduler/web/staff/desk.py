"""The office desk: walk-ins and callers, cancelling on a resident's behalf, attendance, the waitlist by hand."""
