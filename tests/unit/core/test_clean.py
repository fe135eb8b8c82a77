from tasks.core.text import dedup_key, normalize_text
from tasks.data.dedup import NearDuplicateIndex, near_duplicate_groups, signatures


def test_normalize_text() -> None:
    raw = "\ufeffＨｅｌｌｏ\u200b  world\r\n\r\n\r\n\r\nnext\tline  \x07"
    assert normalize_text(raw) == "Hello world\n\nnext line"


def test_dedup_key_ignores_case_punctuation_spacing() -> None:
    assert dedup_key("How do I cancel?") == dedup_key("how  do i cancel!!")
    assert dedup_key("How do I cancel?") != dedup_key("How do I pay?")


BASE = (
    "Connect the router to the fibre box with the grey cable into the WAN port, then power it on and "
    "wait until the internet light is steady. Join the Wi-Fi printed on the sticker underneath."
)
NEAR_PAIRS = [
    (BASE, BASE.replace(", then", "; then").replace("  ", " ")),
    (BASE, "Please, " + BASE.lower()),
    (BASE, BASE + " Thanks!"),
]
FAR_PAIRS = [
    (BASE, "You can cancel with one month's notice once your minimum term has ended; go to My Vodaline."),
    ("How do I cancel my contract?", "How do I pay my bill?"),
]


def _near(a: str, b: str, threshold: float = 0.85) -> bool:
    index = NearDuplicateIndex(threshold, 64)
    sa, sb = signatures([a, b], 64, 3)
    index.add("a", sa)
    return index.find(sb) == "a"


def test_near_duplicate_pairs_are_found() -> None:
    for a, b in NEAR_PAIRS:
        assert _near(a, b), b


def test_one_word_changed_is_near_at_a_lower_threshold() -> None:
    edited = BASE.replace("grey", "gray")  # 3 of 36 word 3-shingles change: Jaccard ~0.85
    assert _near(BASE, edited, threshold=0.75)


def test_distinct_texts_are_not_near_duplicates() -> None:
    for a, b in FAR_PAIRS:
        assert not _near(a, b), b


def test_groups_are_transitive() -> None:
    texts = [BASE, BASE + " Thanks!", BASE + " Thanks! Bye.", FAR_PAIRS[0][1]]
    g = near_duplicate_groups(texts, 0.8, 64, 3)
    assert g[0] == g[1] == g[2] != g[3]


def test_signatures_are_deterministic() -> None:
    a = next(signatures([BASE], 64, 3)).hashvalues
    b = next(signatures([BASE], 64, 3)).hashvalues
    assert (a == b).all()


def test_find_returns_the_earliest_match_whatever_the_hash_seed() -> None:
    """LSH candidates come back as a set of strings, whose order changes per process; the answer must not."""
    index = NearDuplicateIndex(0.85, 64)
    sig = next(signatures([BASE], 64, 3))
    for i in range(50):
        index.add(f"record-{i}", sig)
    assert index.find(sig) == "record-0"
