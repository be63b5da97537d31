"""credentials: a partner's credential format (jws | sd-jwt-vc), Token Status Lists, each attestation's entry

partner.credential_format says what we issue for that partner (existing partners keep the compact JWS);
partner_status_list holds one row per Token Status List (its next free index); an SD-JWT VC attestation takes
(status_list_id, status_idx), unique, so an index is never given twice.

Revision ID: 0018
Revises: 0012
Create Date: 2026-12-06 15:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('partner_status_list',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('bits', sa.Integer(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('next_index', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_status_list'))
    )
    with op.batch_alter_table('partner', schema=None) as batch_op:
        batch_op.add_column(sa.Column('credential_format', sa.String(length=16), server_default='jws',
                                      nullable=False))
    with op.batch_alter_table('partner_attestation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('credential_format', sa.String(length=16), server_default='jws',
                                      nullable=False))
        batch_op.add_column(sa.Column('name_included', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('status_list_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('status_idx', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_partner_attestation_status_list_id_partner_status_list'),
                                    'partner_status_list', ['status_list_id'], ['id'])
        batch_op.create_unique_constraint('uq_partner_attestation_status_entry', ['status_list_id', 'status_idx'])


def downgrade():
    with op.batch_alter_table('partner_attestation', schema=None) as batch_op:
        batch_op.drop_constraint('uq_partner_attestation_status_entry', type_='unique')
        batch_op.drop_constraint(batch_op.f('fk_partner_attestation_status_list_id_partner_status_list'),
                                 type_='foreignkey')
        batch_op.drop_column('status_idx')
        batch_op.drop_column('status_list_id')
        batch_op.drop_column('name_included')
        batch_op.drop_column('credential_format')
    with op.batch_alter_table('partner', schema=None) as batch_op:
        batch_op.drop_column('credential_format')
    op.drop_table('partner_status_list')
