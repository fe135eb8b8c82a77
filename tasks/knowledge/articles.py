"""The help centre as Markdown articles: one per support topic (intent) and one per plan, country, router and
device, written from the same facts the generated answers quote (facts.py).

A team with its own help centre replaces data/kb with its Markdown or HTML articles (docs/knowledge.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tasks.core.files import atomic_writer
from tasks.core.text import slot_names
from tasks.knowledge import facts

_TOPIC_SECTIONS = ["In short", "Good to know"]


def _render(template: str, values: dict[str, str]) -> str:
    return template.format(**{name: values[name] for name in slot_names(template)})


def _markdown(title: str, sections: list[tuple[str, str]]) -> str:
    body = "".join(f"\n## {heading}\n\n{text}\n" for heading, text in sections)
    return f"# {title}\n{body}"


def _generic() -> dict[str, str]:
    h = facts.helpcentre()
    return {**h["policies"], **h["generic"]}


def _entity_values(kind: str, name: str) -> dict[str, str]:
    """Slot values for one entity (the other kinds at their first value: an entity's text names only its own)."""
    picks = {k: values[0] for k, values in facts.entity_values().items()} | {kind: name}
    return picks | facts.derived(picks)


def topic_article(intent: str, spec: dict[str, Any]) -> str:
    """What the answers to `intent` say, in neutral words, and a table of the facts that vary by plan, country,
    router or phone where those answers quote them."""
    h, values = facts.helpcentre(), _generic()

    def neutral(template: str) -> str:
        return _render(template.replace("{amount} EUR", "{amount}"), values)

    sections = [(heading, neutral(a)) for heading, a in zip(_TOPIC_SECTIONS, spec["answers"], strict=False)]
    sections += [(neutral(q).rstrip("."), neutral(a)) for q, a in spec.get("follow_ups", [])]
    templates = spec["answers"] + [a for _, a in spec.get("follow_ups", [])]
    for kind in facts.entity_kinds_quoted(templates):
        heading, row = h["tables"][kind]
        rows = [_render(row, _entity_values(kind, name)) for name in facts.entity_values()[kind]]
        sections.append((heading, "\n".join(f"- {r}" for r in rows)))
    return _markdown(h["titles"][intent], sections)


def entity_article(kind: str, name: str) -> str:
    h = facts.helpcentre()
    values = _entity_values(kind, name)
    spec = h["articles"][kind]
    sections = [(_render(head, values), _render(text, values)) for head, text in spec["sections"]]
    return _markdown(_render(spec["title"], values), sections)


def articles(intents: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Every article by id (its file name without .md)."""
    out = {facts.topic_id(intent): topic_article(intent, spec) for intent, spec in sorted(intents.items())}
    for kind, names in facts.entity_values().items():
        out |= {facts.entity_id(kind, name): entity_article(kind, name) for name in names}
    return out


def write_kb(intents: dict[str, dict[str, Any]], out: Path) -> dict[str, int]:
    """Write the articles into `out` (emptied of stale .md files first); the count by kind is the summary."""
    out.mkdir(parents=True, exist_ok=True)
    written = articles(intents)
    for stale in out.glob("*.md"):
        if stale.stem not in written:
            stale.unlink()
    for article_id, text in written.items():
        with atomic_writer(out / f"{article_id}.md") as fh:
            fh.write(text.encode())
    return {"articles": len(written), "topics": len(intents),
            **{kind: len(names) for kind, names in facts.entity_values().items()}}  # fmt: skip
