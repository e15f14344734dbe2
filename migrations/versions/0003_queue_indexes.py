"""indexes for the move-up queue and lapsing waits

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.create_index(
            'ix_booking_move_up_queue', ['office_id', 'requested_at', 'id'], unique=False,
            sqlite_where=sa.text("status = 'booked' AND notify_earlier IS 1"),
            postgresql_where=sa.text("status = 'booked' AND notify_earlier IS TRUE"))
    with op.batch_alter_table('waitlist_entry', schema=None) as batch_op:
        batch_op.create_index(
            'ix_waitlist_last_day', ['last_day'], unique=False,
            sqlite_where=sa.text("status = 'waiting' AND last_day IS NOT NULL"),
            postgresql_where=sa.text("status = 'waiting' AND last_day IS NOT NULL"))


def downgrade():
    with op.batch_alter_table('waitlist_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_waitlist_last_day')
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_index('ix_booking_move_up_queue')
