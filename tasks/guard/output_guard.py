"""Output guard: what a reply may not carry out of the server, whatever the model was talked into.

- Others' personal data: cards, IBANs, national ids, e-mails and phone numbers the user did not write themselves
  are masked the way the company writes them (a card by its last four digits, an e-mail by its domain).
- The system prompt: a reply that repeats `leak_words` consecutive words of a system message is refused.
- An injected instruction, followed: a reply that echoes a code (a capitalised or letters-and-digits token such as
  an attacker's canary) found only in a suspect sentence of the input is refused. Suspects come from the input
  guard (a rule match, or a sentence close to a known attack). An attack that asks for ordinary words, or hides
  its code in an encoding, is not caught here.

screen_reply("Your card 4111 1111 1111 1111 ...", messages, suspects=[], params) -> "Your card •••• 1111 ..."
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

from tasks.config.schema import GuardParams
from tasks.data import pii

MASKED = ("CARD", "IBAN", "NATIONAL_ID", "EMAIL", "PHONE")
REFUSAL = (
    "I'm sorry, but I can't help with that here. I can help with your plan, bills, devices and connection; "
    "your personal details are in My Vodaline."
)
_CODE = re.compile(r"(?<![\w-])[A-Za-z0-9]+(?:[-_][A-Za-z0-9]+)*(?![\w-])")
_WORD = re.compile(r"\w+")
_SENTENCE_END = re.compile(r"[.!?](?=\s)|\n")


@dataclass(frozen=True)
class ScreenedReply:
    """The reply as it may be served, and what the guard did (`action`: pass | mask | refuse)."""

    text: str
    action: Literal["pass", "mask", "refuse"]
    reason: str = ""
    masked: Counter[str] = field(default_factory=Counter)


def _key(label: str, value: str) -> str:
    return value.casefold() if label == "EMAIL" else re.sub(r"[^0-9A-Za-z]", "", value).upper()


def _masked(label: str, value: str) -> str:
    if label == "EMAIL":
        return "•••@" + value.rsplit("@", 1)[1]
    return "•••• " + re.sub(r"[^0-9A-Za-z]", "", value)[-3 if label == "PHONE" else -4 :]


def own_values(messages: list[dict[str, str]]) -> set[str]:
    """The personal data the user wrote themselves: theirs to see again."""
    found: set[str] = set()
    for message in messages:
        if message["role"] == "user":
            pii.replace(message["content"], lambda label, value: found.add(_key(label, value)) or value, Counter(),
                        MASKED)  # fmt: skip
    return found


def is_code(token: str) -> bool:
    """A token that reads as a code rather than a word: `MAGPIE`, `PWNED-4410`, `x7k2q`."""
    letters = sum(c.isalpha() for c in token)
    digits = sum(c.isdigit() for c in token)
    if len(token) < 4 or not letters:
        return False
    return bool(digits) or (letters >= 4 and token.replace("-", "").replace("_", "").isupper())


def _codes(text: str) -> set[str]:
    return {m.group().casefold() for m in _CODE.finditer(text) if is_code(m.group())}


def echoed_codes(reply: str, messages: list[dict[str, str]], suspects: list[str]) -> set[str]:
    """Codes the reply repeats that only a suspect sentence of the input carries."""
    if not suspects:
        return set()
    planted = set().union(*(_codes(s) for s in suspects))
    elsewhere = set().union(*(_codes(m["content"]) for m in messages if m["role"] == "system"))
    rest = "\n".join(m["content"] for m in messages if m["role"] == "user")
    for suspect in suspects:
        rest = rest.replace(suspect, " ")
    elsewhere |= _codes(rest)
    return (planted - elsewhere) & _codes(reply)


def _grams(words: list[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def _prompt_grams(messages: list[dict[str, str]], n: int) -> set[tuple[str, ...]]:
    system = [_WORD.findall(m["content"].casefold()) for m in messages if m["role"] == "system"]
    return set().union(*(_grams(words, n) for words in system))


def leaks_system_prompt(reply: str, messages: list[dict[str, str]], words: int) -> bool:
    """`words` consecutive words of a system message, in order, in the reply."""
    return bool(_grams(_WORD.findall(reply.casefold()), words) & _prompt_grams(messages, words))


def ends_inside_system_prompt(text: str, messages: list[dict[str, str]], words: int) -> bool:
    """The text's last words (up to `words` - 1, at least 3) run on from a system message: a leak may be starting."""
    said = _WORD.findall(text.casefold())
    n = min(words - 1, len(said))
    return n >= 3 and tuple(said[-n:]) in _prompt_grams(messages, n)


def screen_reply(reply: str, messages: list[dict[str, str]], suspects: list[str], params: GuardParams) -> ScreenedReply:
    """The reply as it may leave the server; `messages` as the client sent them, `suspects` from the input guard."""
    if params.output == "off":
        return ScreenedReply(reply, "pass")
    if leaks_system_prompt(reply, messages, params.leak_words):
        return ScreenedReply(REFUSAL, "refuse", "system prompt")
    if echo := echoed_codes(reply, messages, suspects):
        return ScreenedReply(REFUSAL, "refuse", f"echoed {', '.join(sorted(echo))} from a suspected injection")
    own, masked = own_values(messages), Counter[str]()
    text = pii.replace(reply, lambda label, value: value if _key(label, value) in own else _masked(label, value),
                       masked, MASKED)  # fmt: skip
    return ScreenedReply(text, "mask" if masked else "pass", ", ".join(sorted(masked)), masked)


class StreamScreen:
    """The output guard on a stream: text goes out a sentence at a time, each screened with all that came before,
    so a masked number or a refusal is decided before its sentence leaves; a sentence that ends in words of the
    system prompt waits for the next. A refusal ends the stream."""

    def __init__(self, messages: list[dict[str, str]], suspects: list[str], params: GuardParams) -> None:
        self.messages, self.suspects, self.params = messages, suspects, params
        self.raw, self.sent = "", ""
        self.result = ScreenedReply("", "pass")

    def feed(self, delta: str) -> str:
        """What of the text so far may go out now (complete sentences only)."""
        self.raw += delta
        ends = [m.end() for m in _SENTENCE_END.finditer(self.raw)]
        if not ends:
            return ""
        text, n = self.raw[: ends[-1]], self.params.leak_words
        if ends_inside_system_prompt(text, self.messages, n) and not leaks_system_prompt(text, self.messages, n):
            return ""
        return self._release(text)

    def finish(self) -> str:
        return self._release(self.raw)

    def _release(self, text: str) -> str:
        if self.result.action == "refuse":
            return ""
        result = screen_reply(text, self.messages, self.suspects, self.params)
        if result.action == "refuse":
            self.result = result
            out = ("\n\n" if self.sent else "") + result.text
            self.sent += out
            return out
        if not result.text.startswith(self.sent):  # a mask reached back into text already sent: wait for more
            return ""
        self.result = result
        out, self.sent = result.text[len(self.sent) :], result.text
        return out
