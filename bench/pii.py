"""The PII scrubber on values nobody here wrote: recall by type and locale, false positives on look-alikes.

    .venv/bin/python -m bench.pii
    .venv/bin/python -m bench.pii --per-template 10

Then postal addresses written by hand in the formats people use (`pii_set.ADDRESSES`), places named after people
("Lake Victoria", "Charles de Gaulle Airport": `pii_set.PLACE_NEGATIVES`), products, colours and venues
("only Matte Black", "Galaxy Z Flip6": `pii_set.DEVICE_NEGATIVES`), phones, e-mails, IBANs, cards and IPs
written by hand (`pii_formats_set`), national ids (`pii_id_set`), and names from ten locales the learned name
model (tasks.data.pii_names) is trained without, with no cue before them: the rules alone, and the rules with it.

Labelled set: `tasks.evaluation.pii_set` (Faker values in six locales inside support messages, and look-alike
negatives). A value counts as found only when none of its words or digit groups is left in the scrubbed text:
"<NAME> Zoltán" is a leak. A negative counts as a false positive when anything in it was replaced.
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict

from bench.hardware import describe


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-template", type=int, default=5)
    parser.add_argument("--show-misses", type=int, default=0, help="print this many misses per type")
    args = parser.parse_args()

    from tasks.evaluation.pii_set import messages

    print(f"hardware: {describe()}")
    from tasks.data import pii, pii_names

    # Presidio's engines, the name model (trained on a machine's first use) and the name lists: not timed
    pii.scrub("Warm Up, my son Warm. thanks, warm")
    pii_names.load()
    for heldout in (False, True):
        print(f"\n{'held-out templates (never tuned on)' if heldout else 'tuning templates'}:")
        report(messages(args.per_template, heldout=heldout), args.show_misses)
    addresses()
    places()
    devices()
    uncased_names()
    wider_names()
    written_formats()
    national_ids(args.per_template)
    unseen(args.per_template)


HELD_OUT = "held out (written after, never tuned)"


def changed(texts: list[str], indent: str = "", names: bool = False) -> None:
    """How many look-alikes the scrubber changed (with `names`, masked a name in), and each one as it came out."""
    from tasks.data.pii import scrub

    outs = [out for text in texts if (out := scrub(text)) != text and (not names or "<NAME>" in out)]
    print(f"{indent}look-alikes changed: {len(outs)}/{len(texts)}")
    for out in outs:
        print(f"{indent}  {out}")


def masked(sets: dict[str, list]) -> None:
    """Per labelled set, how many of its names came out masked whole, and each one that did not."""
    from tasks.data.pii import scrub
    from tasks.evaluation.pii_set import found

    for label, data in sets.items():
        outs = [(m, scrub(m.text)) for m in data if m.values]
        missed = [out for m, out in outs if not found(m.values[0][1], out, m.text)]
        print(f"  {label:<38} {len(outs) - len(missed)}/{len(outs)}")
        for out in missed:
            print(f"    missed: {out!r}")


def addresses() -> None:
    from tasks.data.pii import scrub
    from tasks.evaluation.pii_set import LOCALES, found, hand_written

    print("\npostal addresses written by hand in real formats (a value counts only when none of it is left):")
    print(f"{'':<38}" + "".join(f"{loc:>7}" for loc in LOCALES) + f"{'all':>7}")
    labels = {
        "written": "the set the rules were written on",
        "heldout": HELD_OUT,
        "new": "ADDRESSES_NEW (its misses then fixed)",
        "later": "ADDRESSES_LATER (after the fixes)",
        "fresh": "ADDRESSES_FRESH (its misses then fixed)",
        "sealed": "ADDRESSES_SEALED (10 blind, then fixed)",
        "final": "ADDRESSES_FINAL (16 blind, then fixed)",
        "opening": "ADDRESSES_OPENING (15 blind, then fixed)",
        "evening": "ADDRESSES_EVENING (14 blind, then fixed)",
        "closing": "ADDRESSES_CLOSING (16 blind, then fixed)",
        "night": "ADDRESSES_NIGHT (15 blind, then fixed)",
        "late": "ADDRESSES_LATE (16 blind, then fixed)",
        "dawn": "ADDRESSES_DAWN (17 blind, then fixed)",
    }
    for chosen, label in labels.items():
        data = hand_written(chosen)
        hits: dict[str, list[bool]] = defaultdict(list)
        for m in data:
            if m.values:
                hits[m.locale].append(found(m.values[0][1], scrub(m.text), m.text))
        cells = "".join(f"{sum(hits[loc]) / len(hits[loc]):7.2f}" for loc in LOCALES)
        every = [h for c in hits.values() for h in c]
        print(f"{label:<38}{cells}{sum(every) / len(every):7.2f}  (n={len(every)})")
    changed([m.text for m in hand_written() if not m.values])


def places() -> None:
    from tasks.data.pii import scrub
    from tasks.evaluation import pii_set

    print("\nplaces named after people (a first name inside; nothing may change):")
    print("  the set is_place was written on:")
    changed(pii_set.PLACE_NEGATIVES, "    ")
    print(f"  {HELD_OUT}:")
    changed(pii_set.PLACE_NEGATIVES_HELDOUT, "    ")
    print("  the second round's set, read once before the fix:")
    changed(pii_set.PLACE_NEGATIVES_MORE, "    ")
    print(f"  {HELD_OUT}, after the second round:")
    changed(pii_set.PLACE_NEGATIVES_LAST, "    ")
    print("  lower-case place words after the name, written before is_place read them, measured once:")
    changed(pii_set.PLACE_NEGATIVES_FIFTH, "    ")
    for label, people in (
        ("people beside the same words", pii_set.NAMES_BESIDE_PLACES),
        ("people before lower-case place words", pii_set.NAMES_BESIDE_LOWER_PLACES),
    ):
        missed = [out for text in people if "<NAME>" not in (out := scrub(text))]
        print(f"  {label}, masked: {len(people) - len(missed)}/{len(people)}")
        for out in missed:
            print(f"      missed: {out}")


def devices() -> None:
    from tasks.data.pii import scrub
    from tasks.evaluation import pii_set

    print("\nproducts, colours, plans, venues and public resolvers (nothing may change):")
    print("  written blind, read once, then the changes they led:")
    changed(pii_set.DEVICE_NEGATIVES, "    ")
    print("  written after those changes:")
    changed(pii_set.DEVICE_NEGATIVES_AFTER, "    ")
    missed = [out for text, name in pii_set.COLOUR_NAMES if not pii_set.found(name, out := scrub(text), text)]
    print(f"  people whose surname is a colour, masked: {len(pii_set.COLOUR_NAMES) - len(missed)}/"
          f"{len(pii_set.COLOUR_NAMES)}")  # fmt: skip
    for out in missed:
        print(f"      missed: {out}")


def uncased_names() -> None:
    from tasks.evaluation.pii_set import capitals, uncased

    print("\nnames typed in lower case or in capitals after a cue, or alone after a family word:")
    sets = {
        "the set pii_uncased was written on": uncased(),
        HELD_OUT: uncased(heldout=True),
        "written before the sibling lists, once": uncased(last=True),
        "in capitals, and a form's SURNAME, First": capitals(),
        "in capitals, first names no list holds": capitals(unlisted=True),
    }
    masked(sets)
    changed([m.text for data in (uncased(), capitals(), capitals(True)) for m in data if not m.values], "  ")


def wider_names() -> None:
    from tasks.evaluation.pii_set import (
        NAMES_WIDER_NEGATIVES,
        NAMES_WIDER_NEGATIVES_MORE,
        WRITTEN_APART,
        wider,
        wider_negatives,
    )

    print("\nnames from beyond the locales' name lists (Polish, Yoruba, Chinese, Irish ...), masked whole:")
    sets = {
        "the set the change was written on": wider(),
        "held out (written before, measured once)": wider("heldout"),
        "NAMES_LAST (its misses then fixed)": wider("last"),
        "NAMES_NEXT (written before the fixes)": wider("next"),
        "NAMES_FINAL (written after them)": wider("final"),
        "NAMES_AFTER (its misses then fixed)": wider("after"),
        "NAMES_CLOSING (after every change)": wider("closing"),
        "NAMES_FRESH (its misses then fixed)": wider("fresh"),
        "NAMES_CHECK (its misses then fixed)": wider("check"),
        "NAMES_SEALED (27 blind, then fixed)": wider("sealed"),
        "NAMES_OPENING (25 blind, then fixed)": wider("opening"),
        "NAMES_EVENING (28 blind, then fixed)": wider("evening"),
        "NAMES_NIGHT (29 blind, then fixed)": wider("night"),
    }
    masked(sets)
    changed(NAMES_WIDER_NEGATIVES, "  ")
    print("  look-alikes written after the change, which the cue's check was then fixed on:")
    changed(NAMES_WIDER_NEGATIVES_MORE, "  ")
    for chosen in WRITTEN_APART:
        print(f"  look-alikes written with NAMES_{chosen.upper()}{'' if chosen == 'last' else ' (a name masked)'}:")
        changed(wider_negatives(chosen), "  ", names=chosen != "last")


def written_formats() -> None:
    from tasks.data.pii import scrub
    from tasks.evaluation.pii_formats_set import messages
    from tasks.evaluation.pii_set import found

    print("\nphones, e-mails, IBANs, cards and IPs written by hand (a value counts only when none of it is left):")
    labels = {
        "written": "the set the rules were fixed on",
        "heldout": HELD_OUT,
        "last": "WRITTEN_LAST (a later session)",
        "fresh": "WRITTEN_FRESH (its misses then fixed)",
        "opening": "WRITTEN_OPENING (24 blind)",
    }
    for chosen, label in labels.items():
        data = messages(chosen)
        hits: dict[str, list[bool]] = defaultdict(list)
        missed = []
        for m in (m for m in data if m.values):
            out = scrub(m.text)
            hits[m.values[0][0]].append(ok := found(m.values[0][1], out, m.text))
            if not ok:
                missed.append(f"    missed: {out}")
        every = [h for c in hits.values() for h in c]
        cells = "  ".join(f"{kind} {sum(h)}/{len(h)}" for kind, h in sorted(hits.items()))
        print(f"  {label:<38} {sum(every)}/{len(every)}  ({cells})")
        for line in missed:
            print(line)
    changed(
        [m.text for chosen in ("written", "last", "fresh", "opening") for m in messages(chosen) if not m.values], "  "
    )


def national_ids(per_template: int) -> None:
    from tasks.data.pii import scrub
    from tasks.evaluation.pii_id_set import messages
    from tasks.evaluation.pii_set import LOCALES, found

    print(f"\nnational ids (social security, tax, health insurance; {per_template} per template):")
    print(f"{'':<12}" + "".join(f"{loc:>7}" for loc in LOCALES) + f"{'all':>7}")
    data = messages(per_template)
    hits: dict[str, list[bool]] = defaultdict(list)
    typed: dict[str, list[bool]] = defaultdict(list)
    wrong = []
    for m in (m for m in data if m.values):
        out = scrub(m.text)
        hits[m.locale].append(ok := found(m.values[0][1], out, m.text))
        typed[m.locale].append(ok and "<NATIONAL_ID>" in out)
        if not typed[m.locale][-1]:
            wrong.append(f"  {'masked as another type' if ok else 'missed'}: {out}")
    for label, table in (("masked", hits), ("as the type", typed)):
        every = [h for c in table.values() for h in c]
        cells = "".join(f"{sum(table[loc]) / len(table[loc]):7.2f}" for loc in LOCALES)
        print(f"{label:<12}{cells}{sum(every) / len(every):7.2f}  (n={len(every)})")
    print("\n".join(dict.fromkeys(wrong)))
    changed([m.text for m in data if not m.values])


def report(data, show_misses: int) -> None:
    from tasks.data.pii import scrub
    from tasks.evaluation.pii_set import LOCALES, TYPES, found

    started = time.perf_counter()
    scrubbed = [scrub(m.text) for m in data]
    ms = (time.perf_counter() - started) / len(data) * 1000
    hits: dict[tuple[str, str], list[bool]] = defaultdict(list)
    misses: dict[str, list[str]] = defaultdict(list)
    for m, out in zip(data, scrubbed, strict=True):
        for kind, value in m.values:
            ok = found(value, out, m.text)
            hits[kind, m.locale].append(ok)
            if not ok:
                misses[kind].append(f"{value!r} in {out!r}")
    negatives = [(m, out) for m, out in zip(data, scrubbed, strict=True) if not m.values]
    print(f"{sum(len(m.values) for m in data)} values in {len(data) - len(negatives)} messages, "
          f"{len(negatives)} look-alike negatives; {ms:.2f} ms per message")  # fmt: skip
    print(f"{'type':<9}" + "".join(f"{loc:>8}" for loc in LOCALES) + f"{'all':>8}")
    for kind in TYPES:
        cells = [hits[kind, loc] for loc in LOCALES]
        every = [h for c in cells for h in c]
        row = "".join(f"{sum(c) / len(c):8.2f}" if c else f"{'-':>8}" for c in cells)
        print(f"{kind:<9}{row}{sum(every) / len(every):8.2f}")
    every = [h for c in hits.values() for h in c]
    print(f"recall over all values {sum(every) / len(every):.3f}")
    wrong = [out for m, out in negatives if out != m.text]
    print(f"false positives on look-alikes: {len(wrong)}/{len(negatives)} = {len(wrong) / len(negatives):.3f}")
    for out in wrong:
        print(f"  {out}")
    for kind, items in misses.items():
        for item in items[:show_misses]:
            print(f"  missed {kind}: {item}")


def unseen(per_template: int) -> None:
    from tasks.data import pii_names
    from tasks.evaluation.pii_set import UNSEEN_LOCALES, name_recall, unseen_names

    data = unseen_names(per_template)
    started = time.perf_counter()
    model = pii_names.train([loc for loc in pii_names.LOCALES if loc not in UNSEEN_LOCALES])
    seconds = time.perf_counter() - started
    print(f"\nnames of locales the name model never saw, no cue (model trained in {seconds:.0f} s):")
    print(f"{'':<13}" + "".join(f"{loc:>7}" for loc in UNSEEN_LOCALES) + f"{'all':>7}  look-alikes changed")
    for label, used in (("rules", None), ("rules+model", model)):
        recall, wrong = name_recall(data, used)
        cells = "".join(f"{recall[loc]:7.2f}" for loc in UNSEEN_LOCALES)
        negatives = sum(not m.values for m in data)
        print(f"{label:<13}{cells}{sum(recall.values()) / len(recall):7.2f}  {len(wrong)}/{negatives}")


if __name__ == "__main__":
    main()
