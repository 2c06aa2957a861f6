"""The verbs that involve only the caller: Say, Play, Pause, Gather, Record, Redirect, Hangup."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

from simulator.callers import Press, Speak, Speech
from simulator.flow import AppHungUp, CallerHungUp, CallRejected, Document, LeftQueue
from simulator.recording import Recording, callback_from, complete_recording, start_recording
from simulator.transcript import Gathered, Paused, Played, Recorded, Said
from simulator.twiml import attr_bool, attr_int, attr_method, text_of

if TYPE_CHECKING:
    from simulator.call import Call

# Unknown audio length: assume a typical prompt.
PLAY_SECONDS = 8.0
SPEECH_END_SECONDS = 1.0


def speech_seconds(text: str) -> float:
    """How long a TTS voice takes: about 4 CJK characters or 15 Latin characters a second."""
    cjk = sum(1 for ch in text if ord(ch) > 0x2E80)
    return 0.3 + cjk / 4 + (len(text) - cjk) / 15


async def say(call: Call, verb: ET.Element, document: Document, in_queue: bool) -> None:
    text = text_of(verb)
    loops = attr_int(verb, "loop", 1)
    call.record.events.append(
        Said(call.clock.elapsed(), text, verb.get("voice", "man"), verb.get("language", "en-US"))
    )
    # loop="0" means "until something else happens", the usual hold loop in a waitUrl.
    await call.wait(speech_seconds(text) * loops if loops > 0 else None)


async def play(call: Call, verb: ET.Element, document: Document, in_queue: bool) -> None:
    url = call.exchange.endpoint.resolve(text_of(verb), document.url) if text_of(verb) else ""
    loops = attr_int(verb, "loop", 1)
    call.record.events.append(Played(call.clock.elapsed(), url or f"digits:{verb.get('digits')}"))
    await call.wait(PLAY_SECONDS * loops if loops > 0 else None)


async def pause(call: Call, verb: ET.Element, document: Document, in_queue: bool) -> None:
    seconds = attr_int(verb, "length", 1)
    call.record.events.append(Paused(call.clock.elapsed(), seconds))
    await call.wait(seconds)


async def hangup(call: Call, verb: ET.Element, document: Document, in_queue: bool) -> None:
    raise AppHungUp()


async def reject(call: Call, verb: ET.Element, document: Document, in_queue: bool) -> None:
    if call.answered_at is not None:
        # Twilio only rejects unanswered calls; afterwards it behaves like a hang-up.
        raise AppHungUp()
    raise CallRejected(verb.get("reason", "rejected"))


async def redirect(call: Call, verb: ET.Element, document: Document, in_queue: bool) -> Document:
    url = call.exchange.endpoint.resolve(text_of(verb) or document.url, document.url)
    purpose = "wait-redirect" if in_queue else "redirect"
    extra = call.queue_params() if in_queue else {}
    return await call.follow(url, attr_method(verb), extra, purpose)


async def leave(call: Call, verb: ET.Element, document: Document, in_queue: bool) -> None:
    if in_queue:
        raise LeftQueue()
    call.note("leave-ignored")


async def gather(
    call: Call, verb: ET.Element, document: Document, in_queue: bool
) -> Document | None:
    inputs = set((verb.get("input") or "dtmf").split())
    action = call.exchange.endpoint.resolve(verb.get("action") or document.url, document.url)
    timeout = attr_int(verb, "timeout", 5)
    num_digits = attr_int(verb, "numDigits", 0)
    finish_key = verb.get("finishOnKey", "#")
    language = verb.get("language", "en-US")
    for prompt in verb:
        await {"Say": say, "Play": play, "Pause": pause}[prompt.tag](
            call, prompt, document, in_queue
        )
    answer = call.next_answer()
    extra: dict[str, str] = {}
    if isinstance(answer, Press) and "dtmf" in inputs:
        digits, finished_by_key = _collect_digits(answer.digits, finish_key, num_digits)
        await call.wait(answer.seconds_per_digit * len(answer.digits))
        if not finished_by_key and not (num_digits and len(digits) >= num_digits):
            # Twilio waits `timeout` after the last key, then submits what it has.
            await call.wait(timeout)
        if digits:
            extra["Digits"] = digits
        if finished_by_key:
            extra["FinishedOnKey"] = finish_key
        call.record.events.append(
            Gathered(call.clock.elapsed(), "dtmf", digits or None, None, language)
        )
    elif isinstance(answer, Speak) and "speech" in inputs:
        await call.wait(speech_seconds(answer.text) + SPEECH_END_SECONDS)
        extra["SpeechResult"] = answer.text
        extra["Confidence"] = f"{answer.confidence:.8f}"
        extra["Language"] = language
        call.record.events.append(
            Gathered(call.clock.elapsed(), "speech", None, answer.text, language)
        )
    else:
        await call.wait(timeout)
        call.record.events.append(Gathered(call.clock.elapsed(), "none", None, None, language))
    if "Digits" not in extra and "SpeechResult" not in extra:
        if not attr_bool(verb, "actionOnEmptyResult", False):
            return None
    purpose = "wait-gather-action" if in_queue else "gather-action"
    if in_queue:
        extra |= call.queue_params()
    return await call.follow(action, attr_method(verb), extra, purpose)


def _collect_digits(pressed: str, finish_key: str, num_digits: int) -> tuple[str, bool]:
    """Digits Twilio submits, and whether the finish key ended the input."""
    collected = ""
    for key in pressed:
        if finish_key and key == finish_key:
            return collected, True
        collected += key
        if num_digits and len(collected) >= num_digits:
            return collected, False
    return collected, False


async def record(
    call: Call, verb: ET.Element, document: Document, in_queue: bool
) -> Document | None:
    action = call.exchange.endpoint.resolve(verb.get("action") or document.url, document.url)
    max_length = attr_int(verb, "maxLength", 3600)
    timeout = attr_int(verb, "timeout", 5)
    finish_keys = verb.get("finishOnKey", "1234567890*#")
    callback = callback_from(
        call,
        verb.get("recordingStatusCallback"),
        verb.get("recordingStatusCallbackMethod"),
        verb.get("recordingStatusCallbackEvent"),
        document.url,
    )
    if attr_bool(verb, "playBeep", True):
        call.note("beep")
    answer = call.next_answer()
    if not isinstance(answer, Speech):
        await call.wait(timeout)
        call.note("record-empty")
        return None
    recording = start_recording(call, source="RecordVerb", channels=1, callback=callback)
    finished_by: str | None = None
    try:
        if answer.seconds >= max_length:
            await call.wait(max_length)
        else:
            await call.wait(answer.seconds)
            if answer.then == "hangup":
                raise CallerHungUp()
            if answer.then in finish_keys:
                finished_by = answer.then
            else:
                await call.wait(timeout)
    except CallerHungUp:
        complete_recording(call, recording, callback)
        call.status = "completed"
        await call.notify(action, attr_method(verb), _record_params(recording, "hangup"), "record")
        call.record.events.append(
            Recorded(call.clock.elapsed(), recording.sid, recording.duration, "hangup")
        )
        raise
    complete_recording(call, recording, callback)
    call.record.events.append(
        Recorded(call.clock.elapsed(), recording.sid, recording.duration, finished_by or "timeout")
    )
    return await call.follow(
        action, attr_method(verb), _record_params(recording, finished_by), "record-action"
    )


def _record_params(recording: Recording, digits: str | None) -> dict[str, str]:
    params = {
        "RecordingUrl": recording.url,
        "RecordingSid": recording.sid,
        "RecordingDuration": str(recording.duration),
    }
    if digits is not None:
        params["Digits"] = digits
    return params
