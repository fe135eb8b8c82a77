"""The scrubber on Faker values in six locales, in templates written after its cues were tuned: a change that
costs recall or adds false positives fails here, not only in bench/pii.py (which prints the full table)."""

from __future__ import annotations

from collections import defaultdict

import pytest

from tasks.data.pii import scrub
from tasks.evaluation import pii_formats_set as formats_set
from tasks.evaluation.pii_set import (
    COLOUR_NAMES,
    DEVICE_NEGATIVES,
    DEVICE_NEGATIVES_AFTER,
    NAMES_BESIDE_LOWER_PLACES,
    NAMES_BESIDE_PLACES,
    NAMES_LAST_NEGATIVES,
    NAMES_WIDER_NEGATIVES,
    NAMES_WIDER_NEGATIVES_MORE,
    PLACE_NEGATIVES,
    PLACE_NEGATIVES_FIFTH,
    PLACE_NEGATIVES_HELDOUT,
    PLACE_NEGATIVES_LAST,
    PLACE_NEGATIVES_MORE,
    capitals,
    found,
    hand_written,
    messages,
    uncased,
    wider,
    wider_negatives,
)

# Measured at 5 per template: structured types 0.93-1.00, names 0.93, addresses 0.98; the floors leave a margin.
FLOORS = {"EMAIL": 0.97, "PHONE": 0.95, "IBAN": 0.97, "IP": 0.97, "CARD": 0.85, "ADDRESS": 0.9, "NAME": 0.85}


@pytest.fixture(scope="module")
def recall() -> dict[str, float]:
    hits: dict[str, list[bool]] = defaultdict(list)
    for m in messages(3, seed=1, heldout=True):
        out = scrub(m.text)
        for kind, value in m.values:
            hits[kind].append(found(value, out, m.text))
    return {kind: sum(h) / len(h) for kind, h in hits.items()}


@pytest.mark.parametrize("kind", sorted(FLOORS))
def test_recall_on_held_out_templates_in_six_locales(recall: dict[str, float], kind: str) -> None:
    assert recall[kind] >= FLOORS[kind]


def test_look_alikes_come_through_unchanged() -> None:
    negatives = [m.text for m in messages(1) if not m.values]
    assert len(negatives) >= 20
    assert [t for t in negatives if scrub(t) != t] == []


def test_a_value_counts_as_found_only_when_nothing_of_it_is_left() -> None:
    assert found("Kovács Erzsébet", "I'm <NAME>.", "I'm Kovács Erzsébet.")
    assert not found("Kovács Erzsébet", "I'm <NAME> Erzsébet.", "I'm Kovács Erzsébet.")
    assert found("Dr. Anna Berg", "Signed, Dr. <NAME>", "Signed, Dr. Anna Berg")  # a title identifies nobody


@pytest.mark.parametrize(
    ("chosen", "floor"),
    [
        ("written", 0.97),
        ("heldout", 1.0),
        ("new", 1.0),
        ("later", 1.0),
        ("fresh", 1.0),
        ("sealed", 1.0),
        ("final", 1.0),
        ("opening", 1.0),
        ("evening", 1.0),
        ("closing", 1.0),
        ("night", 1.0),
        ("late", 1.0),
        ("dawn", 1.0),
    ],
)
def test_addresses_written_by_hand_are_masked_whole(chosen: str, floor: float) -> None:
    """Measured: 68 of 68 on the set the address rules were written on, 33 of 36 held out (2026-12-05; 36 since a
    lower-case town and a listed town before a verb, 2026-12-06); 19 of 24 on
    ADDRESSES_NEW, then 24 after the fixes it led (a flat's "2/1", "bâtiment B", "XI. kerület", "2. em. 5.", "Pf.");
    ADDRESSES_LATER, written after them, 17 of 18 with the code before and 18 after (2026-12-06). ADDRESSES_FRESH, the
    next session: 12 of 18, then 18 after the fixes it led (a "c/o" or "chez" line, "Fl 12", "14/3 Marchmont
    Crescent", "Voorhout 3 A", "fsz. 1."). ADDRESSES_SEALED, written after every change: 10 of 12 before the
    session and after it, then 12 ("3. OG, 60313 Frankfurt am Main", "Lieu-dit Le Moulin"). ADDRESSES_FINAL, written
    last: 16 of 18 both ways, then 18 ("Chicago, Illinois 60614", "..., escalier C, 75012 Paris"). ADDRESSES_OPENING,
    written at the start of the next session: 15 of 18, then 18 ("Laan van Meerdervoort 54", "springfield il 62704",
    "Riverside Industrial Estate, Hull HU9 1AA"). ADDRESSES_EVENING, written after those fixes: 13 of 18 with the code
    before the session, 14 after them, then 18 ("17 maple ave, burlington vt 05401", "The Willows,", "Burgemeester de
    Withstraat 4", "Október huszonharmadika u. 21."). ADDRESSES_CLOSING, written after every change: 16 of 18 before
    the session and after, then 18 ("Hinterhaus, 3. OG links,", "Weteringschans 2-A, Amsterdam sturen": a listed
    town before a verb). ADDRESSES_NIGHT, written at the start of the next session: 15 of 18, then 18
    ("Basement Flat,", "Chemin des Vignes, 84000 Avignon", "Het Rond 6, Houten": no type, a listed town after
    it). ADDRESSES_LATE, written after those fixes: 14 of 18 before the session, 16 after them, then 18 ("2401 e 6th
    st apt 210, austin tx 78702", "Route de Lyon, 38300 Bourgoin-Jallieu"). ADDRESSES_DAWN, written after every
    other change: 15 of 18 before the session, 17 after, then 18 ("9400 Sopron, Várkerület 55.")."""
    data = [m for m in hand_written(chosen) if m.values]
    hits = [found(m.values[0][1], scrub(m.text), m.text) for m in data]
    assert sum(hits) / len(hits) >= floor


def test_address_look_alikes_mostly_come_through_unchanged() -> None:
    """Three of 140 change: "10 Downing Street", an address, though nobody's own, "Postbus 1020", a PO box alone,
    masked on purpose, and "A Petőfi Sándor emlékév", a poet's name masked as a name."""
    negatives = [m.text for m in hand_written() if not m.values]
    assert len([t for t in negatives if scrub(t) != t]) <= 3


@pytest.mark.parametrize(
    ("texts", "most"),
    [
        (PLACE_NEGATIVES, 6),
        (PLACE_NEGATIVES_HELDOUT, 7),
        (PLACE_NEGATIVES_MORE, 1),
        (PLACE_NEGATIVES_LAST, 3),
        (PLACE_NEGATIVES_FIFTH, 0),
    ],
)
def test_places_named_after_people_mostly_come_through_unchanged(texts: list[str], most: int) -> None:
    """Measured 2026-12-06 (docs/guardrails.md): 8 of 68 change on the first set `is_place` was written on, 9 of
    the 30 held out from it, 1 of the 30 the second round was written on and 7 of the 30 held out from that. The
    first became 9 when the name model learned romanised Chinese and Japanese names ("Peppa Pig" now scores as
    one), the fourth 4 when a lower-case place word after an article closed a place ("the ... building"), and of a
    fifth set, written before that and measured once, 1 of 20 changed (11 before), then none. A known first name in a
    run after an article names no person ("the Ray-Ban Meta"): 7, 7 and 3 of the first, second and fourth since, and
    6 of the first once an owner's "'s" ended a run ("Martha's Vineyard", 2026-12-07)."""
    assert len([t for t in texts if scrub(t) != t]) <= most


@pytest.mark.parametrize(("texts", "most"), [(DEVICE_NEGATIVES, 3), (DEVICE_NEGATIVES_AFTER, 3)])
def test_products_colours_and_resolvers_mostly_come_through_unchanged(texts: list[str], most: int) -> None:
    """Written blind 2026-12-07 (docs/guardrails.md): 10 of 79 changed, then 3 after the changes they led ("only
    Matte Black", "Galaxy Z Flip6", "DNS 8.8.8.8"); a set written after those changes, 6 of 40 with the code before
    them and 3 after."""
    assert len([t for t in texts if scrub(t) != t]) <= most


def test_people_whose_surname_is_a_colour_stay_masked() -> None:
    """A colour closing a run names a finish only where no listed first name opens it, or after "in", "my", "only":
    "I spoke to Anna Green", "Kind regards, Peter Gray", "Emma Silver's phone" keep their names masked."""
    leaks = [out for text, name in COLOUR_NAMES if not found(name, out := scrub(text), text)]
    assert leaks == []


def test_people_beside_place_words_stay_people() -> None:
    """A place word after a name makes a place only after an article ("a Kossuth Lajos téren", "the Winston
    Churchill building"; not "Kiss Mária kórházban van", "Winston Barnes building manager called"); one of 20 is
    missed today ("Lena Brücke": Brücke closes a place), none of the 10 before a lower-case place word."""
    missed = [t for t in NAMES_BESIDE_PLACES if "<NAME>" not in scrub(t)]
    assert len(missed) <= 1, missed
    assert [t for t in NAMES_BESIDE_LOWER_PLACES if "<NAME>" not in scrub(t)] == []


@pytest.mark.parametrize(
    ("chosen", "floor", "changed"),
    [("written", 1.0, 0), ("heldout", 0.96, 0), ("last", 1.0, 0), ("fresh", 1.0, 1), ("opening", 1.0, 0)],
)
def test_structured_values_written_by_hand_are_masked(chosen: str, floor: float, changed: int) -> None:
    """Measured 2026-12-05: 34 of 34 on the set the rules were fixed on, 29 of 30 held out (30 after the French
    five-pair fix); 2026-12-06, 24 of 24 written in other formats (two of their look-alikes changed, then fixed);
    the next session, 21 of 24 (a German extension "456-78", documentation-range IPs), then 24. One look-alike of
    the last set changes ("Speeds: 100.0.20.5 Mbit?", a public address); none of the others. WRITTEN_OPENING, the
    session after: 24 of 24 before any change; of its look-alikes, "Tracking: 1Z 999 AA1 01 2345 6784" lost a phone
    until an id's label reached past the id's first groups."""
    data = formats_set.messages(chosen)
    hits = [found(m.values[0][1], scrub(m.text), m.text) for m in data if m.values]
    assert sum(hits) / len(hits) >= floor
    assert len([t for t in (m.text for m in data if not m.values) if scrub(t) != t]) <= changed


@pytest.mark.parametrize(("heldout", "last", "floor"), [(False, False, 0.97), (True, False, 0.9), (True, True, 0.9)])
def test_names_typed_in_lower_case_are_masked(heldout: bool, last: bool, floor: float) -> None:
    """Measured 2026-12-05: 41 of 42 on the set pii_uncased was written and fixed on, 25 of 30 held out (20 of 30
    before the cue fix); none of the 37 look-alikes ("this is frank feedback", "thanks in advance, really
    appreciated") changed. 2026-12-06, with the lists of the same languages' other countries: 42 of 42 ("léa" is
    in fr_BE's), 27 of 30 ("jeroen", "mathieu"), and 24 of 30 of a set written before that (23 before). Then its
    cue misses were fixed ("lg", "bonne journée", "bien à vous", "... vagyok", a dash after "thanks"): 28 and 28."""
    data = uncased(heldout, last)
    hits = [found(m.values[0][1], scrub(m.text), m.text) for m in data if m.values]
    assert sum(hits) / len(hits) >= floor
    assert [m.text for m in data if not m.values and scrub(m.text) != m.text] == []


@pytest.mark.parametrize(("heldout", "least"), [(False, 18), (True, 24)])
def test_names_from_beyond_the_locales_lists_are_masked_whole(heldout: bool, least: int) -> None:
    """Measured 2026-12-06: 18 of 20 on the set the change was written on (13 before), 24 of 25 held out (15
    before; 23 when measured, then "siobhan" and "Zsoltot" found by later changes, "Ilvy" lost); none of the 10
    look-alikes and 3 of the 20 written after the change ("Our neighbour Wi-Fi is called ...", "Meine Frau Hat
    ...", "My colleague Ms. Office 365"); 1 since one word after a title must be no everyday word)."""
    hits = [found(m.values[0][1], scrub(m.text), m.text) for m in wider("heldout" if heldout else "wider")]
    assert sum(hits) >= least
    assert [t for t in NAMES_WIDER_NEGATIVES if scrub(t) != t] == []
    assert len([t for t in NAMES_WIDER_NEGATIVES_MORE if scrub(t) != t]) <= 1


def test_names_in_capitals_and_surname_first_are_masked() -> None:
    """Measured once 2026-12-06: 19 of 20 (0 before); the miss ("Mit freundlichen Grüßen" was no cue) then
    fixed. No shouted look-alike ("THIS IS UNACCEPTABLE", "Plan name: UNLIMITED MAX") changes."""
    data = capitals()
    hits = [found(m.values[0][1], scrub(m.text), m.text) for m in data if m.values]
    assert sum(hits) >= 19
    assert [m.text for m in data if not m.values and scrub(m.text) != m.text] == []


def test_names_in_capitals_that_no_list_holds_are_masked_after_a_cue() -> None:
    """Written after the change that reads them, measured once 2026-12-07: 10 of 12 (2 with the code before it), no
    shouted look-alike after a label changed ("Name on the card: SAME AS ACCOUNT", "Naam: ZIE HIERBOVEN")."""
    data = capitals(unlisted=True)
    assert sum(found(m.values[0][1], scrub(m.text), m.text) for m in data if m.values) >= 10
    assert [m.text for m in data if not m.values and scrub(m.text) != m.text] == []


def test_names_written_after_every_change_of_the_day() -> None:
    """Measured once 2026-12-06: 23 of 30 (18 with the code of the day before), none of 15 look-alikes changed. Its
    misses then led the next changes (labels, lower-case titles, capitals without a cue, mail display names):
    29 of 30, "Xu Mingyue" left."""
    hits = [found(m.values[0][1], scrub(m.text), m.text) for m in wider("last")]
    assert sum(hits) >= 29
    assert [t for t in NAMES_LAST_NEGATIVES if scrub(t) != t] == []


@pytest.mark.parametrize(
    ("chosen", "least"),
    [
        ("next", 30),
        ("final", 25),
        ("after", 30),
        ("closing", 29),
        ("fresh", 29),
        ("check", 30),
        ("sealed", 30),
        ("opening", 30),
        ("evening", 29),
        ("night", 30),
    ],
)
def test_names_written_apart_from_the_changes_they_measure(chosen: str, least: int) -> None:
    """NAMES_NEXT, written before the changes after NAMES_LAST: 23 of 30 before, 24 after the first round, 30 after the
    second, which its misses led (no longer blind). NAMES_FINAL, written after both: 22 of 30 with the code before them,
    25 after. NAMES_AFTER, written after the last change (a lone first name inside a sentence): 20 of 30 with the code
    before the session, 27 after; 29 once its misses led the lone name to Faker's 54 locales and past a sentence's first
    everyday word ("Tell Dmitri"); 30 since a Hungarian case ending ("szóljanak Eszternek"). NAMES_CLOSING, written
    after every change: 22 of 30 before the session, 28 after (29 since "my son, Liam" and "A lányom, Lili" read the
    comma). Their look-alikes: 2, 1, 0 and 0 of 15 masked a name before, none after. NAMES_FRESH, written at the start
    of the next session: 25 of 30, then 29 once its misses were fixed (an owner's "Hamish's phone", "Familie Brandt", a
    first name that is a French word, "buurman Kees Smit"); NAMES_CHECK, written after those fixes: 27 of 30 before and
    after them, then 30 once its misses were ("Imogen again", "got through to Bethany", "LG Tobi"). NAMES_SEALED,
    written after every change: 27 of 30 with the code before the session and after it, then 30 once its misses were
    fixed ("The agent (Kyle)", "Jasmine from your Dallas store", "A fiam, Ádám"). Their look-alikes: 1, 0 and 2 of 15
    masked a name before, none after. NAMES_OPENING, written at the start of the next session: 25 of 30, then 30
    ("Kowalczyk, Marta" after a label, "@Brianna", "father's name, Desmond Achterberg", "ging an Annegret Vogelsang",
    "Köszönöm: Réka"); none of its 15 look-alikes masked, before or after. NAMES_EVENING, written after those fixes:
    28 of 30 before the session and after them, then 29 ("Kundin: Wojcik, Agnieszka"; "Account name: Nguyen, Thanh"
    leaves Thanh, no listed first name); its look-alikes "Account name: Family Plan" and "Cordialement, Service
    Client Free" lost words before, none after, since a cue's words that hold an everyday word are no name unless
    one of them is listed. NAMES_NIGHT, written at the start of the next session: 29 of 30, then 30 ("from: kevin
    o'brien", a mail header's sender in lower case); none of its 15 look-alikes masked."""
    hits = [found(m.values[0][1], scrub(m.text), m.text) for m in wider(chosen)]
    assert sum(hits) >= least
    assert [t for t in wider_negatives(chosen) if "<NAME>" in scrub(t)] == []
