"""registry import, records held for unregistered people, rescoring only who can change

citizen.status (active / moved / deceased / unlisted) and citizen.registry_digest for the 人口库 import;
pending_record holds records pushed for a person not yet registered; score.next_change is the first day a
score can change by itself, so the nightly job rescores only citizens whose date has come. The index of
marked citizens becomes partial (only marked rows), the query of the every-few-seconds job.

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-02 02:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('pending_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('id_index', sa.String(length=64), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=64), nullable=False),
    sa.Column('type_code', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('occurred_at', sa.Date(), nullable=False),
    sa.Column('expires_at', sa.Date(), nullable=True),
    sa.Column('incident_id', sa.String(length=64), nullable=True),
    sa.Column('grade', sa.String(length=8), nullable=True),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('summary', sa.String(length=500), nullable=True),
    sa.Column('content_digest', sa.String(length=64), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'],
                            name=op.f('fk_pending_record_department_id_department')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pending_record')),
    sa.UniqueConstraint('department_id', 'external_id', name='uq_pending_record_department_external')
    )
    with op.batch_alter_table('pending_record', schema=None) as batch_op:
        batch_op.create_index('ix_pending_record_id_index', ['id_index'], unique=False)

    with op.batch_alter_table('citizen', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=16), server_default='active', nullable=False))
        batch_op.add_column(sa.Column('registry_digest', sa.String(length=64), nullable=True))
        batch_op.drop_index('ix_citizen_needs_recompute')
        batch_op.create_index('ix_citizen_marked', ['id'], unique=False,
                              postgresql_where=sa.text('needs_recompute'), sqlite_where=sa.text('needs_recompute'))

    with op.batch_alter_table('score', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_change', sa.Date(), nullable=True))
        batch_op.create_index('ix_score_next_change', ['next_change'], unique=False)


def downgrade():
    with op.batch_alter_table('score', schema=None) as batch_op:
        batch_op.drop_index('ix_score_next_change')
        batch_op.drop_column('next_change')

    with op.batch_alter_table('citizen', schema=None) as batch_op:
        batch_op.drop_index('ix_citizen_marked')
        batch_op.create_index('ix_citizen_needs_recompute', ['needs_recompute'], unique=False)
        batch_op.drop_column('registry_digest')
        batch_op.drop_column('status')

    # Records still held for unregistered people are lost with the table.
    with op.batch_alter_table('pending_record', schema=None) as batch_op:
        batch_op.drop_index('ix_pending_record_id_index')

    op.drop_table('pending_record')
