"""audit_pending entries carry a seal (an HMAC of their content) written with them

Revision ID: 0013
Revises: 0012

Link the pending entries before upgrading (``flask audit chain``): an entry left pending from before has no seal,
so the chainer leaves it out and ``flask audit verify`` reports it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("audit_pending", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seal", sa.String(length=64), nullable=False, server_default=""))
    with op.batch_alter_table("audit_pending", schema=None) as batch_op:
        batch_op.alter_column("seal", server_default=None)


def downgrade():
    with op.batch_alter_table("audit_pending", schema=None) as batch_op:
        batch_op.drop_column("seal")
