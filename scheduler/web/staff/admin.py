"""Administrators: offices and staff accounts."""
