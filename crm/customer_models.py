"""Customers, their phone numbers, and the bank's departments."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel
from pydantic import Field as PydanticField
from sqlalchemy import JSON, Column, String
from sqlmodel import Field, SQLModel

from hotline.db_types import UTCDateTime
from hotline.phone import to_e164


# Enums are stored as plain strings: a new value needs no ALTER TYPE on PostgreSQL.
class Segment(StrEnum):
    standard = "standard"
    vip = "vip"


_MASK_CHARS = "*xX•"
_REF_SHAPE = re.compile(r"^[0-9*xX•]{8,34}$")


def check_masked_ref(value: str) -> str:
    """A card or account reference showing at most its first 6 and last 4 digits.

    Anything that could be a full number is refused, so a clear number never reaches the
    database by mistake (the bank's confidentiality rule, not a convenience).
    """
    compact = value.replace(" ", "").replace("-", "")
    if not _REF_SHAPE.match(compact):
        raise ValueError("a masked reference is 8 to 34 digits and mask characters (*)")
    hidden = [index for index, char in enumerate(compact) if char in _MASK_CHARS]
    if not hidden:
        raise ValueError("the reference is not masked: show at most the first 6 and last 4")
    shown = [index for index, char in enumerate(compact) if char.isdigit()]
    last_four = len(compact) - 4
    if any(6 <= index < last_four for index in shown):
        raise ValueError("only the first 6 and the last 4 digits may be shown")
    return compact


def check_e164(value: str) -> str:
    number = to_e164(value)
    if number is None or number != value:
        raise ValueError("a phone number in E.164, e.g. +8613800138000")
    return number


MaskedRef = Annotated[str, AfterValidator(check_masked_ref)]
E164 = Annotated[str, AfterValidator(check_e164)]


class CustomerBase(SQLModel):
    name: str = Field(min_length=1, max_length=120)
    segment: Segment = Field(default=Segment.standard, sa_type=String(16))
    preferred_language: str = Field(default="zh", max_length=8)
    consent_sms: bool = True
    consent_calls: bool = True
    # First 6 and last 4 at most, never a full card or account number.
    account_ref_masked: MaskedRef | None = Field(default=None, max_length=32)
    masked_refs: list[MaskedRef] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )


class Customer(CustomerBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Set when this record was merged into another one of the same person.
    merged_into_id: int | None = Field(default=None, foreign_key="customer.id")


class CustomerCreate(CustomerBase):
    phones: list[E164] = Field(default_factory=list, max_length=10)


class CustomerUpdate(SQLModel):
    """Every field optional: only those sent change. `phones` replaces the list."""

    name: str | None = Field(default=None, min_length=1, max_length=120)
    segment: Segment | None = None
    preferred_language: str | None = Field(default=None, max_length=8)
    consent_sms: bool | None = None
    consent_calls: bool | None = None
    account_ref_masked: MaskedRef | None = None
    masked_refs: list[MaskedRef] | None = None
    phones: list[E164] | None = Field(default=None, max_length=10)


class CustomerPublic(CustomerBase):
    id: int
    created_at: datetime
    merged_into_id: int | None
    phones: list[str]


class CustomerMerge(BaseModel):
    from_id: int = PydanticField(alias="from", ge=1)


class CustomerPhone(SQLModel, table=True):
    __tablename__ = "customer_phone"

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    number: str = Field(max_length=20, unique=True, index=True)  # E.164
    kind: str = Field(default="mobile", max_length=16)


class CallerProfile(BaseModel):
    """What the IVR may know about a caller: enough to route, nothing to read out."""

    customer_id: int
    segment: Segment
    preferred_language: str
    # Who last handled the caller's open case: offered the call first if free.
    last_agent_id: int | None = None


class Department(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    name_zh: str = Field(max_length=64)
    name_en: str = Field(max_length=64)
