"""figures: each message records its SMS segments and the office it belongs to; reminders sent indexed

Revision ID: 0010
Revises: 0009

The figures summed segments by measuring every text of the period and found an SMS's office
by joining its booking, its offer or, for one about neither, the waitlist entry its number
last joined before it was written. Both are now recorded when a message is written
(``models.message``); this fills them in for the messages already there, by the same rules
(about 12 s for 57,000 messages). The reminders sent get an index of their own: the figures
read which bookings had one from it instead of from every message.
"""
import sqlalchemy as sa
from alembic import op

from scheduler.segments import segments

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

BATCH = 5000


def upgrade():
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('segments', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('office_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_message_office_id_office'), 'office', ['office_id'], ['id'])
        batch_op.create_index('ix_message_reminder_sent', ['booking_id'], unique=False,
                              sqlite_where=sa.text("kind = 'reminder' AND status = 'sent'"),
                              postgresql_where=sa.text("kind = 'reminder' AND status = 'sent'"))
    bind = op.get_bind()
    message = sa.table('message', sa.column('id', sa.Integer), sa.column('channel', sa.String),
                       sa.column('body', sa.Text), sa.column('segments', sa.Integer))
    last_id = 0
    while True:
        rows = bind.execute(
            sa.select(message.c.id, message.c.body)
            .where(message.c.channel == 'sms', message.c.id > last_id).order_by(message.c.id).limit(BATCH)
        ).all()
        if not rows:
            break
        bind.execute(
            message.update().where(message.c.id == sa.bindparam('key')).values(segments=sa.bindparam('parts')),
            [{'key': key, 'parts': segments(body)} for key, body in rows],
        )
        last_id = rows[-1][0]
    op.execute(
        'UPDATE message SET office_id = (SELECT booking.office_id FROM booking WHERE booking.id = message.booking_id) '
        'WHERE booking_id IS NOT NULL'
    )
    op.execute(
        'UPDATE message SET office_id = (SELECT offer.office_id FROM offer WHERE offer.id = message.offer_id) '
        'WHERE booking_id IS NULL AND offer_id IS NOT NULL'
    )
    op.execute(
        'UPDATE message SET office_id = (SELECT waitlist_entry.office_id FROM waitlist_entry '
        'WHERE waitlist_entry.phone = message."to" AND waitlist_entry.requested_at <= message.created_at '
        'ORDER BY waitlist_entry.requested_at DESC LIMIT 1) '
        "WHERE booking_id IS NULL AND offer_id IS NULL AND channel = 'sms'"
    )


def downgrade():
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_index('ix_message_reminder_sent')
        batch_op.drop_constraint(batch_op.f('fk_message_office_id_office'), type_='foreignkey')
        batch_op.drop_column('office_id')
        batch_op.drop_column('segments')
