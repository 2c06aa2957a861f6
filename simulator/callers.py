"""Virtual people on the line: callers following scripts, agents and customers who pick up."""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol


@dataclass(frozen=True)
class Press:
    digits: str
    seconds_per_digit: float = 0.4


@dataclass(frozen=True)
class Speak:
    text: str
    confidence: float = 0.92


@dataclass(frozen=True)
class Silence:
    pass


@dataclass(frozen=True)
class HangUpAfter:
    """Arms a timer when the script reaches it: the caller hangs up wherever the call is then.

    `while_waiting` makes it patience instead: it starts when the caller begins to wait for a
    person (a queue, a Dial) and ends once someone answers.
    """

    seconds: float
    while_waiting: bool = False


@dataclass(frozen=True)
class Speech:
    """Talk into a Record: `then` is how the recording ends (a key, 'hangup' or 'timeout')."""

    seconds: float
    then: str = "#"


Step = Press | Speak | Silence | HangUpAfter | Speech


def press(digits: str) -> Press:
    return Press(digits)


def say(text: str, confidence: float = 0.92) -> Speak:
    return Speak(text, confidence)


def silence() -> Silence:
    return Silence()


def hangup_after(seconds: float) -> HangUpAfter:
    return HangUpAfter(seconds)


def hangup() -> HangUpAfter:
    return HangUpAfter(0.0)


def patience(seconds: float) -> HangUpAfter:
    """Wait `seconds` for a person (queue or Dial), then hang up unless someone answered."""
    return HangUpAfter(seconds, while_waiting=True)


def record(seconds: float, then: str = "#") -> Speech:
    return Speech(seconds, then)


class Script:
    """A caller's answers, consumed one per Gather or Record, in order.

    When the script runs out the caller hangs up at the next question, unless a hang-up
    timer is already armed (then they stay silent until it fires).
    """

    def __init__(self, steps: Sequence[Step] = ()) -> None:
        self._steps = list(steps)
        self._index = 0

    @property
    def exhausted(self) -> bool:
        return self._index >= len(self._steps)

    def pending_timer(self) -> float | None:
        """Seconds of a hang-up timer the script has just reached, consuming it."""
        timer = self.next_timer()
        return timer.seconds if timer is not None else None

    def next_timer(self) -> HangUpAfter | None:
        """The hang-up timer the script has just reached, consuming it."""
        if self._index < len(self._steps):
            step = self._steps[self._index]
            if isinstance(step, HangUpAfter):
                self._index += 1
                return step
        return None

    def next_answer(self) -> Press | Speak | Silence | Speech | None:
        """The answer to the current question; None when the script has run out."""
        if self.exhausted:
            return None
        step = self._steps[self._index]
        if isinstance(step, HangUpAfter):
            return Silence()
        self._index += 1
        return step


PickupOutcome = Literal["answer", "no-answer", "busy", "failed"]
# Who picks up, as Twilio's answering machine detection reports it (AnsweredBy).
AnsweredBy = Literal["human", "machine_start", "fax", "unknown"]


@dataclass(frozen=True)
class Pickup:
    """What the called party does: when they answer, how long they talk, what they key in."""

    outcome: PickupOutcome = "answer"
    ring_seconds: float = 3.0
    talk_seconds: float = 60.0
    script: Script = field(default_factory=Script)
    answered_by: AnsweredBy = "human"


class Answerer(Protocol):
    def pickup(self, *, to: str) -> Pickup: ...


@dataclass
class VirtualAgent:
    """An agent on a softphone: rings a while, sometimes misses the call, talks a drawn time."""

    ring_seconds: tuple[float, float] = (2.0, 6.0)
    talk_mean_seconds: float = 180.0
    talk_sigma: float = 0.5
    no_answer_probability: float = 0.0
    rng: random.Random = field(default_factory=random.Random)

    def pickup(self, *, to: str) -> Pickup:
        ring = self.rng.uniform(*self.ring_seconds)
        if self.rng.random() < self.no_answer_probability:
            return Pickup(outcome="no-answer", ring_seconds=ring)
        # Talk times are right-skewed: lognormal with the given mean.
        mu = _lognormal_mu(self.talk_mean_seconds, self.talk_sigma)
        talk = self.rng.lognormvariate(mu, self.talk_sigma)
        return Pickup(outcome="answer", ring_seconds=ring, talk_seconds=talk)


@dataclass
class VirtualCustomer:
    """A customer the bank calls back: a fixed pickup and a fresh script per call."""

    steps: Sequence[Step] = ()
    outcome: PickupOutcome = "answer"
    ring_seconds: float = 4.0
    talk_seconds: float = 60.0
    # "machine_start": their voicemail picks up (it listens, it never keys anything).
    answered_by: AnsweredBy = "human"

    def pickup(self, *, to: str) -> Pickup:
        steps = self.steps if self.answered_by == "human" else ()
        return Pickup(
            self.outcome, self.ring_seconds, self.talk_seconds, Script(steps), self.answered_by
        )


@dataclass
class Directory:
    """Who answers which address: exact matches first, then prefixes like 'client:'."""

    default: Answerer = field(default_factory=VirtualCustomer)
    exact: dict[str, Answerer] = field(default_factory=dict)
    prefixes: dict[str, Answerer] = field(default_factory=dict)

    def pickup(self, *, to: str) -> Pickup:
        if to in self.exact:
            return self.exact[to].pickup(to=to)
        for prefix, answerer in self.prefixes.items():
            if to.startswith(prefix):
                return answerer.pickup(to=to)
        return self.default.pickup(to=to)


def _lognormal_mu(mean: float, sigma: float) -> float:
    return math.log(max(mean, 1e-6)) - sigma * sigma / 2


@dataclass(frozen=True)
class Journey:
    steps: list[Step]
    route: str | None
    path: list[str]


def random_journey(
    menu: Mapping[str, Any],
    rng: random.Random,
    *,
    speech_probability: float = 0.2,
    silence_probability: float = 0.05,
    hold_seconds: tuple[float, float] = (20.0, 300.0),
    max_steps: int = 12,
) -> Journey:
    """A caller's walk through an IVR menu file (the `ivr/menus/*.yaml` format).

    Returns the answers and the route the menu should reach, so a test can check the call
    ended in the right queue. After reaching a route the caller holds for a drawn time.
    """
    nodes: Mapping[str, Any] = menu["nodes"]
    node_name: str = menu.get("start", "main")
    language: str = menu.get("default_language", "zh")
    other = {"zh": "en", "en": "zh"}
    steps: list[Step] = []
    path = [node_name]
    route: str | None = None
    while len(steps) < max_steps:
        node = nodes[node_name]
        if node.get("collect"):
            steps.append(Press("".join(rng.choice("0123456789") for _ in range(12)) + "#"))
            break
        choices = node.get("choices") or []
        if not choices:
            break
        if rng.random() < silence_probability:
            steps.append(Silence())
            continue
        choice = rng.choice(choices)
        phrases = (choice.get("speech") or {}).get(language) or []
        if phrases and rng.random() < speech_probability:
            steps.append(Speak(rng.choice(phrases)))
        else:
            steps.append(Press(str(choice["key"])))
        if choice.get("switch_language"):
            language = other.get(language, language)
            continue
        if "route" in choice:
            route = str(choice["route"])
            break
        if "goto" in choice:
            node_name = str(choice["goto"])
            path.append(node_name)
    steps.append(HangUpAfter(rng.uniform(*hold_seconds)))
    return Journey(steps, route, path)
