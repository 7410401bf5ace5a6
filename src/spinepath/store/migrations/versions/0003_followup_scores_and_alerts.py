"""follow-up: the score stored with each response (and whether it reported a warning sign, and by
which route it came), and urgent alerts for the care team, listed until acknowledged

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 09:00:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table('followup_responses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('score', JSON, nullable=True))
        batch_op.add_column(sa.Column('warning', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('via', sa.String(length=10), nullable=False, server_default='api'))

    op.create_table('followup_alerts',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('patient_id', sa.String(length=40), nullable=False),
    sa.Column('response_id', sa.String(length=40), nullable=False),
    sa.Column('sign', sa.String(length=40), nullable=False),
    sa.Column('warning_sign', sa.String(length=80), nullable=False),
    sa.Column('urgency', sa.String(length=20), nullable=False),
    sa.Column('raised_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('acknowledged_by', sa.String(length=80), nullable=True),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], ),
    sa.ForeignKeyConstraint(['response_id'], ['followup_responses.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('followup_alerts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_followup_alerts_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_followup_alerts_response_id'), ['response_id'], unique=False)
        batch_op.create_index('ix_followup_alerts_open', ['acknowledged_at', 'raised_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('followup_alerts', schema=None) as batch_op:
        batch_op.drop_index('ix_followup_alerts_open')
        batch_op.drop_index(batch_op.f('ix_followup_alerts_response_id'))
        batch_op.drop_index(batch_op.f('ix_followup_alerts_patient_id'))
    op.drop_table('followup_alerts')
    with op.batch_alter_table('followup_responses', schema=None) as batch_op:
        batch_op.drop_column('via')
        batch_op.drop_column('warning')
        batch_op.drop_column('score')
