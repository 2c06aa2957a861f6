"""SMS satisfaction surveys and the replies they get.

Revision ID: 0007
Revises: 0005
Create Date: 2026-11-29 05:31:48.314352
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import hotline.db_types

revision: str = "0007"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "survey",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("skip_reason", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("created_at", hotline.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", hotline.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", hotline.db_types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("first_claimed_at", hotline.db_types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("body", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.Column("message_sid", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("sent_at", hotline.db_types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("delivery_status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("unclear_replies", sa.Integer(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("answered_at", hotline.db_types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", hotline.db_types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["ticket.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_sid"),
        sa.UniqueConstraint("ticket_id", "round"),
    )
    with op.batch_alter_table("survey", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_survey_claimed_at"), ["claimed_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_survey_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_survey_due_at"), ["due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_survey_phone"), ["phone"], unique=False)
        batch_op.create_index(batch_op.f("ix_survey_sent_at"), ["sent_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_survey_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_survey_ticket_id"), ["ticket_id"], unique=False)

    op.create_table(
        "survey_reply",
        sa.Column("message_sid", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("from_number", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("survey_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("received_at", hotline.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("answer", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["survey.id"],
        ),
        sa.PrimaryKeyConstraint("message_sid"),
    )
    with op.batch_alter_table("survey_reply", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_survey_reply_survey_id"), ["survey_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("survey_reply", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_survey_reply_survey_id"))

    op.drop_table("survey_reply")
    with op.batch_alter_table("survey", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_survey_ticket_id"))
        batch_op.drop_index(batch_op.f("ix_survey_state"))
        batch_op.drop_index(batch_op.f("ix_survey_sent_at"))
        batch_op.drop_index(batch_op.f("ix_survey_phone"))
        batch_op.drop_index(batch_op.f("ix_survey_due_at"))
        batch_op.drop_index(batch_op.f("ix_survey_customer_id"))
        batch_op.drop_index(batch_op.f("ix_survey_claimed_at"))

    op.drop_table("survey")
