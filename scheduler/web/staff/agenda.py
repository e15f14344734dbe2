"""The day's and the week's agenda of an office, and its print view."""
