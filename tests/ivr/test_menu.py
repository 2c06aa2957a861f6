"""Menu files: the bank's menu loads; a broken one says where and what."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from hotline.settings import Settings
from ivr.menu import MenuError, load_menu, parse_menu

BANK_MENU = Path(Settings().ivr_menu_path)


def bank_menu_with(change: object) -> str:
    raw = yaml.safe_load(BANK_MENU.read_text(encoding="utf-8"))
    change(raw)  # type: ignore[operator]
    return yaml.safe_dump(raw, allow_unicode=True)


def test_the_bank_menu_has_the_published_key_map() -> None:
    menu = load_menu(BANK_MENU)
    main = menu.nodes[menu.start]
    targets = {c.key: c.route or c.goto or "language" for c in main.choices}
    assert targets == {
        "1": "lost_card", "2": "credit_cards", "3": "accounts", "4": "loans", "5": "complaints",
        "6": "case_status", "0": "general", "9": "language",
    }  # fmt: skip
    cards = {c.key: c.route for c in menu.nodes["credit_cards"].choices if c.route}
    assert cards == {"1": "card_bills", "2": "card_activation", "3": "disputed_transaction"}
    assert menu.routes["lost_card"].priority == 1 and menu.routes["lost_card"].always_open
    assert menu.routes["complaints"].complaint


@pytest.mark.parametrize(
    ("change", "where", "what"),
    [
        (
            lambda m: m["nodes"]["main"]["choices"][0].update(route="nowhere"),
            "nodes.main.choices.0.route",
            "unknown route 'nowhere'",
        ),
        (lambda m: m["nodes"]["main"]["prompt"].pop("en"), "nodes.main.prompt", "no 'en' text"),
        (
            lambda m: m["nodes"]["main"]["choices"][1].update(key="1"),
            "nodes.main.choices.1.key",
            "used twice",
        ),
        (
            lambda m: m["nodes"]["main"]["choices"][1].update(key="x"),
            "nodes.main.choices.1",
            "not a phone key",
        ),
        (lambda m: m["phrases"].pop("hold"), "phrases.hold", "missing"),
        (lambda m: m.update(start="lobby"), "start", "unknown node 'lobby'"),
        (lambda m: m["routes"]["accounts"].pop("skill"), "routes.accounts", "needs a skill"),
        (
            lambda m: m["nodes"]["main"].update(timeout=90),
            "nodes.main.timeout",
            "less than or equal to 30",
        ),
        (lambda m: m["nodes"]["main"].update(colour="red"), "nodes.main.colour", "Extra inputs"),
    ],
)
def test_broken_menu_names_file_path_and_problem(change: object, where: str, what: str) -> None:
    with pytest.raises(MenuError) as error:
        parse_menu(bank_menu_with(change), source="menus/bank.yaml")
    message = str(error.value)
    assert f"menus/bank.yaml: {where}" in message
    assert what in message


def test_not_yaml_is_refused() -> None:
    with pytest.raises(MenuError, match="bad.yaml: not valid YAML"):
        parse_menu("nodes: [unclosed", source="bad.yaml")


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(MenuError, match="cannot read menu file"):
        load_menu(tmp_path / "none.yaml")
