"""redemption indexes of partner cities' citizens only hold their rows

ix_benefit_redemption_partner_usage and ix_benefit_redemption_partner_day become partial (partner_id IS NOT
NULL): every redemption by one of our own citizens wrote a NULL entry into both, two of the eight index inserts
of a scan, for rows no query of them can find (every query of them names a partner).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 06:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

_PARTNER_ONLY = sa.text("partner_id IS NOT NULL")


def upgrade():
    with op.batch_alter_table('benefit_redemption') as batch_op:
        batch_op.drop_index('ix_benefit_redemption_partner_usage')
        batch_op.drop_index('ix_benefit_redemption_partner_day')
        batch_op.create_index('ix_benefit_redemption_partner_usage',
                              ['offer_id', 'partner_id', 'partner_subject', 'city_day'],
                              postgresql_where=_PARTNER_ONLY, sqlite_where=_PARTNER_ONLY)
        batch_op.create_index('ix_benefit_redemption_partner_day', ['partner_id', 'city_day'],
                              postgresql_where=_PARTNER_ONLY, sqlite_where=_PARTNER_ONLY)


def downgrade():
    with op.batch_alter_table('benefit_redemption') as batch_op:
        batch_op.drop_index('ix_benefit_redemption_partner_day')
        batch_op.drop_index('ix_benefit_redemption_partner_usage')
        batch_op.create_index('ix_benefit_redemption_partner_day', ['partner_id', 'city_day'])
        batch_op.create_index('ix_benefit_redemption_partner_usage',
                              ['offer_id', 'partner_id', 'partner_subject', 'city_day'])
