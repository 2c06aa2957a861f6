"""Reading survey replies: scores in the forms customers write them, opt-out and opt-in."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm.survey_replies import Reply, ReplyKind, parse_reply


@pytest.mark.parametrize(
    ("body", "score"),
    [
        ("5", 5),
        ("５", 5),
        ("五", 5),
        ("5分", 5),
        ("五分", 5),
        (" 4 ", 4),
        ("3星", 3),
        ("非常满意", 5),
        ("满意！", 4),
        ("不满意", 2),
        ("非常不满意", 1),
        ("Very satisfied", 5),
        ("satisfied.", 4),
        ("1", 1),
        ("２", 2),
        ("5/5", 5),
    ],
)
def test_scores_in_every_form(body: str, score: int) -> None:
    assert parse_reply(body) == Reply(ReplyKind.score, score)


@pytest.mark.parametrize("body", ["TD", "td", "退订", "STOP", "Stop", "unsubscribe"])
def test_opt_out_words(body: str) -> None:
    assert parse_reply(body).kind is ReplyKind.opt_out


@pytest.mark.parametrize("body", ["START", "订阅", "start"])
def test_opt_in_words(body: str) -> None:
    assert parse_reply(body).kind is ReplyKind.opt_in


def test_twilios_opt_out_type_wins_over_the_body() -> None:
    assert parse_reply("whatever", opt_out_type="STOP").kind is ReplyKind.opt_out
    assert parse_reply("whatever", opt_out_type="START").kind is ReplyKind.opt_in


@pytest.mark.parametrize("body", ["", "0", "6", "10", "hello", "我的卡被吞了", "5 but slow", "?"])
def test_anything_else_is_unclear(body: str) -> None:
    assert parse_reply(body).kind is ReplyKind.unclear


@given(st.text(max_size=200), st.one_of(st.none(), st.text(max_size=10)))
def test_parsing_never_raises(body: str, opt_out_type: str | None) -> None:
    reply = parse_reply(body, opt_out_type=opt_out_type)
    assert reply.kind in ReplyKind
    assert reply.score is None or 1 <= reply.score <= 5
