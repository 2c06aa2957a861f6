"""agents and access: sign-in fields, state changes, API tokens

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 02:29:51.077851
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import hotline.db_types

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agent_state_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=False),
        sa.Column("to_state", sa.String(length=16), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("at", hotline.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agent.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("agent_state_change", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_agent_state_change_agent_id"), ["agent_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_agent_state_change_at"), ["at"], unique=False)

    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", hotline.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", hotline.db_types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("expires_at", hotline.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", hotline.db_types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agent.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_token_agent_id"), ["agent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_api_token_token_hash"), ["token_hash"], unique=True)

    with op.batch_alter_table("agent", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("login", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True)
        )
        batch_op.add_column(
            sa.Column("password_hash", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True)
        )
        # Agents from 0001 stay active, and their state began when they were created.
        batch_op.add_column(
            sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.add_column(
            sa.Column("state_since", hotline.db_types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("break_reason", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True)
        )
        batch_op.create_index(batch_op.f("ix_agent_login"), ["login"], unique=True)

    op.execute("UPDATE agent SET state_since = created_at")
    with op.batch_alter_table("agent", schema=None) as batch_op:
        batch_op.alter_column(
            "state_since",
            existing_type=hotline.db_types.UTCDateTime(timezone=True),
            nullable=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("agent", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agent_login"))
        batch_op.drop_column("break_reason")
        batch_op.drop_column("state_since")
        batch_op.drop_column("active")
        batch_op.drop_column("password_hash")
        batch_op.drop_column("login")

    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_token_token_hash"))
        batch_op.drop_index(batch_op.f("ix_api_token_agent_id"))

    op.drop_table("api_token")
    with op.batch_alter_table("agent_state_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agent_state_change_at"))
        batch_op.drop_index(batch_op.f("ix_agent_state_change_agent_id"))

    op.drop_table("agent_state_change")
