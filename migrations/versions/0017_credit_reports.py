"""personal credit reports (个人信用报告)

Revision ID: 0017
Revises: 0012
Create Date: 2026-12-06 15:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'credit_report',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('number', sa.String(length=24), nullable=False),
        sa.Column('citizen_id', sa.Integer(), nullable=False),
        sa.Column('purpose', sa.String(length=16), nullable=False),
        sa.Column('purpose_text', sa.String(length=40), nullable=True),
        sa.Column('scope', sa.String(length=16), nullable=False),
        sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('valid_until', sa.DateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('masked_name', sa.String(length=64), nullable=False),
        sa.Column('masked_id_number', sa.String(length=18), nullable=False),
        sa.Column('level', sa.Integer(), nullable=False),
        sa.Column('level_name', sa.String(length=16), nullable=False),
        sa.Column('total', sa.Integer(), nullable=True),
        sa.Column('rules_version', sa.String(length=16), nullable=False),
        sa.Column('pdf_sha256', sa.String(length=64), nullable=False),
        sa.Column('pdf', sa.LargeBinary(), nullable=False),
        sa.Column('verifications', sa.Integer(), nullable=False),
        sa.Column('last_verified_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['citizen_id'], ['citizen.id'], name=op.f('fk_credit_report_citizen_id_citizen'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_report')),
        sa.UniqueConstraint('number', name=op.f('uq_credit_report_number')),
    )
    op.create_index('ix_credit_report_citizen', 'credit_report', ['citizen_id', 'issued_at'])
    op.create_index('ix_credit_report_issued', 'credit_report', ['issued_at', 'purpose'])


def downgrade():
    op.drop_index('ix_credit_report_issued', table_name='credit_report')
    op.drop_index('ix_credit_report_citizen', table_name='credit_report')
    op.drop_table('credit_report')
