from __future__ import annotations

import asyncio

import pytest
from starlette.responses import Response

from simulator.transcript import RunReport
from tests.simulator.apps import BANK, CALLER, TwimlApp, emulate, twiml


async def call_with_answer(answer: Response | str, timeout: float = 15.0) -> tuple[int, str]:
    app = TwimlApp({"/voice": lambda p: answer})
    async with emulate(app, timeout=timeout) as exchange:
        record = await exchange.call_in(from_=CALLER, to=BANK, script=[])
    assert record.outcome == "application-error"
    assert record.said[-1].startswith("We are sorry, an application error has occurred")
    return record.errors[0].code, record.errors[0].message


@pytest.mark.anyio
async def test_a_server_error_is_11200() -> None:
    assert (await call_with_answer(Response("boom", status_code=500)))[0] == 11200


@pytest.mark.anyio
async def test_a_body_that_is_not_xml_is_12100() -> None:
    assert (await call_with_answer(Response("hello", media_type="text/xml")))[0] == 12100


@pytest.mark.anyio
async def test_whitespace_before_the_declaration_is_12100() -> None:
    assert (await call_with_answer("\n" + twiml("<Say>hi</Say>")))[0] == 12100


@pytest.mark.anyio
async def test_an_unknown_verb_is_a_schema_error() -> None:
    code, message = await call_with_answer(twiml("<Speak>hi</Speak>"))
    assert code == 12200 and "Speak" in message


@pytest.mark.anyio
async def test_a_wrong_content_type_is_12300() -> None:
    answer = Response(twiml("<Say>hi</Say>"), media_type="text/html")
    assert (await call_with_answer(answer))[0] == 12300


@pytest.mark.anyio
async def test_a_body_over_64_kb_is_11750() -> None:
    answer = twiml("<Say>" + "x" * 70_000 + "</Say>")
    assert (await call_with_answer(answer))[0] == 11750


@pytest.mark.anyio
async def test_a_slow_answer_is_11205() -> None:
    async def slow(scope: object, receive: object, send: object) -> None:
        await asyncio.sleep(1)

    async with emulate(slow, timeout=0.05) as exchange:
        record = await exchange.call_in(from_=CALLER, to=BANK, script=[])
    assert [e.code for e in record.errors] == [11205]
    report = RunReport.from_records([record])
    assert report.errors_by_code == {11205: 1} and report.outcomes == {"application-error": 1}
