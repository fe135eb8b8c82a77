"""Seeded generator of a realistic, dirty telecom customer-support instruction dataset.

The dirt is deliberate and counted: exact and near duplicates, PII of every type prepare
scrubs, empty and over-long rows, other languages and a few malformed lines, so that the
data stages have real work and their accounting can be checked against what was injected.
A share of safety conversations (tasks/data/safety.py) teaches what to do with injected
instructions, requests for other people's data and a customer record in the system prompt.
"""

from __future__ import annotations

import random
import string
from collections import Counter
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import orjson
import yaml

from tasks.config.schema import GenerateParams
from tasks.core.files import atomic_writer
from tasks.core.text import slot_names
from tasks.data import safety
from tasks.knowledge import facts

_OPENERS = ["", "", "Hi, ", "Hello, ", "Good morning. ", "Hey there, ", "Hi team, ", "Quick question: "]
_CONTEXT = [
    "",
    "",
    "",
    "I've been a customer for {days} years. ",
    "I'm on the {plan} plan. ",
    "I already restarted everything. ",
    "This is the second time I'm asking. ",
    "I'm writing from my {device}. ",
    "My partner has the same problem. ",
    "I checked the app but couldn't find it. ",
]
_CLOSERS = ["", "", "", " Thanks!", " Thanks in advance.", " Please help.", " Cheers", " Any idea?"]
_ANSWER_OPENERS = [
    "",
    "",
    "Thanks for reaching out. ",
    "Happy to help! ",
    "Thanks for your message. ",
    "Good question. ",
    "I can help with that. ",
]
_FIRST = ["Anna", "Lukas", "Maria", "James", "Sofia", "Mehmet", "Chloe", "Pedro", "Yuki", "Fatima", "Oliver"]
_LAST = ["Schmidt", "Garcia", "Rossi", "Smith", "Dubois", "Yilmaz", "Novak", "Silva", "Tanaka", "Jensen"]
_STREETS = ["Baker Street", "Maple Avenue", "Station Road", "Church Lane", "Park Drive", "Mill Way"]
_DE_STREETS = ["Hauptstraße", "Bahnhofstraße", "Lindenweg", "Schillerplatz"]


def _templates() -> dict[str, Any]:
    text = resources.files("tasks.data").joinpath("templates/telecom.yaml").read_text(encoding="utf-8")
    tpl = yaml.safe_load(text)
    tpl["slots"] = {**tpl["slots"], **facts.entity_values()}
    return tpl


def intent_answers() -> dict[str, list[str]]:
    """Each intent's answer templates (slots unfilled): what a right answer to it says."""
    return {intent: spec["answers"] for intent, spec in _templates()["intents"].items()}


def intent_templates() -> dict[str, dict[str, Any]]:
    """Each intent's questions, answers and follow-ups (slots unfilled)."""
    return _templates()["intents"]


def reply_templates() -> dict[str, list[str]]:
    """Each intent's replies, follow-ups' included: every fact a conversation about it may quote."""
    return {intent: spec["answers"] + [a for _, a in spec.get("follow_ups", [])]
            for intent, spec in _templates()["intents"].items()}  # fmt: skip


def _fill(rng: random.Random, text: str, slots: dict[str, list[str]]) -> str:
    names = slot_names(text)
    return text.format(**{n: rng.choice(slots[n]) for n in names})


def _pick(rng: random.Random, slots: dict[str, list[str]]) -> dict[str, list[str]]:
    """One value per slot, so every turn of a conversation speaks of the same router, plan, country, and the
    help centre's facts about them, so every answer says what the knowledge base says."""
    picked = {name: rng.choice(values) for name, values in sorted(slots.items())}
    return {name: [value] for name, value in {**picked, **facts.derived(picked)}.items()}


def _luhn_complete(prefix: str) -> str:
    digits = [int(d) for d in prefix]
    total = sum(d if i % 2 else (2 * d - 9 if 2 * d > 9 else 2 * d) for i, d in enumerate(reversed(digits)))
    return prefix + str((10 - total % 10) % 10)


def fake_card(rng: random.Random) -> str:
    number = _luhn_complete("4" + "".join(rng.choice(string.digits) for _ in range(14)))
    return " ".join(number[i : i + 4] for i in range(0, 16, 4)) if rng.random() < 0.6 else number


def fake_iban(rng: random.Random) -> str:
    bban = "".join(rng.choice(string.digits) for _ in range(18))
    numeric = int(bban + "131400")  # "DE00" moved to the end, letters as numbers (D=13, E=14)
    iban = f"DE{98 - numeric % 97:02d}{bban}"
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4)) if rng.random() < 0.5 else iban


def fake_phone(rng: random.Random) -> str:
    n = "".join(rng.choice(string.digits) for _ in range(8))
    return rng.choice([f"+49 151 {n[:4]} {n[4:]}", f"0151-{n}", f"+34 6{n[:2]} {n[2:5]} {n[5:]}", f"(0)30 {n}"])


def _person(rng: random.Random) -> dict[str, str]:
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    email = f"{first.lower()}.{last.lower()}@{rng.choice(['example.com', 'example.org', 'example.net'])}"
    return {"first": first, "last": last, "email": email, "phone": fake_phone(rng), "card": fake_card(rng),
            "iban": fake_iban(rng)}  # fmt: skip


def _safety(rng: random.Random, tpl: dict[str, Any], safety_tpl: dict[str, Any]) -> tuple[str, list[dict[str, str]]]:
    intent = rng.choice(sorted(safety.FAMILIES))
    if intent == "privacy_refusal":
        return intent, safety.privacy(rng, _person(rng), safety_tpl)
    slots = _pick(rng, tpl["slots"])
    if intent == "record_masked":
        return intent, safety.record(rng, _person(rng), slots["plan"][0], safety_tpl)
    spec = tpl["intents"][rng.choice(sorted(tpl["intents"]))]
    question, answer = (_fill(rng, rng.choice(spec[k]), slots) for k in ("questions", "answers"))
    return intent, safety.injection(rng, question, answer, safety_tpl)


def _pii_sentence(rng: random.Random) -> str:
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    options = [
        f"My name is {first} {last}.",
        f"You can email me at {first.lower()}.{last.lower()}@{rng.choice(['gmail.com', 'web.de', 'outlook.com'])}.",
        f"Call me back on {fake_phone(rng)}.",
        f"My card number is {fake_card(rng)}.",
        f"Please refund to my IBAN {fake_iban(rng)}.",
        f"I live at {rng.randint(1, 250)} {rng.choice(_STREETS)}.",
        f"My address is {rng.choice(_DE_STREETS)} {rng.randint(1, 99)}, Berlin.",
        f"My public IP is 85.{rng.randint(1, 254)}.{rng.randint(1, 254)}.{rng.randint(1, 254)}.",
    ]
    return " ".join(rng.sample(options, k=rng.choice([1, 1, 2])))


def _harmless_numbers(rng: random.Random) -> str:
    """Numbers that look like PII but are not (order ids, dates): scrubbing must leave them."""
    return rng.choice(
        [
            f" My order number is {rng.randint(10**9, 10**10 - 1)}.",
            f" Ticket #{rng.randint(100000, 999999)} was opened on "
            f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}.",
            f" It started on {rng.randint(1, 28)}/{rng.randint(1, 12)}/2024.",
            "",
        ]
    )


def _conversation(
    rng: random.Random,
    intent: str,
    spec: dict[str, Any],
    tpl: dict[str, Any],
    p: GenerateParams,
    asker: str | dict[str, str] = "",
) -> list[dict[str, str]]:
    slots = _pick(rng, tpl["slots"])
    ask, adapted = (asker, "") if isinstance(asker, str) else (asker["ask"], asker["reply"])
    question = _fill(rng, rng.choice(_OPENERS) + ask + rng.choice(_CONTEXT) + rng.choice(spec["questions"]), slots)
    question += _harmless_numbers(rng) if rng.random() < 0.2 else ""
    if rng.random() < p.pii_rate:
        question += " " + _pii_sentence(rng)
    question += rng.choice(_CLOSERS)
    answer = rng.choice(_ANSWER_OPENERS) + adapted + _fill(rng, rng.choice(spec["answers"]), slots)
    messages = [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
    if spec.get("follow_ups") and rng.random() < p.multi_turn_rate * 3:
        q, a = rng.choice(spec["follow_ups"])
        messages += [
            {"role": "user", "content": _fill(rng, q, slots)},
            {"role": "assistant", "content": _fill(rng, a, slots)},
        ]
    if rng.random() < 0.1:
        messages.insert(
            0, {"role": "system", "content": f"You are the customer support assistant of {tpl['company']}."}
        )
    return messages


def _near_duplicate(rng: random.Random, messages: list[dict[str, str]]) -> list[dict[str, str]]:
    edited = [dict(m) for m in messages]
    target = next(m for m in edited if m["role"] == "user")
    edit = rng.choice(["punct", "case", "please", "space"])
    if edit == "punct":
        target["content"] = target["content"].rstrip(".!?") + rng.choice(["?", "!!", "..."])
    elif edit == "case":
        target["content"] = target["content"].lower()
    elif edit == "please":
        target["content"] = "Please, " + target["content"][0].lower() + target["content"][1:]
    else:
        target["content"] = "  " + target["content"].replace(" ", "  ", 2) + "  "
    return edited


def _overlong(rng: random.Random) -> list[dict[str, str]]:
    log_lines = [
        f"[2024-05-{rng.randint(1, 28):02d} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}] "
        f"WAN link state changed: {rng.choice(['DOWN', 'UP', 'RETRAIN'])} snr={rng.randint(3, 40)}dB"
        for _ in range(rng.randint(400, 900))
    ]
    return [
        {"role": "user", "content": "My router keeps disconnecting, here is the full log:\n" + "\n".join(log_lines)},
        {"role": "assistant", "content": "Thanks for the log. The link retrains often; we will run a line test."},
    ]


def _intent_weights(rng: random.Random, intents: list[str]) -> list[float]:
    """The dataset's intent mix: the first draws of its seed, so traffic can follow the same mix."""
    return [rng.uniform(0.6, 1.4) for _ in intents]


def records(p: GenerateParams) -> Iterator[dict[str, Any]]:
    """The dataset as dicts in chat `messages` format, with `intent` and `id`, dirt included."""
    rng = random.Random(p.seed)
    askers = random.Random(p.seed + 1)  # its own stream: the rest of the dataset stays what the seed made it
    tpl, safety_tpl = _templates(), safety.templates()
    intents = sorted(tpl["intents"])
    weights = _intent_weights(rng, intents)
    history: list[dict[str, Any]] = []
    dirt = p.duplicate_rate + p.near_duplicate_rate + p.foreign_rate + p.empty_rate + p.overlong_rate
    for i in range(p.n_records):
        rid = f"sup-{i:07d}"
        roll = rng.random()
        if history and roll < p.duplicate_rate:
            rec = dict(rng.choice(history), id=rid)
        elif history and roll < p.duplicate_rate + p.near_duplicate_rate:
            src = rng.choice(history)
            rec = dict(src, id=rid, messages=_near_duplicate(rng, src["messages"]))
        elif roll < p.duplicate_rate + p.near_duplicate_rate + p.foreign_rate:
            lang, q, a = rng.choice(tpl["foreign"])
            rec = {
                "id": rid,
                "intent": None,
                "lang": lang,
                "messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}],
            }
        elif roll < p.duplicate_rate + p.near_duplicate_rate + p.foreign_rate + p.empty_rate:
            rec = {
                "id": rid,
                "intent": rng.choice(intents),
                "messages": [
                    {"role": "user", "content": rng.choice(["", "   ", "\n"])},
                    {"role": "assistant", "content": rng.choice(["", "I can help with that."])},
                ],
            }
        elif roll < p.duplicate_rate + p.near_duplicate_rate + p.foreign_rate + p.empty_rate + p.overlong_rate:
            rec = {"id": rid, "intent": "slow_internet", "messages": _overlong(rng)}
        elif roll < dirt + p.safety_rate:
            intent, messages = _safety(rng, tpl, safety_tpl)
            rec = {"id": rid, "intent": intent, "messages": messages}
        else:
            intent = rng.choices(intents, weights)[0]
            asker = askers.choice(tpl["askers"]) if askers.random() < p.asker_rate else ""
            messages = _conversation(rng, intent, tpl["intents"][intent], tpl, p, asker)
            rec = {"id": rid, "intent": intent, "messages": messages}
            if len(history) < 5000:
                history.append(rec)
            elif rng.random() < 0.1:
                history[rng.randrange(len(history))] = rec
        yield rec


def _malformed(rng: random.Random, line: bytes) -> bytes:
    kind = rng.choice(["truncated", "wrong_type", "not_object"])
    if kind == "truncated":
        return line[: len(line) // 2]
    if kind == "wrong_type":
        return orjson.dumps({"id": "broken", "messages": "user: hi / assistant: hello"})
    return b'["user", "assistant"]'


def write_dataset(p: GenerateParams, out: Path) -> dict[str, int]:
    """Write the dataset as JSONL; a few lines are deliberately malformed (counted in the summary)."""
    rng = random.Random(p.seed + 1)
    bad_at = set(rng.sample(range(p.n_records), k=min(p.malformed_lines, p.n_records)))
    intents: Counter[str] = Counter()
    with atomic_writer(out) as fh:
        for i, rec in enumerate(records(p)):
            line = orjson.dumps(rec)
            if i in bad_at:
                line = _malformed(rng, line)
            else:
                intents[rec.get("intent") or "none"] += 1
            fh.write(line + b"\n")
    kept_safety = {intent: intents[intent] for intent in sorted(safety.FAMILIES)}
    return {"records": p.n_records, "malformed_lines": len(bad_at), "intents": len(intents), "safety": kept_safety}


def traffic(n: int, seed: int, shift_share: float, data: GenerateParams | None = None) -> Iterator[dict[str, Any]]:
    """Production-like prompts: the intent mix and the share of askers who say who they are of the dataset `data`
    (the defaults when None) generates, and `shift_share` of them about newly launched products."""
    data = data or GenerateParams()
    rng, askers = random.Random(seed), random.Random(seed + 1)
    tpl = _templates()
    p = GenerateParams(seed=seed, n_records=max(n, 50))
    intents = sorted(tpl["intents"])
    weights = _intent_weights(random.Random(data.seed), intents)
    shifted = sorted(tpl["shifted_intents"])
    for i in range(n):
        if rng.random() < shift_share:
            intent = rng.choice(shifted)
            prompt = _fill(rng, rng.choice(_OPENERS) + rng.choice(tpl["shifted_intents"][intent]), tpl["slots"])
        else:
            intent = rng.choices(intents, weights)[0]
            asker = askers.choice(tpl["askers"]) if askers.random() < data.asker_rate else ""
            prompt = _conversation(rng, intent, tpl["intents"][intent], tpl, p, asker)[-2]["content"]
        yield {"id": f"req-{i:07d}", "intent": intent, "messages": [{"role": "user", "content": prompt}]}


def write_traffic(n: int, seed: int, shift_share: float, out: Path, data: GenerateParams) -> dict[str, int]:
    with atomic_writer(out) as fh:
        for rec in traffic(n, seed, shift_share, data):
            fh.write(orjson.dumps(rec) + b"\n")
    return {"records": n}
