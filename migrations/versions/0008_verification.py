"""phone verification: a held booking keeps its seat until it is confirmed

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hold_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_booking_hold_until'), ['hold_until'], unique=False)


def downgrade():
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_booking_hold_until'))
        batch_op.drop_column('hold_until')
