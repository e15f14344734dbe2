"""The rules of the service: plain functions taking explicit ``now``; they never commit."""
