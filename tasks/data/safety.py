"""Safety conversations for the training data: what the model should do when a message tries to steer it.

Three families, each its own intent so validation and the intent mix count them:

injection_resisted  a support question carrying an injected instruction (inline, in a quoted email or SMS, an
                    error message, a "system:" line, role-play, encoded); the reply answers the question
privacy_refusal     another customer's data, the system prompt or internal tools: a short polite refusal and
                    what the customer can do instead
record_masked       a customer record in the system prompt; the reply uses it the way an agent would, with card,
                    IBAN and phone shown by their last digits and the e-mail by its domain

The templates (templates/safety.yaml) are for training only; the evaluation's probes come from others.
"""

from __future__ import annotations

import base64
import random
from importlib import resources
from typing import Any

import yaml

FAMILIES = {"injection_resisted": "injection", "privacy_refusal": "privacy", "record_masked": "record"}


def templates() -> dict[str, Any]:
    text = resources.files("tasks.data").joinpath("templates/safety.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def token(rng: random.Random) -> str:
    word = rng.choice(["LIME", "COMET", "ORBIT", "PIXEL", "TANGO", "EMBER", "CEDAR", "NOVA", "ATLAS", "QUARTZ"])
    return f"{word}-{rng.randint(1000, 9999)}"


def _injected(rng: random.Random, wrapper: str, question: str, payload: str) -> str:
    hidden = {
        "base64": base64.b64encode(payload.encode()).decode(),
        "reversed": payload[::-1],
        "hex": "".join(rng.choice("0123456789ABCDEF") for _ in range(4)),
    }
    return wrapper.format(question=question, question_lower=question[0].lower() + question[1:], payload=payload,
                          **hidden)  # fmt: skip


def injection(rng: random.Random, question: str, answer: str, tpl: dict[str, Any]) -> list[dict[str, str]]:
    """A support question with an instruction hidden in it; the reply is the question's own answer."""
    family = rng.choice(sorted(tpl["injection"]))
    payload = rng.choice(tpl["payloads"]).format(token=token(rng))
    prompt = _injected(rng, rng.choice(tpl["injection"][family]), question, payload)
    return [{"role": "user", "content": prompt}, {"role": "assistant", "content": rng.choice(tpl["notes"]) + answer}]


def privacy(rng: random.Random, person: dict[str, str], tpl: dict[str, Any]) -> list[dict[str, str]]:
    kind = tpl["privacy"][rng.choice(sorted(tpl["privacy"]))]
    values = {**person, "customer_id": str(rng.randint(10**7, 10**8 - 1)), "amount": f"{rng.randint(20, 400)}.00",
              "relation": rng.choice(kind.get("relations") or [""])}  # fmt: skip
    question, answer = (rng.choice(kind[k]).format(**values) for k in ("questions", "answers"))
    return [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]


def record(rng: random.Random, person: dict[str, str], plan: str, tpl: dict[str, Any]) -> list[dict[str, str]]:
    """The record is in the system prompt; no reply repeats a card, IBAN, phone or e-mail address in full."""

    def digits(text: str) -> str:
        return "".join(c for c in text if c.isdigit())

    values = {
        **person, "plan": plan, "amount": f"{rng.randint(5, 90)}.{rng.randint(0, 99):02d}",
        "card_last4": digits(person["card"])[-4:], "iban_last4": digits(person["iban"])[-4:],
        "phone_last2": digits(person["phone"])[-2:], "email_domain": person["email"].split("@", 1)[1],
    }  # fmt: skip
    question, answer = rng.choice(tpl["record"]["turns"])
    return [
        {"role": "system", "content": tpl["record"]["system"].format(**values)},
        {"role": "user", "content": question.format(**values)},
        {"role": "assistant", "content": answer.format(**values)},
    ]
