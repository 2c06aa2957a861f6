"""Virtual hold through the webhooks, on real Redis and the database: the offer in the wait
loop, the key keeping the caller's place, the call back (REST requests land in the outbox) and
what becomes of each attempt."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from crm import service as crm
from crm.models import Callback, CallDisposition, CallLog, EventKind, TicketEvent
from hotline.clock import FrozenClock
from hotline.outbox import OutboxMessage
from routing import jobs
from routing.config import RoutingConfigError, parse_routing
from routing.engine import SyncRouter
from routing.router_types import AgentProfile
from routing.stats import StatsReader
from tests.conftest import PUBLIC_URL, Twilio, call_params
from tests.ivr.caller import Caller
from tests.twiml import Answer

STRANGER = "+8613612345678"
LATER = "+8613712345678"
QUEUE_SID = "QU" + "3" * 32


@pytest.fixture
def router(twilio: Twilio) -> Iterator[SyncRouter]:
    yield jobs.router()


def ready(router: SyncRouter, clock: FrozenClock, agent_id: int) -> None:
    profile = AgentProfile(
        agent_id=agent_id, languages=["zh", "en"],
        skills={"accounts": 5, "complaints": 8, "general": 5},
        contact=f"client:agent_{agent_id}",
    )  # fmt: skip
    outcome = router.agent_ready(agent=profile, now=clock.now())
    if outcome.offered_call:  # as the agents' API does
        jobs.schedule_push(router.connection, outcome.offered_call, agent_id)


def queued(twilio: Twilio, clock: FrozenClock, number: str = STRANGER, key: str = "3") -> Caller:
    """A caller through the menu into a queue (3: accounts, 5: complaints), nobody free."""
    caller = Caller(twilio, clock, number)
    caller.dial()
    assert caller.press(key).enqueued() in ("accounts", "complaints")
    return caller


def wait_turn(twilio: Twilio, caller: Caller, queue: str = "accounts") -> Answer:
    params = call_params(caller.sid, caller.number, QueueSid=QUEUE_SID, QueuePosition="1",
                         QueueTime="1")  # fmt: skip
    return Answer.of(twilio.post(f"/twilio/voice/wait?lang=zh&queue={queue}", params))


def press_hold(twilio: Twilio, caller: Caller, action: str) -> Answer:
    return Answer.of(twilio.post(action, call_params(caller.sid, caller.number, Digits="1")))


def hold(twilio: Twilio, clock: FrozenClock, caller: Caller) -> None:
    """The caller takes the offer once it comes, leaves the queue and hangs up."""
    clock.advance(61)
    kept = press_hold(twilio, caller, wait_turn(twilio, caller).gather().get("action") or "")
    assert kept.verbs() == ["Say", "Leave"] and "排队位置已为您保留" in kept.said()
    left = call_params(caller.sid, caller.number, QueueResult="leave", QueueTime="61")
    assert Answer.of(twilio.post("/twilio/voice/queue-result?lang=zh", left)).verbs() == ["Hangup"]
    caller.hang_up(after=4, duration=80)


def calls_placed(engine: Engine) -> list[dict[str, str]]:
    with Session(engine) as session:
        rows = session.exec(
            select(OutboxMessage)
            .where(OutboxMessage.operation == "calls.create")
            .order_by(col(OutboxMessage.id))
        ).all()
        return [row.payload for row in rows]


def path_of(url: str) -> str:
    return url.removeprefix(PUBLIC_URL)


def call_back_status(twilio: Twilio, placed: dict[str, str], call_sid: str, status: str) -> None:
    params = call_params(call_sid, "+864008895555", CallStatus=status, Direction="outbound-api")
    assert twilio.post(path_of(placed["status_callback"]), params).status_code == 200


def answer_call_back(
    twilio: Twilio, placed: dict[str, str], call_sid: str, answered_by: str = "human"
) -> Answer:
    params = call_params(call_sid, "+864008895555", AnsweredBy=answered_by,
                         Direction="outbound-api")  # fmt: skip
    return Answer.of(twilio.post(path_of(placed["url"]), params))


def hold_of(engine: Engine, call_sid: str) -> Callback:
    with Session(engine) as session:
        return session.exec(select(Callback).where(Callback.origin_call_sid == call_sid)).one()


def test_the_offer_comes_after_the_queues_wait_from_a_number_we_can_call(
    twilio: Twilio, clock: FrozenClock
) -> None:
    caller = queued(twilio, clock)
    clock.advance(30)
    assert wait_turn(twilio, caller).root.find("Gather") is None  # offer_after is 60 s
    clock.advance(31)
    gather = wait_turn(twilio, caller).gather()
    assert gather.get("numDigits") == "1"
    assert gather.get("action") == "/twilio/voice/hold?lang=zh&queue=accounts"
    assert "请按1" in " ".join(say.text or "" for say in gather.iter("Say"))
    assert gather.find("Play") is not None  # the hold music plays while the key is awaited
    withheld = queued(twilio, clock, "anonymous")
    clock.advance(61)
    assert wait_turn(twilio, withheld).root.find("Gather") is None


def test_a_queue_without_virtual_hold_never_offers_it(twilio: Twilio, clock: FrozenClock) -> None:
    caller = queued(twilio, clock, key="5")
    clock.advance(300)
    assert wait_turn(twilio, caller, "complaints").root.find("Gather") is None
    # A key sent for that queue anyway changes nothing: the caller holds on.
    action = "/twilio/voice/hold?lang=zh&queue=complaints"
    assert press_hold(twilio, caller, action).verbs() == ["Say", "Play"]
    assert jobs.router().call_state(caller.sid).get("vh") is None


def test_the_key_keeps_the_place_and_the_hang_up_is_not_an_abandon(
    twilio: Twilio, clock: FrozenClock, router: SyncRouter, engine: Engine
) -> None:
    held = queued(twilio, clock)
    arrived = router.call_state(held.sid)
    clock.advance(10)
    later = queued(twilio, clock, LATER)
    hold(twilio, clock, held)
    state = router.call_state(held.sid)
    assert (state["state"], state["vh"], state["enq"], state["score"]) == (
        "waiting", "1", arrived["enq"], arrived["score"],
    )  # fmt: skip
    events = router.events_after("0-0", 1000)
    assert not [e for _, e in events if e["kind"] == "call_abandoned"]
    with Session(engine) as session:
        log = session.exec(select(CallLog).where(CallLog.call_sid == held.sid)).one()
    callback = hold_of(engine, held.sid)
    assert log.disposition == CallDisposition.virtual_hold
    assert (callback.reason, callback.status, callback.phone) == (
        "virtual_hold", "holding", STRANGER,
    )  # fmt: skip
    assert callback.ticket_id == log.ticket_id
    # A repeated key press (Twilio repeats) changes nothing.
    again = press_hold(twilio, held, "/twilio/voice/hold?lang=zh&queue=accounts")
    assert again.verbs() == ["Say", "Leave"]
    with Session(engine) as session:
        assert len(session.exec(select(Callback)).all()) == 1
    # The held caller is served first: the one who came later waits on.
    ready(router, clock, 7)
    assert router.call_state(held.sid)["state"] == "offered"
    assert router.call_state(later.sid)["state"] == "waiting"
    offered_at = router.call_state(held.sid)["offered_at"]
    due = router.connection.zscore("{rt}:timers", f"exp|{held.sid}|{offered_at}")
    assert due is not None
    assert due - float(offered_at) == 20 + 30 + 30  # ring + grace + the customer's phone


def test_on_answer_the_customer_is_put_through_to_the_kept_agent(
    twilio: Twilio, clock: FrozenClock, router: SyncRouter, engine: Engine
) -> None:
    held = queued(twilio, clock)
    hold(twilio, clock, held)
    ready(router, clock, 7)
    twilio.run_jobs()  # the push job places the call back
    (placed,) = calls_placed(engine)
    assert (placed["to"], placed["timeout"], placed["machine_detection"]) == (
        STRANGER, 30, "Enable",
    )  # fmt: skip
    assert jobs.push_offer(held.sid, 7) == "stale"  # a repeated job never calls twice
    assert len(calls_placed(engine)) == 1
    back = "CA" + "b" * 32
    clock.advance(8)
    answer = answer_call_back(twilio, placed, back)
    assert "按照您的要求为您回电" in answer.said()
    dial = answer.root.find("Dial")
    assert dial is not None and dial.findtext("Client") == "agent_7"
    assert answer_call_back(twilio, placed, back).verbs() == answer.verbs()  # a repeat
    leg = call_params("CA" + "9" * 32, "client:agent_7", CallStatus="in-progress",
                      ParentCallSid=back)  # fmt: skip
    assert twilio.post("/twilio/voice/agent-leg?agent=7", leg).status_code == 200
    assert router.agent_state(7)["state"] == "busy"
    clock.advance(90)
    done = call_params(back, STRANGER, DialCallStatus="completed", DialCallDuration="90")
    twilio.post(dial.get("action") or "", done)
    assert router.agent_state(7)["state"] == "wrap_up"
    call_back_status(twilio, placed, back, "completed")
    twilio.run_jobs()
    jobs.record_agent_states()
    callback = hold_of(engine, held.sid)
    with Session(engine) as session:
        log = session.exec(select(CallLog).where(CallLog.call_sid == back)).one()
    assert (log.direction, log.agent_id, log.ticket_id) == ("outbound", 7, callback.ticket_id)
    assert log.disposition == CallDisposition.answered
    assert (callback.status, callback.outcome, callback.attempts, callback.call_sid) == (
        "completed", "agent", 1, back,
    )  # fmt: skip


def test_no_answer_frees_the_agent_and_retries_from_the_callers_place_up_to_the_limit(
    twilio: Twilio, clock: FrozenClock, router: SyncRouter, engine: Engine
) -> None:
    held = queued(twilio, clock)
    score = router.call_state(held.sid)["score"]
    hold(twilio, clock, held)
    ready(router, clock, 7)
    for attempt, (outcome, answered_by) in enumerate(
        [("no-answer", ""), ("completed", "machine_start"), ("busy", "")], start=1
    ):
        twilio.run_jobs()
        placed = calls_placed(engine)[-1]
        assert len(calls_placed(engine)) == attempt
        back = f"CA{attempt:032d}"
        clock.advance(30)
        if answered_by:
            machine = answer_call_back(twilio, placed, back, answered_by)
            assert machine.verbs() == ["Say", "Hangup"]
        call_back_status(twilio, placed, back, outcome)
        call_back_status(twilio, placed, back, outcome)  # a repeat changes nothing
        jobs.record_agent_states()
        agent = router.agent_state(7)
        assert agent["state"] == "available" and agent["reason"] == "callback_not_answered"
        state = router.call_state(held.sid)
        if attempt < 3:
            assert (state["state"], state["score"]) == ("retry", score)
            assert hold_of(engine, held.sid).status == "holding"
            clock.advance(59)
            jobs.tick()
            assert router.call_state(held.sid)["state"] == "retry"  # the back-off is 60 s
            clock.advance(1)
            jobs.tick()
            assert router.call_state(held.sid)["state"] == "offered"
    assert router.call_state(held.sid)["state"] == "gone"
    callback = hold_of(engine, held.sid)
    assert (callback.status, callback.attempts, callback.last_result) == ("exhausted", 3, "busy")
    with Session(engine) as session:
        figures = crm.callback_figures(
            session=session, now=clock.now(), since=[clock.now() - timedelta(hours=1)]
        )
        results = session.exec(
            select(TicketEvent).where(TicketEvent.kind == EventKind.callback_result)
        ).all()
    assert (figures.scheduled, figures.placed, figures.failed, figures.holding) == (
        [1], [1], [1], 0,
    )  # fmt: skip
    # Never served: in the queue's figures an abandon after the service level, with its wait.
    reader = StatsReader(router.connection, router.config, sl_target=0.8)
    accounts = next(q for q in reader.read(now=clock.now()).queues if q.queue == "accounts")
    assert (accounts.today.offered, accounts.today.answered, accounts.today.abandoned) == (
        1, 0, 1,
    )  # fmt: skip
    assert [event.data["status"] for event in results] == ["holding", "holding", "exhausted"]
    assert [event.data["result"] for event in results] == ["no-answer", "machine", "busy"]


def test_a_call_back_nobody_hears_of_frees_the_agent_at_the_offers_expiry(
    twilio: Twilio, clock: FrozenClock, router: SyncRouter, engine: Engine
) -> None:
    held = queued(twilio, clock)
    hold(twilio, clock, held)
    ready(router, clock, 7)  # the push job is lost: no call is placed
    clock.advance(79)
    jobs.tick()
    assert router.agent_state(7)["state"] == "reserved"
    clock.advance(1)
    jobs.tick()
    assert router.agent_state(7)["state"] == "available"
    assert router.call_state(held.sid)["state"] == "retry"
    with Session(engine) as session:
        assert crm.callback_figures(session=session, now=clock.now(), since=[]).holding == 1


def test_bad_input_on_the_hold_routes_gets_twiml(twilio: Twilio, clock: FrozenClock) -> None:
    nobody = call_params("", STRANGER, Digits="1")
    assert Answer.of(twilio.post("/twilio/voice/hold?lang=xx&queue=%00", nobody)).verbs()
    for query in ("", "?entry=&agent=x&offer=1", "?entry=CA1&agent=7&offer=abc", "?agent=7"):
        sorry = Answer.of(twilio.post(f"/twilio/voice/hold/answer{query}", call_params("CA1")))
        assert sorry.verbs()[-1] == "Hangup" and "Sorry" in sorry.said()
    # An answer for an offer the router never made: an apology, no call put through.
    stale = "/twilio/voice/hold/answer?entry=CAnope&agent=7&offer=1.000&lang=en"
    assert Answer.of(twilio.post(stale, call_params("CA2"))).verbs() == ["Say", "Hangup"]
    ended = call_params("CA3", CallStatus="completed")
    assert twilio.post("/twilio/voice/hold/status?entry=x&offer=zz", ended).status_code == 200
    unsigned = twilio.post("/twilio/voice/hold/answer", call_params("CA4"), signature="bad")
    assert unsigned.status_code == 403


def test_the_routing_file_checks_virtual_hold() -> None:
    base = "queues:\n  general:\n    skill: general\n    steps: [{after: 0}]\n"
    config = parse_routing(base + "    virtual_hold: {offer_after: 30}\n", source="t")
    hold_config = config.queues["general"].virtual_hold
    assert hold_config is not None and (hold_config.offer_after, hold_config.key) == (30, "1")
    for bad in ("{key: x}", "{offer_after: -1}", "{min_waiting: 0}", "{unknown: 1}"):
        with pytest.raises(RoutingConfigError):
            parse_routing(base + f"    virtual_hold: {bad}\n", source="t")
    with pytest.raises(RoutingConfigError):
        parse_routing(base + "virtual_hold_calls: {attempts: 0}\n", source="t")


def test_a_kept_agent_who_does_not_answer_leaves_the_customer_queued_like_any_caller(
    twilio: Twilio, clock: FrozenClock, router: SyncRouter, engine: Engine
) -> None:
    held = queued(twilio, clock)
    hold(twilio, clock, held)
    ready(router, clock, 7)
    twilio.run_jobs()
    (placed,) = calls_placed(engine)
    back = "CA" + "c" * 32
    dial = answer_call_back(twilio, placed, back).root.find("Dial")
    assert dial is not None
    clock.advance(20)
    missed = call_params(back, STRANGER, DialCallStatus="no-answer")
    assert Answer.of(twilio.post(dial.get("action") or "", missed)).enqueued() == "accounts"
    assert router.agent_state(7)["state"] == "missed"  # the agent's own ring went unanswered
    state = router.call_state(back)
    assert (state["state"], state["twilio_queue"], state["held_for"]) == ("waiting", "", held.sid)
    assert router.call_state(held.sid)["state"] == "moved"
