"""Menus as data: the YAML schema, its cross-checks, and loading with clear errors."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

KEYS = frozenset("0123456789*#")
# Phrases the code says by name; a menu file must define each in every language.
REQUIRED_PHRASES = (
    "welcome",
    "not_understood",
    "transferring",
    "hold",
    "queue_position",
    "hold_offer",
    "hold_kept",
    "hold_calling",
    "hold_machine",
    "voicemail_prompt",
    "voicemail_thanks",
    "goodbye",
    "sorry_fallback",
    "sorry_voicemail",
    "case_status",
    "case_not_found",
)


class MenuError(ValueError):
    """A menu file that cannot be served; says which file, where in it, and what is wrong."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LanguageSpec(_Strict):
    voice: str
    say_language: str
    speech_language: str


class LanguageOffer(_Strict):
    language: str
    text: str


class RouteTarget(_Strict):
    kind: Literal["queue", "voicemail"] = "queue"
    skill: str | None = None
    priority: int = Field(3, ge=1, le=4)
    category: str = Field(min_length=1, max_length=64)
    subject: str = Field(min_length=1, max_length=200)
    complaint: bool = False
    # Served outside business hours too (lost cards).
    always_open: bool = False

    @model_validator(mode="after")
    def _queue_needs_skill(self) -> RouteTarget:
        if self.kind == "queue" and not self.skill:
            raise ValueError("a queue route needs a skill")
        return self


class Goal(_Strict):
    route: str | None = None
    goto: str | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Goal:
        if (self.route is None) == (self.goto is None):
            raise ValueError("give exactly one of route or goto")
        return self


class Choice(_Strict):
    key: str
    route: str | None = None
    goto: str | None = None
    switch_language: bool = False
    speech: dict[str, list[str]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_target(self) -> Choice:
        if self.key not in KEYS:
            raise ValueError(f"key {self.key!r} is not a phone key (0-9, * or #)")
        targets = [self.route is not None, self.goto is not None, self.switch_language]
        if sum(targets) != 1:
            raise ValueError("give exactly one of route, goto or switch_language")
        return self


class Node(_Strict):
    prompt: dict[str, str] | None = None
    prompt_phrase: str | None = None
    greeting: str | None = None
    offer_language: bool = False
    collect: Literal["case_number"] | None = None
    timeout: int = Field(6, ge=1, le=30)
    retries: int = Field(2, ge=0, le=5)
    on_fail: Goal
    choices: list[Choice] = Field(default_factory=list)

    @model_validator(mode="after")
    def _shape(self) -> Node:
        if (self.prompt is None) == (self.prompt_phrase is None):
            raise ValueError("give exactly one of prompt or prompt_phrase")
        if self.collect is None and not self.choices:
            raise ValueError("a menu node needs choices")
        if self.collect is not None and self.choices:
            raise ValueError("a collecting node takes no choices")
        return self

    def choice_for_key(self, key: str) -> Choice | None:
        return next((choice for choice in self.choices if choice.key == key), None)


class Unrouted(_Strict):
    category: str
    subject: str


class Menu(_Strict):
    default_language: str
    languages: dict[str, LanguageSpec]
    language_offer: dict[str, LanguageOffer] = Field(default_factory=dict)
    phrases: dict[str, dict[str, str]]
    routes: dict[str, RouteTarget]
    start: str
    after_hours_start: str
    unrouted: Unrouted
    nodes: dict[str, Node]

    def phrase(self, name: str, language: str) -> str:
        return self.phrases[name][language]

    def other_language(self, language: str) -> str:
        offer = self.language_offer.get(language)
        return offer.language if offer else language


def _cross_check(menu: Menu) -> list[tuple[str, str]]:
    """Every reference resolves and every text exists in every language."""
    problems: list[tuple[str, str]] = []
    languages = set(menu.languages)
    if menu.default_language not in languages:
        problems.append(("default_language", f"{menu.default_language!r} is not in languages"))
    for language, offer in menu.language_offer.items():
        if language not in languages or offer.language not in languages:
            problems.append((f"language_offer.{language}", "names a language not in languages"))
    for name in REQUIRED_PHRASES:
        if name not in menu.phrases:
            problems.append((f"phrases.{name}", "missing"))
    for name, texts in menu.phrases.items():
        for language in languages - set(texts):
            problems.append((f"phrases.{name}", f"no {language!r} text"))
    for start in ("start", "after_hours_start"):
        if getattr(menu, start) not in menu.nodes:
            problems.append((start, f"unknown node {getattr(menu, start)!r}"))

    def check_goal(where: str, route: str | None, goto: str | None) -> None:
        if route is not None and route not in menu.routes:
            problems.append((f"{where}.route", f"unknown route {route!r}"))
        if goto is not None and goto not in menu.nodes:
            problems.append((f"{where}.goto", f"unknown node {goto!r}"))

    for node_name, node in menu.nodes.items():
        where = f"nodes.{node_name}"
        if node.prompt is not None:
            for language in languages - set(node.prompt):
                problems.append((f"{where}.prompt", f"no {language!r} text"))
        for phrase in (node.prompt_phrase, node.greeting):
            if phrase is not None and phrase not in menu.phrases:
                problems.append((where, f"unknown phrase {phrase!r}"))
        if node.collect == "case_number":
            for needed in ("case_prompt", "status.new"):
                if needed not in menu.phrases:
                    problems.append((where, f"collecting a case number needs phrase {needed!r}"))
        check_goal(f"{where}.on_fail", node.on_fail.route, node.on_fail.goto)
        seen: set[str] = set()
        for index, choice in enumerate(node.choices):
            if choice.key in seen:
                problems.append((f"{where}.choices.{index}.key", f"{choice.key!r} used twice"))
            seen.add(choice.key)
            check_goal(f"{where}.choices.{index}", choice.route, choice.goto)
            for language in set(choice.speech) - languages:
                problems.append(
                    (f"{where}.choices.{index}.speech", f"unknown language {language!r}")
                )
            if choice.switch_language and not menu.language_offer:
                problems.append(
                    (f"{where}.choices.{index}", "switch_language needs language_offer")
                )
    return problems


def parse_menu(text: str, *, source: str) -> Menu:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise MenuError(f"{source}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise MenuError(f"{source}: a menu file is a mapping at the top")
    try:
        menu = Menu.model_validate(raw)
    except ValidationError as exc:
        lines = [
            f"{source}: {'.'.join(str(part) for part in err['loc']) or '(top)'}: {err['msg']}"
            for err in exc.errors()
        ]
        raise MenuError("\n".join(lines)) from exc
    problems = _cross_check(menu)
    if problems:
        raise MenuError("\n".join(f"{source}: {path}: {what}" for path, what in problems))
    return menu


@lru_cache(maxsize=4)
def load_menu(path: Path) -> Menu:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise MenuError(f"{path}: cannot read menu file: {exc}") from exc
    return parse_menu(text, source=str(path))
