"""The status machine's table: what may follow what, and what a resolution needs."""

from __future__ import annotations

import pytest

from crm.ticket_models import TicketStatus as S
from crm.ticket_status import allowed, check_mergeable, check_transition, is_reopen
from hotline.errors import Conflict, Invalid

CODES = frozenset({"fixed"})


def move(current: S, to: S, code: str | None = "fixed", summary: str | None = "done") -> None:
    check_transition(current, to, resolution_code=code, summary=summary, resolution_codes=CODES)


def test_the_main_path_is_allowed() -> None:
    path = [S.new, S.open, S.pending_customer, S.escalated, S.resolved, S.closed]
    for current, to in zip(path, path[1:], strict=False):
        move(current, to)


def test_a_closed_ticket_only_reopens() -> None:
    assert allowed(S.closed) == [S.open]
    assert is_reopen(S.closed, S.open) and is_reopen(S.resolved, S.open)
    assert not is_reopen(S.pending_customer, S.open)


@pytest.mark.parametrize(
    ("current", "to"), [(S.new, S.closed), (S.open, S.new), (S.closed, S.resolved)]
)
def test_a_wrong_move_is_a_conflict_listing_the_allowed(current: S, to: S) -> None:
    with pytest.raises(Conflict) as refused:
        move(current, to)
    assert refused.value.extra["allowed"] == [str(status) for status in allowed(current)]


def test_a_resolution_needs_a_known_code_and_a_summary() -> None:
    with pytest.raises(Invalid):
        move(S.open, S.resolved, code=None)
    with pytest.raises(Invalid):
        move(S.open, S.resolved, summary="  ")
    with pytest.raises(Invalid):
        move(S.open, S.resolved, code="other")


def test_every_status_has_a_way_on_and_none_leads_to_new() -> None:
    for status in S:
        assert allowed(status)
        assert S.new not in allowed(status)


def test_a_closed_ticket_cannot_be_merged() -> None:
    check_mergeable(S.escalated)
    with pytest.raises(Conflict):
        check_mergeable(S.closed)
