"""The category tree: the shipped defaults, the menu's categories in it, skills inherited."""

from __future__ import annotations

from sqlmodel import Session

from crm.categories import (
    codes_for_skills,
    ensure_categories,
    list_categories,
    load_config,
    skill_of,
)
from hotline.settings import Settings
from ivr.menu import load_menu

ROOTS = {"accounts", "cards", "transactions", "loans_wealth", "complaint", "other"}


def test_the_default_tree_has_the_banks_roots() -> None:
    codes = {category.code for category in load_config().categories}
    assert ROOTS <= codes


def test_every_category_the_menu_files_calls_under_is_in_the_tree(settings: Settings) -> None:
    menu = load_menu(settings.ivr_menu_path)
    used = {route.category for route in menu.routes.values()} | {menu.unrouted.category}
    codes = {category.code for category in load_config().categories}
    assert used <= codes


def test_children_inherit_their_parents_skill(session: Session) -> None:
    ensure_categories(session=session)
    categories = list_categories(session=session)
    assert skill_of(categories, "cards.lost_stolen") == "cards"
    assert skill_of(categories, "complaint.fees") == "complaints"
    assert set(codes_for_skills(session=session, skills=frozenset({"loans"}))) == {
        "loans_wealth",
        "loans_wealth.loans",
        "loans_wealth.wealth",
    }


def test_seeding_twice_changes_nothing(session: Session) -> None:
    ensure_categories(session=session)
    count = len(list_categories(session=session))
    ensure_categories(session=session)
    assert len(list_categories(session=session)) == count
