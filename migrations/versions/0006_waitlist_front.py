"""the front of the waitlist for residents whose appointment the office took away

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('waitlist_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('queue_rank', sa.Integer(), nullable=False, server_default='1'))
        batch_op.drop_index('ix_waitlist_queue')
        batch_op.create_index('ix_waitlist_queue', ['office_id', 'status', 'queue_rank', 'requested_at', 'id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('waitlist_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_waitlist_queue')
        batch_op.create_index('ix_waitlist_queue', ['office_id', 'status', 'requested_at', 'id'], unique=False)
        batch_op.drop_column('queue_rank')
