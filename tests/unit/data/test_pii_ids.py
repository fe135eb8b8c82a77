"""National ids: each locale's numbers masked where they are written as such, look-alikes left alone, and the
set of `tasks.evaluation.pii_id_set` held above its measured figures."""

from __future__ import annotations

import pytest

from tasks.config.schema import GuardParams
from tasks.data.pii import scrub
from tasks.evaluation.pii_id_set import messages
from tasks.evaluation.pii_set import found
from tasks.guard.output_guard import screen_reply


@pytest.mark.parametrize(
    "text",
    [
        "My SSN is 332-20-6469.",
        "Here: 075-69-1543, born 1980",  # its own format: no cue needed
        "My National Insurance number is XS 07 72 15 B.",
        "NINO yb737450a",
        "Meine Steuer-ID ist 52667460139.",
        "Steuerliche Identifikationsnummer 63 915 248 012, bitte eintragen.",
        "Mijn BSN is 161997788.",
        "BSN: 7886.70.347",
        "Mon numéro de sécurité sociale est 1 72 08 72 029 779 38.",
        "infos : 168067999751843",
        "A személyi számom 2-580305-1409.",
        "Személyi azonosító: 16703019188",
        "Adóazonosító jelem 8961159836.",
        "A TAJ számom 126 333 037.",
    ],
)
def test_each_locales_national_ids_are_masked_as_such(text: str) -> None:
    out = scrub(text)
    assert "<NATIONAL_ID>" in out and not any(c.isdigit() for c in out.replace("1980", ""))


@pytest.mark.parametrize(
    "text",
    [
        "The code on the box is 1619.97.789.",  # written as a BSN, fails the eleven-test
        "I got 161997788 points in the game.",  # a valid BSN by chance, nothing names it
        "Kundennummer 52667460139, bitte prüfen.",  # an id label: a customer number
        "Ticket 332-20-6469 was closed.",
        "My SSN ends in 6469.",
    ],
)
def test_numbers_not_named_or_not_checking_out_are_no_national_id(text: str) -> None:
    assert "<NATIONAL_ID>" not in scrub(text)


def test_the_measured_set_stays_where_it_was_measured() -> None:
    """Measured 2026-12-05 (5 per template): 150 of 150 masked, 146 as national ids, 0 of 15 look-alikes changed."""
    data = messages(per_template=2, seed=3)
    outs = [(m, scrub(m.text)) for m in data]
    values = [(found(m.values[0][1], out, m.text), "<NATIONAL_ID>" in out) for m, out in outs if m.values]
    assert sum(masked for masked, _ in values) == len(values)
    assert sum(typed for _, typed in values) / len(values) >= 0.93
    assert [out for m, out in outs if not m.values and out != m.text] == []


def test_the_output_guard_masks_someone_elses_national_id() -> None:
    messages_ = [{"role": "user", "content": "What do you have on file for my wife?"}]
    out = screen_reply("Her social security number is 332-20-6469.", messages_, [], GuardParams())
    assert out.action == "mask" and out.masked == {"NATIONAL_ID": 1} and "•••• 6469" in out.text
