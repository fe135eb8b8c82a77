"""Where texts sit in meaning: sentence vectors projected to 2-D (PCA) and grouped (k-means in the full space).

A reviewer reads the map to see which intents a model's replies run together, whether one group of askers gets
replies unlike the others', and which kinds of recent prompts training never saw. The numbers beside it:

purity      share of texts whose cluster's most common label is their own (1: the clusters are the labels)
separation  per label, the mean silhouette (cosine) of its texts against the other labels': near 1 when one label's
            texts sit apart from the rest (a group that gets a reply nobody else gets), at or below 0 when mixed
"""

from __future__ import annotations

from collections import Counter

import numpy as np


def project(basis: np.ndarray, *sets: np.ndarray, seed: int = 0) -> tuple[list[np.ndarray], float]:
    """Each set on the first two principal components of `basis` (one fit, so they share the axes), and the share
    of the variance those axes hold; all at the origin when `basis` has too few points for axes."""
    from sklearn.decomposition import PCA

    if len(basis) < 3:
        return [np.zeros((len(v), 2)) for v in sets], 0.0
    pca = PCA(2, random_state=seed).fit(basis)
    return [pca.transform(v) if len(v) else np.zeros((0, 2)) for v in sets], float(pca.explained_variance_ratio_.sum())


def cluster(vectors: np.ndarray, clusters: int, seed: int = 0) -> np.ndarray:
    """k-means label per vector, in the full space (fewer clusters than vectors; one cluster for under three)."""
    from sklearn.cluster import KMeans

    if len(vectors) < 3:
        return np.zeros(len(vectors), dtype=int)
    return KMeans(max(1, min(clusters, len(vectors) - 1)), n_init=4, random_state=seed).fit_predict(vectors)


def purity(clusters: np.ndarray, labels: list[str]) -> float:
    if not labels:
        return 0.0
    members: dict[int, Counter] = {}
    for cluster, label in zip(clusters.tolist(), labels, strict=True):
        members.setdefault(cluster, Counter())[label] += 1
    return sum(c.most_common(1)[0][1] for c in members.values()) / len(labels)


def cluster_table(clusters: np.ndarray, labels: list[str], top: int = 3) -> list[dict]:
    """Per cluster, largest first: its size, purity and most common labels with their shares."""
    rows = []
    for cluster in sorted(set(clusters.tolist())):
        counts = Counter(label for c, label in zip(clusters.tolist(), labels, strict=True) if c == cluster)
        size = sum(counts.values())
        common = counts.most_common(top)
        rows.append({"cluster": int(cluster), "size": size, "purity": round(common[0][1] / size, 3),
                     "labels": [(label, round(n / size, 3)) for label, n in common]})  # fmt: skip
    return sorted(rows, key=lambda r: -r["size"])


def separation(vectors: np.ndarray, labels: list[str]) -> dict[str, float]:
    """Each label's mean silhouette; empty when fewer than two labels (or no room for a silhouette)."""
    from sklearn.metrics import silhouette_samples

    names = sorted(set(labels))
    if len(names) < 2 or len(labels) <= len(names):
        return {}
    scores = silhouette_samples(vectors, labels, metric="cosine")
    array = np.array(labels)
    return {name: float(scores[array == name].mean()) for name in names}
