"""known numbers: keyed hashes of the phone numbers texted, for the budget of new numbers

Revision ID: 0007
Revises: 0006
"""
import hashlib
import hmac
from datetime import datetime

import sqlalchemy as sa
from alembic import op
from flask import current_app

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    known = op.create_table(
        'known_number',
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('first_texted_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('key'),
    )
    with op.batch_alter_table('known_number', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_known_number_first_texted_at'), ['first_texted_at'],
                              unique=False)
    # The numbers already texted are known: without them every resident would count as new
    # on the day of the upgrade. The key is that of services.sms_budget.number_key.
    secret = current_app.config["SECRET_KEY"].encode()
    rows = op.get_bind().execute(sa.text(
        "SELECT \"to\", MIN(sent_at) FROM message WHERE channel = 'sms' AND status = 'sent' "
        "AND sent_at IS NOT NULL GROUP BY \"to\""
    )).all()
    keys = {}
    for phone, first in rows:
        if isinstance(first, str):  # SQLite: naive UTC as text
            first = datetime.fromisoformat(first)
        key = hmac.new(secret, phone.encode(), hashlib.sha256).hexdigest()
        keys[key] = min(first, keys.get(key, first))
    if keys:
        op.bulk_insert(known, [{'key': key, 'first_texted_at': first} for key, first in keys.items()])


def downgrade():
    with op.batch_alter_table('known_number', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_known_number_first_texted_at'))
    op.drop_table('known_number')
