"""Matching what a caller said or keyed to a menu choice."""

from __future__ import annotations

import re
import unicodedata

from ivr.menu import Choice, Node

_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)
# Recognisers often return a lone digit as a word; treat it as the key.
_DIGIT_WORDS = {
    "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4",
    "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
    "零": "0", "一": "1", "二": "2", "两": "2", "三": "3", "四": "4",
    "五": "5", "六": "6", "七": "7", "八": "8", "九": "9",
}  # fmt: skip


def normalise(text: str) -> str:
    """Full-width to half-width, lower case, no spaces or punctuation."""
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", text).lower())


def digits_in(text: str) -> str:
    """The ASCII digits in a keyed or spoken answer (full-width digits count)."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", text) if "0" <= ch <= "9")


def match_choice(node: Node, *, digits: str, speech: str, language: str) -> Choice | None:
    """The choice a caller's keys or words pick at this node, or None."""
    key = digits.strip()[:1]
    if key:
        return node.choice_for_key(key)
    said = normalise(speech[:500])
    if not said:
        return None
    if said in _DIGIT_WORDS or (len(said) == 1 and said.isdigit()):
        return node.choice_for_key(_DIGIT_WORDS.get(said, said))
    best: tuple[int, Choice] | None = None
    for choice in node.choices:
        # Keywords of both languages count: callers mix them ("我要English").
        for words in (choice.speech.get(language, []), *choice.speech.values()):
            for word in words:
                token = normalise(word)
                if token and token in said and (best is None or len(token) > best[0]):
                    best = (len(token), choice)
    return best[1] if best else None
