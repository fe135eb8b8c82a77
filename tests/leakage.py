"""What tests of train/measure separation share: MinHash at the split's threshold, and the default probe sets."""

from __future__ import annotations

import shutil
from pathlib import Path

from tasks.config.schema import PrepareParams, ProbesParams, SplitParams
from tasks.data.dedup import NearDuplicateIndex, signatures
from tasks.data.probe_synth import write_probes
from tasks.evaluation.probes import ProbeSets, load_probes
from tests.serving import REPO


def near_duplicates(reference: list[str], queries: list[str]) -> dict[int, int]:
    """Query index -> the index of a reference text it near-duplicates (MinHash at the split's leakage threshold)."""
    threshold, shingle = SplitParams().near_dup_threshold, PrepareParams()
    index = NearDuplicateIndex(threshold, shingle.num_perm)
    for i, sig in enumerate(signatures(reference, shingle.num_perm, shingle.shingle_words)):
        index.add(str(i), sig)
    found = (index.find(sig) for sig in signatures(queries, shingle.num_perm, shingle.shingle_words))
    return {i: int(row) for i, row in enumerate(found) if row is not None}


def default_probes(folder: Path) -> ProbeSets:
    """The hand-written probes and the generated sets at their default sizes, written into `folder`."""
    shutil.copytree(REPO / "data" / "probes", folder, ignore=shutil.ignore_patterns("generated"))
    write_probes(ProbesParams(), folder / "generated")
    return load_probes(folder)
