"""Articles (Markdown or HTML) into chunks by heading: each chunk is one section of one article, cut at block
boundaries when it is longer than the encoder reads well, and embedded with its article title and heading."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import lxml.html
from markdown_it import MarkdownIt

from tasks.core.errors import DataFormatError
from tasks.knowledge.facts import slug

SUFFIXES = {".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html"}
_HEADINGS = {"h1", "h2", "h3", "h4"}
_BLOCKS = {"p", "li", "pre", "td", "th", "dd", "dt", "blockquote"}


@dataclass(frozen=True, slots=True)
class Chunk:
    id: str  # article#heading, unique in the index
    article: str  # the article's path under the knowledge base, without its suffix
    title: str
    heading: str
    text: str

    def embedded(self) -> str:
        """What the encoder reads: the section with the article and heading it sits under."""
        return f"{self.title}. {self.heading}. {self.text}" if self.heading else f"{self.title}. {self.text}"


def clean(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip()


def _markdown_blocks(source: str) -> Iterator[tuple[str, str]]:
    """(kind, text) in order: kind is h1..h4 or "block"."""
    tokens = MarkdownIt("commonmark").enable("table").parse(source)
    heading = None
    for tok in tokens:
        if tok.type == "heading_open":
            heading = tok.tag
        elif tok.type == "inline":
            words = [c.content for c in tok.children or [] if c.type in ("text", "code_inline")]
            yield heading or "block", clean(" ".join(words))
            heading = None
        elif tok.type in ("fence", "code_block"):
            yield "block", clean(tok.content)


def _html_blocks(source: str) -> Iterator[tuple[str, str]]:
    root = lxml.html.document_fromstring(source)
    for bad in root.xpath("//script | //style | //nav | //header | //footer"):
        bad.drop_tree()
    for el in root.iter(*_HEADINGS, *_BLOCKS):
        if el.tag in _BLOCKS and any(child.tag in _BLOCKS for child in el.iterdescendants()):
            continue  # a list item made of paragraphs: the paragraphs are its blocks
        yield (el.tag if el.tag in _HEADINGS else "block"), clean(el.text_content())


def _sentences(block: str, max_words: int) -> list[str]:
    return re.split(r"(?<=[.!?])\s+", block) if len(block.split()) > max_words else [block]


def _windows(blocks: list[str], max_words: int) -> Iterator[str]:
    """Blocks joined up to max_words; a longer block is cut between sentences (a longer sentence stands alone)."""
    current: list[str] = []
    for block in (s for b in blocks for s in _sentences(b, max_words)):
        if current and len(" ".join([*current, block]).split()) > max_words:
            yield " ".join(current)
            current = []
        current.append(block)
    if current:
        yield " ".join(current)


def article_chunks(path: Path, root: Path, max_words: int) -> list[Chunk]:
    """An article's sections as chunks; its title is its first h1 (else its file name)."""
    try:
        source = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise DataFormatError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start}); save it as UTF-8") from None
    article = path.relative_to(root).with_suffix("").as_posix()
    blocks = list((_markdown_blocks if SUFFIXES[path.suffix.lower()] == "markdown" else _html_blocks)(source))
    title = next((text for kind, text in blocks if kind == "h1" and text), path.stem.replace("-", " "))
    sections: list[tuple[str, list[str]]] = [("", [])]
    for kind, text in blocks:
        if kind == "h1" and text == title:
            continue
        if kind in _HEADINGS:
            sections.append((text, []))
        elif text:
            sections[-1][1].append(text)
    chunks, seen = [], set()
    for heading, body in sections:
        for i, window in enumerate(_windows(body, max_words)):
            cid = f"{article}#{slug(heading) or 'top'}" + (f"-{i + 1}" if i else "")
            while cid in seen:
                cid += "+"
            seen.add(cid)
            chunks.append(Chunk(cid, article, title, heading, window))
    return chunks


def kb_files(kb: Path) -> list[Path]:
    if not kb.is_dir():
        raise DataFormatError(f"{kb}: no such folder; write the help centre with `llmops kb --out {kb}` or put "
                              "your Markdown or HTML articles there (docs/knowledge.md)")  # fmt: skip
    files = sorted(p for p in kb.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
    if not files:
        raise DataFormatError(f"{kb}: no .md or .html articles; add some (docs/knowledge.md)")
    return files
