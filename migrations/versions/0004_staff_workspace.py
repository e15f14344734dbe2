"""staff workspace

Revision ID: 0004
Revises: 0003
Staff accounts, API tokens, the audit log; what the evaluation figures need on bookings
(how they were made, who cancelled and why, when a seat was taken, attendance); languages
per weekly hour, removed slots, the office calendar feed.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('staff_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('is_admin', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('session_version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_account')),
    sa.UniqueConstraint('email', name=op.f('uq_staff_account_email'))
    )
    op.create_table('api_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_account.id'], name=op.f('fk_api_token_staff_id_staff_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_token')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_token_token_hash'))
    )
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_token_staff_id'), ['staff_id'], unique=False)

    op.create_table('audit_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('office_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('record_type', sa.String(length=32), nullable=True),
    sa.Column('record_id', sa.Integer(), nullable=True),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['office_id'], ['office.id'], name=op.f('fk_audit_entry_office_id_office'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_account.id'], name=op.f('fk_audit_entry_staff_id_staff_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entry'))
    )
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.create_index('ix_audit_entry_at', ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entry_office_id'), ['office_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entry_staff_id'), ['staff_id'], unique=False)

    op.create_table('staff_office',
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('office_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['office_id'], ['office.id'], name=op.f('fk_staff_office_office_id_office'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_account.id'], name=op.f('fk_staff_office_staff_id_staff_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('staff_id', 'office_id', name=op.f('pk_staff_office'))
    )
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cancelled_by', sa.Enum('resident', 'staff', 'schedule', name='cancelledby', native_enum=False, length=16), nullable=True))
        batch_op.add_column(sa.Column('cancel_reason', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('source', sa.Enum('online', 'walk_in', 'phone', 'waitlist', 'move_up', name='bookingsource', native_enum=False, length=16), nullable=False, server_default='online'))
        batch_op.add_column(sa.Column('seated_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('attendance_marked_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('staff_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_booking_staff_id_staff_account'), 'staff_account', ['staff_id'], ['id'], ondelete='SET NULL')
    # Bookings made before this revision took their seat when they were made.
    op.execute("UPDATE booking SET seated_at = created_at")

    with op.batch_alter_table('office', schema=None) as batch_op:
        batch_op.add_column(sa.Column('feed_token', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_office_feed_token'), ['feed_token'])

    with op.batch_alter_table('slot', schema=None) as batch_op:
        batch_op.add_column(sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('waitlist_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('end_reason', sa.String(length=200), nullable=True))

    with op.batch_alter_table('weekly_hours', schema=None) as batch_op:
        batch_op.add_column(sa.Column('languages', sa.String(length=200), nullable=False, server_default=''))



def downgrade():
    with op.batch_alter_table('weekly_hours', schema=None) as batch_op:
        batch_op.drop_column('languages')

    with op.batch_alter_table('waitlist_entry', schema=None) as batch_op:
        batch_op.drop_column('end_reason')

    with op.batch_alter_table('slot', schema=None) as batch_op:
        batch_op.drop_column('removed_at')

    with op.batch_alter_table('office', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_office_feed_token'), type_='unique')
        batch_op.drop_column('feed_token')

    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_booking_staff_id_staff_account'), type_='foreignkey')
        batch_op.drop_column('staff_id')
        batch_op.drop_column('attendance_marked_at')
        batch_op.drop_column('seated_at')
        batch_op.drop_column('source')
        batch_op.drop_column('cancel_reason')
        batch_op.drop_column('cancelled_by')

    op.drop_table('staff_office')
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_entry_staff_id'))
        batch_op.drop_index(batch_op.f('ix_audit_entry_office_id'))
        batch_op.drop_index('ix_audit_entry_at')

    op.drop_table('audit_entry')
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_token_staff_id'))

    op.drop_table('api_token')
    op.drop_table('staff_account')
