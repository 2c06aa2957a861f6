"""TwiML documents, rendered once at start-up per node and language.

Per request only the step number and a few spoken values are filled in: string work in
microseconds instead of building an XML tree on every webhook.
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from ivr.menu import LanguageSpec, Menu, Node

XML_HEAD = '<?xml version="1.0" encoding="UTF-8"?><Response>'
XML_TAIL = "</Response>"
STEP = "__STEP__"

GATHER_URL = "/twilio/voice/gather"
WAIT_URL = "/twilio/voice/wait"
QUEUE_RESULT_URL = "/twilio/voice/queue-result"
VOICEMAIL_URL = "/twilio/voice/voicemail"
RECORDING_STATUS_URL = "/twilio/recordings/status"

# Said when nothing else can be: no menu, no Redis. Both languages, then an agent.
LAST_RESORT = (
    XML_HEAD
    + '<Say voice="Polly.Zhiyu-Neural" language="cmn-CN">'
    + "很抱歉，系统暂时出现问题，正在为您转接客服专员。</Say>"
    + '<Say voice="Polly.Joanna-Neural" language="en-US">'
    + "We are sorry, we have a technical problem. Connecting you to an agent.</Say>"
    + '<Enqueue waitUrl="/twilio/voice/wait?queue=general" waitUrlMethod="POST">general</Enqueue>'
    + XML_TAIL
)


def _attrs(**values: str | int | None) -> str:
    return "".join(
        f" {name}={quoteattr(str(value))}" for name, value in values.items() if value is not None
    )


def say(text: str, spec: LanguageSpec) -> str:
    return f"<Say{_attrs(voice=spec.voice, language=spec.say_language)}>{escape(text)}</Say>"


def document(*fragments: str) -> str:
    return XML_HEAD + "".join(fragments) + XML_TAIL


class Documents:
    """Every TwiML answer the IVR gives, keyed by node and language."""

    def __init__(self, menu: Menu, *, hold_music_url: str, voicemail_max_seconds: int) -> None:
        self._menu = menu
        self._hold_music = f"<Play>{escape(hold_music_url)}</Play>"
        self._voicemail_max = voicemail_max_seconds
        self._says = {
            (name, language): say(texts[language], menu.languages[language])
            for name, texts in menu.phrases.items()
            for language in menu.languages
        }
        self._gathers = {
            (node_name, language): self._render_gather(node, language)
            for node_name, node in menu.nodes.items()
            for language in menu.languages
        }
        self.fallback_queue = {
            language: document(
                self.phrase("sorry_fallback", language), self._enqueue("general", language)
            )
            for language in menu.languages
        }
        self.fallback_wait = document(self._hold_music)

    def phrase(self, name: str, language: str) -> str:
        """A `<Say>` of a named phrase."""
        return self._says[(name, language)]

    def phrase_with(self, name: str, language: str, **values: str | int) -> str:
        text = self._menu.phrase(name, language).format(**values)
        return say(text, self._menu.languages[language])

    def _render_gather(self, node: Node, language: str) -> str:
        spec = self._menu.languages[language]
        if node.prompt is not None:
            prompt = say(node.prompt[language], spec)
        else:
            assert node.prompt_phrase is not None
            prompt = say(self._menu.phrase(node.prompt_phrase, language), spec)
        offer = self._menu.language_offer.get(language)
        if node.offer_language and offer is not None:
            prompt += say(offer.text, self._menu.languages[offer.language])
        hints = ",".join(
            word for choice in node.choices for word in choice.speech.get(language, [])
        )
        url = f"{GATHER_URL}?step={STEP}"
        gather = _attrs(
            input="dtmf speech",
            action=url,
            method="POST",
            timeout=node.timeout,
            numDigits=1 if node.collect is None else None,
            finishOnKey="#" if node.collect is not None else None,
            language=spec.speech_language,
            speechTimeout="auto",
            hints=hints or None,
        )
        # Silence does not call the action: the Redirect after the Gather brings it back to us.
        return f'<Gather{gather}>{prompt}</Gather><Redirect method="POST">{escape(url)}</Redirect>'

    def menu(self, node: str, language: str, step: int, *prefix: str) -> str:
        """A node's prompt, after any `prefix` fragments (greeting, apology, case status)."""
        gather = self._gathers[(node, language)].replace(STEP, str(step))
        return document(*prefix, gather)

    def _enqueue(self, queue: str, language: str) -> str:
        attrs = _attrs(
            # The queue rides along so the wait loop can hand a caller the router has never
            # seen (Redis was down when they arrived) back to it.
            waitUrl=f"{WAIT_URL}?lang={language}&queue={queue}",
            waitUrlMethod="POST",
            action=f"{QUEUE_RESULT_URL}?lang={language}",
            method="POST",
        )
        return f"<Enqueue{attrs}>{escape(queue)}</Enqueue>"

    def enqueue(self, queue: str, language: str, *prefix: str) -> str:
        return document(
            *prefix, self.phrase("transferring", language), self._enqueue(queue, language)
        )

    def connect(self, language: str, dial: str, *prefix: str) -> str:
        return document(*prefix, self.phrase("transferring", language), dial)

    def leave(self) -> str:
        return document("<Leave/>")

    def goodbye(self, language: str) -> str:
        return document(self.phrase("goodbye", language), "<Hangup/>")

    def voicemail(self, language: str, *prefix: str) -> str:
        attrs = _attrs(
            action=f"{VOICEMAIL_URL}?lang={language}",
            method="POST",
            maxLength=self._voicemail_max,
            timeout=5,
            finishOnKey="#",
            playBeep="true",
            recordingStatusCallback=RECORDING_STATUS_URL,
            recordingStatusCallbackMethod="POST",
            recordingStatusCallbackEvent="in-progress completed absent",
        )
        return document(
            *prefix,
            self.phrase("voicemail_prompt", language),
            f"<Record{attrs}/>",
            # Reached only when nothing was recorded: no action request comes then.
            self.phrase("goodbye", language),
            "<Hangup/>",
        )

    def voicemail_thanks(self, language: str) -> str:
        return document(self.phrase("voicemail_thanks", language), "<Hangup/>")

    def wait(
        self, language: str, position: int | None, *, call_back: tuple[str, str] | None = None
    ) -> str:
        """One turn of hold music; with `call_back` (key, action URL), the offer to be called
        back instead, the key taken while the music plays."""
        fragments = [self.phrase("hold", language)]
        if position is not None and position > 0:
            fragments.append(self.phrase_with("queue_position", language, position=position))
        if call_back is None:
            return document(*fragments, self._hold_music)
        key, url = call_back
        fragments.append(self.phrase_with("hold_offer", language, key=key))
        gather = _attrs(input="dtmf", numDigits=1, timeout=2, action=url, method="POST")
        # No key: the document ends and Twilio asks the wait URL again, as after the music.
        return document(f"<Gather{gather}>", *fragments, self._hold_music, "</Gather>")

    def hangup(self) -> str:
        return document("<Hangup/>")
