"""The office calendar feed: a secret URL that Outlook or any calendar app subscribes to."""
from flask import Blueprint

bp = Blueprint("feed", __name__)
