"""The help centre's facts (templates/helpcentre.yaml), shared by the articles and the generated answers.

A conversation picks a plan, country, router and device; `derived` turns those picks into the facts an answer
quotes ({plan_price}, {roaming_rate}, {router_admin}, ...), so every answer agrees with the article that states
the same fact, and `sources` names those articles for retrieval's hit@k.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import Any

import yaml

ENTITY_KINDS = {"country": "countries", "plan": "plans", "router": "routers", "device": "devices"}
_PREFIX = {"country": "roaming", "plan": "plan", "router": "router", "device": "device"}


@cache
def helpcentre() -> dict[str, Any]:
    text = resources.files("tasks.knowledge").joinpath("templates/helpcentre.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def entity_values() -> dict[str, list[str]]:
    """The generator's entity slots: every plan, country, router and device the help centre describes."""
    h = helpcentre()
    return {kind: list(h[key]) for kind, key in ENTITY_KINDS.items()}


def derived(picked: dict[str, str]) -> dict[str, str]:
    """The facts an answer about these entities quotes, by slot name."""
    h = helpcentre()
    plan, router, device = h["plans"][picked["plan"]], h["routers"][picked["router"]], h["devices"][picked["device"]]
    return {
        **h["policies"],
        "zone": h["countries"][picked["country"]],
        "roaming_rate": h["zones"][h["countries"][picked["country"]]]["rate"],
        "plan_price": plan["price"],
        "plan_data": plan["data"],
        "eu_data": plan["eu_data"],
        "router_admin": router["admin"],
        "router_port": router["port"],
        "apn_path": device["apn"],
        "esim_path": device["esim"],
    }


def topic_id(intent: str) -> str:
    return slug(intent)


def entity_id(kind: str, name: str) -> str:
    return f"{_PREFIX[kind]}-{slug(name)}"


# the derived facts that live in an entity's article rather than in the intent's topic article
_ENTITY_FACTS = {
    "country": {"roaming_rate", "zone"},
    "plan": {"plan_price", "plan_data", "eu_data"},
    "router": {"router_admin", "router_port"},
    "device": {"apn_path", "esim_path"},
}


def entity_kinds_quoted(templates: list[str]) -> list[str]:
    """The entity kinds whose facts these answer templates quote."""
    used = {name for t in templates for name in re.findall(r"\{(\w+)\}", t)}
    return [kind for kind, names in _ENTITY_FACTS.items() if used & names]


def sources(intent: str, text: str, answer_templates: list[str]) -> list[str]:
    """The articles that answer a conversation about `intent` whose text is `text`: the intent's topic article,
    and the article of each entity the text names whose facts the intent's answers quote."""
    found, lowered = [topic_id(intent)], text.lower()
    for kind in entity_kinds_quoted(answer_templates):
        names = entity_values()[kind]
        found += [entity_id(kind, n) for n in names if re.search(rf"\b{re.escape(n.lower())}\b", lowered)]
    return found


def record_sources(record: dict[str, Any], answer_templates: dict[str, list[str]]) -> list[str]:
    """`sources` of a labelled chat record (its intent's answer templates from `answer_templates`); none for a
    record whose intent has no templates (safety, unlabelled)."""
    intent = record.get("intent")
    if intent not in answer_templates:
        return []
    return sources(intent, " ".join(m["content"] for m in record["messages"]), answer_templates[intent])
