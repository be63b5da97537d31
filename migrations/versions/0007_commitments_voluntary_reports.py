"""rights: credit commitments (信用承诺) tracked to kept / broken / false, and voluntary reports (自愿注册)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 02:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('commitment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ref', sa.String(length=32), nullable=False),
    sa.Column('citizen_id', sa.Integer(), nullable=False),
    sa.Column('type_code', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('subject', sa.String(length=200), nullable=True),
    sa.Column('text_version', sa.String(length=32), nullable=False),
    sa.Column('text_body', sa.Text(), nullable=False),
    sa.Column('rules_version', sa.String(length=32), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('active_slot', sa.String(length=64), nullable=True),
    sa.Column('related_record_id', sa.Integer(), nullable=True),
    sa.Column('cause_record_id', sa.Integer(), nullable=True),
    sa.Column('outcome_record_id', sa.Integer(), nullable=True),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('closed_reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['citizen_id'], ['citizen.id'], name=op.f('fk_commitment_citizen_id_citizen'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_commitment_department_id_department')),
    sa.ForeignKeyConstraint(['related_record_id'], ['credit_record.id'], name=op.f('fk_commitment_related_record_id_credit_record'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['cause_record_id'], ['credit_record.id'], name=op.f('fk_commitment_cause_record_id_credit_record'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['outcome_record_id'], ['credit_record.id'], name=op.f('fk_commitment_outcome_record_id_credit_record'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_commitment')),
    sa.UniqueConstraint('ref', name=op.f('uq_commitment_ref')),
    sa.UniqueConstraint('active_slot', name=op.f('uq_commitment_active_slot'))
    )
    with op.batch_alter_table('commitment', schema=None) as batch_op:
        batch_op.create_index('ix_commitment_citizen', ['citizen_id'], unique=False)
        batch_op.create_index('ix_commitment_status_ends', ['status', 'ends_on'], unique=False)

    op.create_table('voluntary_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ref', sa.String(length=32), nullable=False),
    sa.Column('citizen_id', sa.Integer(), nullable=False),
    sa.Column('type_code', sa.String(length=32), nullable=False),
    sa.Column('occurred_at', sa.Date(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('issuer', sa.String(length=100), nullable=False),
    sa.Column('certificate_no', sa.String(length=64), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('commitment_version', sa.String(length=32), nullable=False),
    sa.Column('commitment_text', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('deadline_provisional', sa.Boolean(), nullable=False),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.Column('record_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['citizen_id'], ['citizen.id'], name=op.f('fk_voluntary_report_citizen_id_citizen'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['record_id'], ['credit_record.id'], name=op.f('fk_voluntary_report_record_id_credit_record'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voluntary_report')),
    sa.UniqueConstraint('ref', name=op.f('uq_voluntary_report_ref'))
    )
    with op.batch_alter_table('voluntary_report', schema=None) as batch_op:
        batch_op.create_index('ix_voluntary_report_citizen', ['citizen_id'], unique=False)
        batch_op.create_index('ix_voluntary_report_state_deadline', ['state', 'deadline'], unique=False)


def downgrade():
    with op.batch_alter_table('voluntary_report', schema=None) as batch_op:
        batch_op.drop_index('ix_voluntary_report_state_deadline')
        batch_op.drop_index('ix_voluntary_report_citizen')
    op.drop_table('voluntary_report')
    with op.batch_alter_table('commitment', schema=None) as batch_op:
        batch_op.drop_index('ix_commitment_status_ends')
        batch_op.drop_index('ix_commitment_citizen')
    op.drop_table('commitment')
