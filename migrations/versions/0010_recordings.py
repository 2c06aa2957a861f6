"""Recordings: stored audio with its checksum, deletion on retention, access log, legal holds,
PCI pauses.

Revision ID: 0010
Revises: 0006
Create Date: 2026-11-29 06:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import hotline.db_types

revision: str = "0010"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_string = sqlmodel.sql.sqltypes.AutoString
_moment = hotline.db_types.UTCDateTime


def upgrade() -> None:
    with op.batch_alter_table("recording", schema=None) as batch_op:
        batch_op.add_column(sa.Column("content_type", _string(length=64), nullable=True))
        batch_op.add_column(sa.Column("size_bytes", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("sha256", _string(length=64), nullable=True))
        batch_op.add_column(sa.Column("stored_at", _moment(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("deleted_from_twilio_at", _moment(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("deleted_at", _moment(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("deleted_reason", _string(length=200), nullable=True))
        batch_op.add_column(sa.Column("storage_key", _string(length=200), nullable=True))
        batch_op.add_column(
            sa.Column("download_attempts", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("ticket_event_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_recording_deleted_at"), ["deleted_at"], unique=False)

    op.create_table(
        "recording_pause",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_sid", _string(length=64), nullable=False),
        sa.Column("action", _string(length=16), nullable=False),
        sa.Column("actor", _string(length=64), nullable=False),
        sa.Column("at", _moment(timezone=True), nullable=False),
        sa.Column("ticket_event_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_recording_pause_call_sid"), "recording_pause", ["call_sid"])

    op.create_table(
        "recording_access",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recording_id", sa.Integer(), nullable=False),
        sa.Column("actor", _string(length=64), nullable=False),
        sa.Column("at", _moment(timezone=True), nullable=False),
        sa.Column("client_address", _string(length=64), nullable=False),
        sa.Column("what", _string(length=16), nullable=False),
        sa.Column("byte_range", _string(length=64), nullable=True),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["recording_id"], ["recording.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_recording_access_recording_id"), "recording_access", ["recording_id"])

    op.create_table(
        "legal_hold",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("set_by", _string(length=64), nullable=False),
        sa.Column("reason", _string(length=500), nullable=False),
        sa.Column("set_at", _moment(timezone=True), nullable=False),
        sa.Column("released_at", _moment(timezone=True), nullable=True),
        sa.Column("released_by", _string(length=64), nullable=True),
        sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_legal_hold_ticket_id"), "legal_hold", ["ticket_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_legal_hold_ticket_id"), table_name="legal_hold")
    op.drop_table("legal_hold")
    op.drop_index(op.f("ix_recording_access_recording_id"), table_name="recording_access")
    op.drop_table("recording_access")
    op.drop_index(op.f("ix_recording_pause_call_sid"), table_name="recording_pause")
    op.drop_table("recording_pause")
    with op.batch_alter_table("recording", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recording_deleted_at"))
        for column in (
            "ticket_event_id", "download_attempts", "storage_key", "deleted_reason",
            "deleted_at", "deleted_from_twilio_at", "stored_at", "sha256", "size_bytes",
            "content_type",
        ):  # fmt: skip
            batch_op.drop_column(column)
