"""Ticket lifecycle: ticket fields (severity, assignee, department, resolution, merge, SLA
columns), the category tree, ticket links, call wrap-ups, customer merges and masked
references, and the audit log.

Revision ID: 0006
Revises: 0011
Create Date: 2026-11-29 06:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import hotline.db_types

revision: str = "0006"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STR = sqlmodel.sql.sqltypes.AutoString
_TIME = hotline.db_types.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", _TIME(timezone=True), nullable=False),
        sa.Column("actor", _STR(length=64), nullable=False),
        sa.Column("action", _STR(length=64), nullable=False),
        sa.Column("object_type", _STR(length=32), nullable=False),
        sa.Column("object_id", _STR(length=64), nullable=False),
        sa.Column("address", _STR(length=64), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_actor"), ["actor"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)

    op.create_table(
        "ticket_category",
        sa.Column("name_zh", _STR(length=64), nullable=False),
        sa.Column("name_en", _STR(length=64), nullable=False),
        sa.Column("skill", _STR(length=32), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("code", _STR(length=64), nullable=False),
        sa.Column("parent", _STR(length=64), nullable=True),
        sa.ForeignKeyConstraint(["parent"], ["ticket_category.code"]),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_table(
        "ticket_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("other_id", sa.Integer(), nullable=False),
        sa.Column("created_at", _TIME(timezone=True), nullable=False),
        sa.Column("actor", _STR(length=64), nullable=False),
        sa.ForeignKeyConstraint(["other_id"], ["ticket.id"]),
        sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ticket_id", "other_id"),
    )
    with op.batch_alter_table("ticket_link", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ticket_link_other_id"), ["other_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_ticket_link_ticket_id"), ["ticket_id"], unique=False)

    with op.batch_alter_table("call_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("wrapup_code", _STR(length=32), nullable=True))
        batch_op.add_column(sa.Column("wrapup_note", _STR(length=2000), nullable=True))
        batch_op.add_column(sa.Column("wrapped_up_at", _TIME(timezone=True), nullable=True))

    with op.batch_alter_table("customer", schema=None) as batch_op:
        # Server defaults fill the rows that exist; the models always send a value.
        batch_op.add_column(
            sa.Column("masked_refs", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
        batch_op.add_column(sa.Column("updated_at", _TIME(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("merged_into_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_customer_merged_into_id", "customer", ["merged_into_id"], ["id"]
        )

    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("severity", sa.Integer(), nullable=False, server_default=sa.text("3"))
        )
        batch_op.add_column(sa.Column("assignee_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("department_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("resolution_code", _STR(length=32), nullable=True))
        batch_op.add_column(sa.Column("resolution_summary", _STR(length=2000), nullable=True))
        batch_op.add_column(sa.Column("merged_into_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("first_response_due_at", _TIME(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("resolution_due_at", _TIME(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("breached", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("resolved_at", _TIME(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_ticket_assignee_id"), ["assignee_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_ticket_breached"), ["breached"], unique=False)
        batch_op.create_index(batch_op.f("ix_ticket_created_at"), ["created_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_ticket_department_id"), ["department_id"], unique=False
        )
        batch_op.create_foreign_key(
            "fk_ticket_department_id", "department", ["department_id"], ["id"]
        )
        batch_op.create_foreign_key(
            "fk_ticket_merged_into_id", "ticket", ["merged_into_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_constraint("fk_ticket_merged_into_id", type_="foreignkey")
        batch_op.drop_constraint("fk_ticket_department_id", type_="foreignkey")
        for index in ("department_id", "created_at", "breached", "assignee_id"):
            batch_op.drop_index(batch_op.f(f"ix_ticket_{index}"))
        for column in (
            "resolved_at", "breached", "resolution_due_at", "first_response_due_at",
            "merged_into_id", "resolution_summary", "resolution_code", "department_id",
            "assignee_id", "severity",
        ):  # fmt: skip
            batch_op.drop_column(column)
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.drop_constraint("fk_customer_merged_into_id", type_="foreignkey")
        batch_op.drop_column("merged_into_id")
        batch_op.drop_column("updated_at")
        batch_op.drop_column("masked_refs")
    with op.batch_alter_table("call_log", schema=None) as batch_op:
        batch_op.drop_column("wrapped_up_at")
        batch_op.drop_column("wrapup_note")
        batch_op.drop_column("wrapup_code")
    with op.batch_alter_table("ticket_link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ticket_link_ticket_id"))
        batch_op.drop_index(batch_op.f("ix_ticket_link_other_id"))
    op.drop_table("ticket_link")
    op.drop_table("ticket_category")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))
        batch_op.drop_index(batch_op.f("ix_audit_log_actor"))
    op.drop_table("audit_log")
