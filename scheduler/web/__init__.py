"""The web layer: resident pages, the JSON API, the staff workspace, webhooks and health."""
