"""Blueprints: resident pages (``public``) and the JSON API (``api``)."""
