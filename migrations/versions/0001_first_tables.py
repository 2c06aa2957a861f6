"""first tables

Revision ID: 0001
Revises:
Create Date: 2026-11-29 01:59:38.087716
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import hotline.db_types

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "customer",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("segment", sa.String(length=16), nullable=False),
        sa.Column("preferred_language", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("consent_sms", sa.Boolean(), nullable=False),
        sa.Column("consent_calls", sa.Boolean(), nullable=False),
        sa.Column("account_ref_masked", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", hotline.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "department",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("name_zh", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("name_en", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_table(
        "recording",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recording_sid", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("call_sid", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("media_url", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("duration_seconds", sa.Integer(), nullable=True),
        sa.Column("channels", sa.Integer(), nullable=True),
        sa.Column("error_code", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("created_at", hotline.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", hotline.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("recording", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recording_call_sid"), ["call_sid"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_recording_recording_sid"), ["recording_sid"], unique=True
        )

    op.create_table(
        "ticket_counter",
        sa.Column("day", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day"),
    )
    op.create_table(
        "twilio_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", hotline.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("operation", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("twilio_outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_twilio_outbox_operation"), ["operation"], unique=False)

    op.create_table(
        "agent",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("skills", sa.JSON(), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("phone_number", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", hotline.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["department.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "customer_phone",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("number", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("customer_phone", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_customer_phone_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_customer_phone_number"), ["number"], unique=True)

    op.create_table(
        "ticket",
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("category", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("ticket_type", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("complaint", sa.Boolean(), nullable=False),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("contact_phone", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("repeat_count", sa.Integer(), nullable=False),
        sa.Column("created_at", hotline.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", hotline.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_contact_at", hotline.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ticket_category"), ["category"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_ticket_contact_phone"), ["contact_phone"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_ticket_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_ticket_number"), ["number"], unique=True)
        batch_op.create_index(batch_op.f("ix_ticket_status"), ["status"], unique=False)

    op.create_table(
        "call_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_sid", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("direction", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("from_number", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("to_number", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("ivr_path", sa.JSON(), nullable=False),
        sa.Column("route", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("skill", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=True),
        sa.Column("category", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("after_hours", sa.Boolean(), nullable=False),
        sa.Column("started_at", hotline.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("queue_entered_at", hotline.db_types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("answered_at", hotline.db_types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", hotline.db_types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("duration_seconds", sa.Integer(), nullable=True),
        sa.Column("disposition", sa.String(length=24), nullable=False),
        sa.Column("twilio_status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("queue_result", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["ticket.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("call_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_call_log_call_sid"), ["call_sid"], unique=True)
        batch_op.create_index(batch_op.f("ix_call_log_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_call_log_from_number"), ["from_number"], unique=False)
        batch_op.create_index(batch_op.f("ix_call_log_ticket_id"), ["ticket_id"], unique=False)

    op.create_table(
        "callback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("due_at", hotline.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("origin_call_sid", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("created_at", hotline.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["ticket.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("origin_call_sid", "reason"),
    )
    with op.batch_alter_table("callback", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_callback_due_at"), ["due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_callback_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_callback_ticket_id"), ["ticket_id"], unique=False)

    op.create_table(
        "ticket_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("at", hotline.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("internal", sa.Boolean(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["ticket.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("ticket_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ticket_event_ticket_id"), ["ticket_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ticket_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ticket_event_ticket_id"))

    op.drop_table("ticket_event")
    with op.batch_alter_table("callback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_callback_ticket_id"))
        batch_op.drop_index(batch_op.f("ix_callback_status"))
        batch_op.drop_index(batch_op.f("ix_callback_due_at"))

    op.drop_table("callback")
    with op.batch_alter_table("call_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_call_log_ticket_id"))
        batch_op.drop_index(batch_op.f("ix_call_log_from_number"))
        batch_op.drop_index(batch_op.f("ix_call_log_customer_id"))
        batch_op.drop_index(batch_op.f("ix_call_log_call_sid"))

    op.drop_table("call_log")
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ticket_status"))
        batch_op.drop_index(batch_op.f("ix_ticket_number"))
        batch_op.drop_index(batch_op.f("ix_ticket_customer_id"))
        batch_op.drop_index(batch_op.f("ix_ticket_contact_phone"))
        batch_op.drop_index(batch_op.f("ix_ticket_category"))

    op.drop_table("ticket")
    with op.batch_alter_table("customer_phone", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customer_phone_number"))
        batch_op.drop_index(batch_op.f("ix_customer_phone_customer_id"))

    op.drop_table("customer_phone")
    op.drop_table("agent")
    with op.batch_alter_table("twilio_outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_twilio_outbox_operation"))

    op.drop_table("twilio_outbox")
    op.drop_table("ticket_counter")
    with op.batch_alter_table("recording", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recording_recording_sid"))
        batch_op.drop_index(batch_op.f("ix_recording_call_sid"))

    op.drop_table("recording")
    op.drop_table("department")
    op.drop_table("customer")
