"""National identity, tax and insurance numbers of the supported locales, each confirmed by its check digits.

python-stdnum checks the US social security number, the German tax id (IdNr), the Dutch BSN and the French NIR;
the UK National Insurance number has letter rules and no check digit, and the Hungarian personal number
(személyi azonosító), tax id (adóazonosító jel) and health insurance number (TAJ) are checked here. A number
written in its own format ("123-45-6789", "AB 12 34 56 C", "1 72 02 32 013 121 26", "1-890209-1775") counts
wherever it stands; a bare run of digits that a check digit passes by chance (a 9-digit BSN passes one time in
eleven) counts only after words that name such a number ("BSN", "Steuer-ID", "social security", "TAJ szám"), and
none counts after an order or customer number's label unless such words name it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date

from stdnum.de import idnr
from stdnum.fr import nir
from stdnum.nl import bsn
from stdnum.us import ssn

from tasks.data.pii_rules import preceded_by_id_label

_CUE = re.compile(  # words that name such a number, in the six locales, shortly before it
    r"(?:\bssn|social security|national insurance|\bni\b|\bnino|insurance number|tax (?:id|number|identification)"
    r"|national id|identity (?:card )?number|personal number|steuer-?id|identifikationsnummer"
    r"|steuernummer|\bidnr|sozialversicherungs|rentenversicherungs|\bbsn|burgerservicenummer|sofinummer"
    r"|sécurité sociale|\bsécu\b|\bnir\b|\binsee|numéro fiscal|numéro d'identification|személyi|adóazonosító"
    r"|\btaj\b|azonosító ?jel)[^.!?\n\d]{0,25}$",
    re.IGNORECASE,
)
NINO = re.compile(r"\b[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b", re.IGNORECASE)
_SIX_DIGITS = re.compile(r"\d(?:[ .-]?\d){5}")
NUMBER = re.compile(r"(?<![\w+.,/-])\d(?:[ .-]?\d){8,16}(?![\w-]|[.,/]\d)")


def _weighted(digits: str, weights: range | list[int]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=False))


def _hu_personal(digits: str) -> bool:
    """Sex and century (1-2 and 5-6: born 1900-1999; 3-4 and 7-8: 1800-1899 or from 2000), birth date, serial,
    and a mod-11 check whose weights turned around for births from 1997."""
    if len(digits) != 11 or digits[0] not in "12345678":
        return False
    centuries = (1900,) if digits[0] in "1256" else (1800, 2000)
    for century in centuries:
        try:
            born = date(century + int(digits[1:3]), int(digits[3:5]), int(digits[5:7]))
        except ValueError:
            return False
        weights = range(10, 0, -1) if born >= date(1997, 1, 1) else range(1, 11)
        if _weighted(digits, weights) % 11 == int(digits[10]):
            return True
    return False


def _hu_tax(digits: str) -> bool:
    """Adóazonosító jel: 8, days since 1867-01-01, a serial, and a mod-11 check."""
    return len(digits) == 10 and digits[0] == "8" and _weighted(digits, range(1, 10)) % 11 == int(digits[9])


def _hu_taj(digits: str) -> bool:
    return len(digits) == 9 and _weighted(digits, [3, 7] * 4) % 10 == int(digits[8])


# The formats a number is written in only when it is one of these, each with its check: they count without a cue.
_FORMATTED: tuple[tuple[re.Pattern[str], Callable[[str], bool]], ...] = (
    (re.compile(r"\d{3}-\d{2}-\d{4}"), ssn.is_valid),
    (re.compile(r"\d{2} \d{3} \d{3} \d{3}"), idnr.is_valid),  # as the German tax office prints it
    (re.compile(r"\d{4}\.\d{2}\.\d{3}"), bsn.is_valid),
    (re.compile(r"[1-478] ?\d{2} ?\d{2} ?\d{2} ?\d{3} ?\d{3} ?-? ?\d{2}"), nir.is_valid),  # spaced or not
    (re.compile(r"[1-8][- ]\d{6}[- ]\d{4}"), _hu_personal),
)
_CHECKS = (ssn.is_valid, bsn.is_valid, idnr.is_valid, nir.is_valid, _hu_personal, _hu_tax, _hu_taj)
_LENGTHS = {9, 10, 11, 15}  # SSN, BSN, TAJ; adóazonosító; IdNr, személyi azonosító; NIR


def spans(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each national id in `text`."""
    if not _SIX_DIGITS.search(text):
        return  # every id here has six digits close together: most support text stops here
    for m in NINO.finditer(text):
        if _cued(text, m.start()) or not preceded_by_id_label(text, m.start()):
            yield m.start(), m.end()
    for m in NUMBER.finditer(text):
        value, digits = m.group(), re.sub(r"[ .-]", "", m.group())
        if len(digits) not in _LENGTHS:
            continue  # most numbers in support text: phones, order numbers, amounts
        if any(form.fullmatch(value) and check(digits) for form, check in _FORMATTED):
            if _cued(text, m.start()) or not preceded_by_id_label(text, m.start()):
                yield m.start(), m.end()
        elif any(check(digits) for check in _CHECKS) and _cued(text, m.start()):
            yield m.start(), m.end()


def _cued(text: str, start: int) -> bool:
    """Named as such a number just before: "SSN" wins over the serial number's "SN" it ends with."""
    return bool(_CUE.search(text[max(0, start - 60) : start]))
