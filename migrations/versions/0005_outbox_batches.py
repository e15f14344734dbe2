"""wake the outbox dispatcher: NOTIFY outbox when messages are written (PostgreSQL)

Revision ID: 0005
Revises: 0004

The trigger fires once per INSERT statement, inside the writing transaction, so the
notification is delivered at its commit and never for a rolled-back one; PostgreSQL folds
repeats within a transaction into one. SQLite has no LISTEN/NOTIFY: the dispatcher polls.
"""
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute("""
        CREATE FUNCTION notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('outbox', '');
            RETURN NULL;
        END
        $$
    """)
    op.execute("""
        CREATE TRIGGER message_notify_outbox AFTER INSERT ON message
        FOR EACH STATEMENT EXECUTE FUNCTION notify_outbox()
    """)


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute("DROP TRIGGER IF EXISTS message_notify_outbox ON message")
    op.execute("DROP FUNCTION IF EXISTS notify_outbox()")
