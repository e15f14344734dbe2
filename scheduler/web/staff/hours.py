"""Weekly hours and closures of an office, with a preview of what a change does."""
