"""The injection classifier's labelled corpus: attacks by family and benign text that looks like them, split so
that the test split measures generalisation, not memory.

Every template, goal and support question belongs to one split (train / validation / test), so a test row is a
phrasing the classifier never saw, asking for something it never saw asked. Families in `holdout_families` go
to the test split whole: their recall is what the guard does against a kind of attack nobody showed it.
"""

from __future__ import annotations

import base64
import codecs
import random
from collections import Counter
from collections.abc import Iterator
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import orjson
import yaml

from tasks.config.schema import GuardModelParams
from tasks.core.errors import ConfigError
from tasks.core.files import atomic_writer, read_jsonl
from tasks.data.synthesize import traffic
from tasks.guard import public

SPLITS = ("train", "validation", "test")
CONNECTORS = ("", "", "By the way, ", "One more question: ", "Oh and ", "Another thing: ", "Plus, ", "Separately, ",
              "While I have you, ", "Second question: ")  # fmt: skip
_LEET = str.maketrans({"o": "0", "i": "1", "e": "3", "a": "4", "s": "5", "t": "7"})


@lru_cache(maxsize=1)
def templates() -> dict[str, Any]:
    return yaml.safe_load(resources.files("tasks.guard").joinpath("templates/injection.yaml").read_text())


def families() -> dict[str, int]:
    """Family -> label (1: attack), every family the corpus has."""
    tpl = templates()
    attacks = [*tpl["attack"], "encoded", "multilingual", *public.FAMILIES]
    return {**dict.fromkeys(attacks, 1), **dict.fromkeys([*tpl["benign"], "support"], 0)}


def assign(items: list[Any], rng: random.Random, p: GuardModelParams) -> dict[str, list[Any]]:
    """Items dealt to the splits in proportion, at least one each where there are three or more."""
    shuffled = items[:]
    rng.shuffle(shuffled)
    n = len(shuffled)
    n_test = max(round(n * p.test_fraction), 1 if n >= 3 else 0)
    n_val = max(round(n * p.validation_fraction), 1 if n >= 3 else 0)
    n_train = n - n_test - n_val
    return {
        "train": shuffled[:n_train],
        "validation": shuffled[n_train : n_train + n_val],
        "test": shuffled[n_train + n_val :],
    }


def _encode(scheme: str, text: str) -> str:
    match scheme:
        case "base64":
            return base64.b64encode(text.encode()).decode()
        case "rot13":
            return codecs.encode(text, "rot13")
        case "leet":
            return text.translate(_LEET)
        case "hex":
            return text.encode().hex()
        case "reversed":
            return text[::-1]
        case "spaced":
            return " ".join(text.replace(" ", "/"))
        case "tags":
            return "".join(chr(0xE0000 + ord(c)) for c in text if ord(c) < 0x80)
        case "zero_width":
            return "\u200b".join(text)
    raise ValueError(scheme)


def _fill(template: str, slots: dict[str, str]) -> str:
    """str.format on the named slots only: braces of JSON or markdown in a template stay as written."""
    for name, value in slots.items():
        template = template.replace("{" + name + "}", value)
        template = template.replace("{" + name.capitalize() + "}", value[:1].upper() + value[1:])
    return template


class _Pools:
    """The goals, questions and canaries of one split."""

    def __init__(self, rng: random.Random, goals: list[str], questions: list[str], canaries: list[str]) -> None:
        self.rng, self.goals, self.questions, self.canaries = rng, goals, questions, canaries

    def slots(self, goals: list[str] | None = None) -> dict[str, str]:
        canary = self.rng.choice(self.canaries)
        goal = self.rng.choice(goals or self.goals).replace("{canary}", canary)
        question = self.rng.choice(self.questions).rstrip()
        return {"goal": goal, "canary": canary, "question": question[:1].lower() + question[1:]}

    def join(self, text: str) -> str:
        """`text` beside a support question, with a connector a customer might use: attacks and benign rows get
        the same ones, so a second request in a message says nothing by itself."""
        question, connector = self.rng.choice(self.questions), self.rng.choice(CONNECTORS)
        first, second = (question, text) if self.rng.random() < 0.5 else (text, question)
        return f"{first} {connector}{second[:1].lower() if connector else second[:1]}{second[1:]}"


def _deal(seed: int, stream: str) -> random.Random:
    """Which split each template of one family (or goal, canary, intent) goes to, from a random stream of its own:
    neither what the content draws nor a template added to another family moves it."""
    return random.Random(f"{seed}/{stream}")


def _questions(n: int, seed: int) -> list[dict[str, Any]]:
    return [
        {"intent": r["intent"], "text": r["messages"][-1]["content"]}
        for r in traffic(n, seed, shift_share=0.2)
        if r["intent"]
    ]


def rows(p: GuardModelParams) -> Iterator[dict[str, Any]]:
    """{text, label, family, template, split}; the same params give the same rows."""
    tpl = templates()
    unknown = sorted(set(p.holdout_families) - set(families()))
    if unknown:
        raise ConfigError(f"guard_model.holdout_families: unknown {unknown}; the families are {sorted(families())}")
    rng = random.Random(p.seed)  # the rows' content
    support = _questions(p.support_rows, p.seed)
    intents = assign(sorted({q["intent"] for q in support}), _deal(p.seed, "intents"), p)
    intent_split = {intent: split for split, names in intents.items() for intent in names}
    questions = {s: [q["text"] for q in support if intent_split[q["intent"]] == s] for s in SPLITS}
    goals = assign(tpl["goals"], _deal(p.seed, "goals"), p)
    canaries = assign(tpl["canaries"], _deal(p.seed, "canaries"), p)
    pools = {s: _Pools(rng, goals[s], questions[s], canaries[s]) for s in SPLITS}

    def dealt(family: str, items: list[Any], stream: str = "") -> Iterator[tuple[str, Any]]:
        if family in p.holdout_families:
            yield from (("test", item) for item in items)
            return
        for split, chosen in assign(items, _deal(p.seed, stream or family), p).items():
            yield from ((split, item) for item in chosen)

    def expand(family: str, template_id: str, split: str, template: str, goals: list[str] | None = None):
        for k in range(p.per_template):
            text = _fill(template, pools[split].slots(goals))
            text = pools[split].join(text) if k % 2 else text  # half of them inside a support message
            yield {"text": text, "label": 1, "family": family, "template": template_id, "split": split}

    for family, items in tpl["attack"].items():
        for split, (i, template) in dealt(family, list(enumerate(items))):
            yield from expand(family, f"{family}/{i}", split, template)
    encoded = [(scheme, i, t) for scheme, items in tpl["encoded"].items() for i, t in enumerate(items)]
    for split, (scheme, i, template) in dealt("encoded", encoded):
        for _ in range(p.per_template):
            slots = pools[split].slots()
            attack = _fill(rng.choice(tpl["attack_phrases"]), slots)
            text = _fill(template, {**slots, "encoded": _encode(scheme, attack)})
            yield {"text": text, "label": 1, "family": "encoded", "template": f"encoded/{scheme}/{i}", "split": split}
    for lang, spec in tpl["multilingual"].items():
        lang_goals = assign(spec["goals"], _deal(p.seed, f"goals/{lang}"), p)
        for split, (i, template) in dealt("multilingual", list(enumerate(spec["templates"])), f"multilingual/{lang}"):
            yield from expand("multilingual", f"multilingual/{lang}/{i}", split, template, lang_goals[split])
    for family in public.FAMILIES if p.public_max else ():
        groups = list(enumerate(public.templates(family, p.public_max, p.seed)))
        for split, (i, group) in dealt(family, groups):
            for text in group:  # as pasted, and (with two or more rows per template) inside a support message
                for variant in [text] if p.per_template == 1 else [text, pools[split].join(text)]:
                    yield {"text": variant, "label": 1, "family": family, "template": f"{family}/{i}", "split": split}
    for family, items in tpl["benign"].items():
        for split, (i, text) in dealt(family, list(enumerate(items))):
            # alone, and beside support questions as a customer would write it
            variants = [text] + [pools[split].join(text) for _ in range(p.per_template - 1)]
            for variant in variants:
                yield {"text": variant, "label": 0, "family": family, "template": f"{family}/{i}", "split": split}
    if "support" in p.holdout_families:
        intent_split = dict.fromkeys(intent_split, "test")
    for k, q in enumerate(support):
        split = intent_split[q["intent"]]
        text = pools[split].join(q["text"]) if k % 3 == 0 else q["text"]  # a third ask two things at once
        yield {"text": text, "label": 0, "family": "support", "template": f"support/{q['intent']}", "split": split}


def write_corpus(p: GuardModelParams, out: Path) -> dict[str, Any]:
    """The corpus as JSONL, exact duplicates dropped (the first kept); returns counts by split and label."""
    seen: set[str] = set()
    counts: Counter[str] = Counter()
    with atomic_writer(out) as fh:
        for row in rows(p):
            if row["text"] in seen:
                continue
            seen.add(row["text"])
            counts[f"{row['split']}_{'attack' if row['label'] else 'benign'}"] += 1
            fh.write(orjson.dumps(row) + b"\n")
    return dict(sorted(counts.items()))


def read_corpus(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        raise ConfigError(f"{path}: no injection corpus; run `dvc repro guard` (or `llmops guard`)")
    return list(read_jsonl(path))
