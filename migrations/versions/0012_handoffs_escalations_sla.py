"""Hand-offs to departments, escalations with their background pack, SLA clock state and
complaint extensions.

Revision ID: 0012
Revises: 0010
Create Date: 2026-11-29 06:22:41.619459
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import hotline.db_types

revision: str = "0012"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STR = sqlmodel.sql.sqltypes.AutoString
_TIME = hotline.db_types.UTCDateTime


def upgrade() -> None:
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.create_index("ix_ticket_first_response_due_at", ["first_response_due_at"])
        batch_op.create_index("ix_ticket_resolution_due_at", ["resolution_due_at"])
    op.create_table(
        "escalation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("trigger", sa.String(length=24), nullable=False),
        sa.Column("reason", _STR(length=1000), nullable=False),
        sa.Column("raised_by", _STR(length=64), nullable=False),
        sa.Column("raised_at", _TIME(timezone=True), nullable=False),
        sa.Column("acknowledged_by", _STR(length=64), nullable=True),
        sa.Column("acknowledged_at", _TIME(timezone=True), nullable=True),
        sa.Column("closed_at", _TIME(timezone=True), nullable=True),
        sa.Column("pack", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["ticket.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("escalation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_escalation_closed_at"), ["closed_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_escalation_raised_at"), ["raised_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_escalation_ticket_id"), ["ticket_id"], unique=False)

    op.create_table(
        "handoff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("asked_by", _STR(length=64), nullable=False),
        sa.Column("question", _STR(length=4000), nullable=False),
        sa.Column("asked_at", _TIME(timezone=True), nullable=False),
        sa.Column("due_at", _TIME(timezone=True), nullable=False),
        sa.Column("answered_at", _TIME(timezone=True), nullable=True),
        sa.Column("answer", _STR(length=4000), nullable=True),
        sa.Column("answered_by", _STR(length=64), nullable=True),
        sa.Column("overdue", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["department.id"],
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["ticket.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("handoff", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_handoff_answered_at"), ["answered_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_handoff_department_id"), ["department_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_handoff_due_at"), ["due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_handoff_overdue"), ["overdue"], unique=False)
        batch_op.create_index(batch_op.f("ix_handoff_ticket_id"), ["ticket_id"], unique=False)

    op.create_table(
        "sla_extension",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("reason", _STR(length=1000), nullable=False),
        sa.Column("requested_by", _STR(length=64), nullable=False),
        sa.Column("requested_at", _TIME(timezone=True), nullable=False),
        sa.Column("approved_by", _STR(length=64), nullable=True),
        sa.Column("approved_at", _TIME(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["ticket.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("sla_extension", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sla_extension_ticket_id"), ["ticket_id"], unique=False)

    op.create_table(
        "ticket_sla",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("started_at", _TIME(timezone=True), nullable=False),
        sa.Column("first_responded_at", _TIME(timezone=True), nullable=True),
        sa.Column("paused_since", _TIME(timezone=True), nullable=True),
        sa.Column("paused_business_seconds", sa.Float(), nullable=False),
        sa.Column("paused_calendar_seconds", sa.Float(), nullable=False),
        sa.Column("extension_days", sa.Integer(), nullable=False),
        sa.Column("first_response_warned", sa.Boolean(), nullable=False),
        sa.Column("resolution_warned", sa.Boolean(), nullable=False),
        sa.Column("first_response_breached", sa.Boolean(), nullable=False),
        sa.Column("resolution_breached", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["ticket.id"],
        ),
        sa.PrimaryKeyConstraint("ticket_id"),
    )


def downgrade() -> None:
    op.drop_table("ticket_sla")
    with op.batch_alter_table("sla_extension", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sla_extension_ticket_id"))

    op.drop_table("sla_extension")
    with op.batch_alter_table("handoff", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_handoff_ticket_id"))
        batch_op.drop_index(batch_op.f("ix_handoff_overdue"))
        batch_op.drop_index(batch_op.f("ix_handoff_due_at"))
        batch_op.drop_index(batch_op.f("ix_handoff_department_id"))
        batch_op.drop_index(batch_op.f("ix_handoff_answered_at"))

    op.drop_table("handoff")
    with op.batch_alter_table("escalation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_escalation_ticket_id"))
        batch_op.drop_index(batch_op.f("ix_escalation_raised_at"))
        batch_op.drop_index(batch_op.f("ix_escalation_closed_at"))

    op.drop_table("escalation")
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_resolution_due_at")
        batch_op.drop_index("ix_ticket_first_response_due_at")
