"""The ticket category tree (data, editable by admins) and the configured code lists.

`crm/ticket_config.yaml` holds the default tree and the resolution and wrap-up codes; it is
checked at start-up. The tree lives in the `ticket_category` table, seeded from the file when
empty, so admins can change it without a release.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, Field, model_validator
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from crm.ticket_models import (
    TicketCategory,
    TicketCategoryCreate,
    TicketCategoryPublic,
    TicketCategoryUpdate,
)
from hotline.errors import Conflict, Invalid, NotFound

CONFIG_PATH = Path(__file__).with_name("ticket_config.yaml")


class TicketConfig(BaseModel):
    categories: list[TicketCategoryCreate] = Field(min_length=1)
    resolution_codes: frozenset[str] = Field(min_length=1)
    wrap_up_codes: frozenset[str] = Field(min_length=1)

    @model_validator(mode="after")
    def _parents_first(self) -> TicketConfig:
        seen: set[str] = set()
        for category in self.categories:
            parent = parent_of(category.code)
            if parent is not None and parent not in seen:
                raise ValueError(f"category {category.code!r} comes before its parent {parent!r}")
            seen.add(category.code)
        return self


def parent_of(code: str) -> str | None:
    return code.rsplit(".", 1)[0] if "." in code else None


@lru_cache(maxsize=4)
def load_config(path: Path = CONFIG_PATH) -> TicketConfig:
    """The file, checked; a mistake stops start-up with what is wrong."""
    return TicketConfig.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def ensure_categories(*, session: Session) -> None:
    """Write the default tree into an empty table."""
    if session.exec(select(func.count()).select_from(TicketCategory)).one():
        return
    try:
        # A savepoint: another process starting at the same moment may seed first.
        with session.begin_nested():
            for category in load_config().categories:
                session.add(
                    TicketCategory(**category.model_dump(), parent=parent_of(category.code))
                )
                session.flush()
    except IntegrityError:
        return


def list_categories(*, session: Session) -> list[TicketCategory]:
    return list(session.exec(select(TicketCategory).order_by(col(TicketCategory.code))))


def require_category(*, session: Session, code: str) -> TicketCategory:
    """An active category, else 422: tickets are filed only under the tree's codes."""
    category = session.get(TicketCategory, code)
    if category is None or not category.active:
        raise Invalid(f"unknown ticket category {code!r}")
    return category


def create_category(*, session: Session, data: TicketCategoryCreate) -> TicketCategory:
    if session.get(TicketCategory, data.code) is not None:
        raise Conflict(f"category {data.code!r} exists")
    parent = parent_of(data.code)
    if parent is not None and session.get(TicketCategory, parent) is None:
        raise Invalid(f"no parent category {parent!r}")
    category = TicketCategory(**data.model_dump(), parent=parent)
    session.add(category)
    session.flush()
    return category


def update_category(*, session: Session, code: str, data: TicketCategoryUpdate) -> TicketCategory:
    category = session.get(TicketCategory, code)
    if category is None:
        raise NotFound(f"no category {code!r}")
    for field, value in data.model_dump(exclude_unset=True).items():
        setattr(category, field, value)
    session.add(category)
    session.flush()
    return category


def skill_of(categories: list[TicketCategory], code: str) -> str | None:
    """A category's skill, inherited from the nearest ancestor that has one."""
    by_code = {category.code: category for category in categories}
    current: str | None = code
    while current is not None:
        category = by_code.get(current)
        if category is not None and category.skill:
            return category.skill
        current = parent_of(current)
    return None


def codes_for_skills(*, session: Session, skills: frozenset[str]) -> list[str]:
    """Every category code whose (inherited) skill is one of `skills`."""
    categories = list_categories(session=session)
    return [c.code for c in categories if skill_of(categories, c.code) in skills]


def public(category: TicketCategory) -> TicketCategoryPublic:
    return TicketCategoryPublic.model_validate(category)
