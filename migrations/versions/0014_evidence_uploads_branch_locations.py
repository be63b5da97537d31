"""the citizen apps' backend: evidence images uploaded one at a time ahead of a filing (evidence_upload), and
branch locations (GCJ-02 lat/lng on benefit_branch) for offers sorted by distance

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-06 16:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('evidence_upload',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ref', sa.String(length=32), nullable=False),
    sa.Column('citizen_id', sa.Integer(), nullable=False),
    sa.Column('content_type', sa.String(length=32), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('stored_name', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('used_for', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['citizen_id'], ['citizen.id'], name=op.f('fk_evidence_upload_citizen_id_citizen'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence_upload')),
    sa.UniqueConstraint('ref', name=op.f('uq_evidence_upload_ref'))
    )
    with op.batch_alter_table('evidence_upload', schema=None) as batch_op:
        batch_op.create_index('ix_evidence_upload_citizen', ['citizen_id'], unique=False)
        batch_op.create_index('ix_evidence_upload_expires', ['expires_at'], unique=False)
        batch_op.create_index('ix_evidence_upload_used_for', ['used_for'], unique=False)
    with op.batch_alter_table('benefit_branch', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lat', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('lng', sa.Float(), nullable=True))


def downgrade():
    with op.batch_alter_table('benefit_branch', schema=None) as batch_op:
        batch_op.drop_column('lng')
        batch_op.drop_column('lat')
    with op.batch_alter_table('evidence_upload', schema=None) as batch_op:
        batch_op.drop_index('ix_evidence_upload_used_for')
        batch_op.drop_index('ix_evidence_upload_expires')
        batch_op.drop_index('ix_evidence_upload_citizen')
    op.drop_table('evidence_upload')
