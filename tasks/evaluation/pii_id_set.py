"""National ids in support messages of the six locales, for measuring `tasks.data.pii_ids` (tests and
bench/pii.py): social security, tax and health insurance numbers with valid check digits, in the ways people
write them, and numbers beside the same words that are none.

Faker's `ssn()` will not do: its en_GB numbers end in a letter no National Insurance number has, and its de_DE
ones are American. The values here are drawn and then checked with python-stdnum (or the Hungarian rules), so
each one is a number the real checks accept. Written after `pii_ids` and measured once; never tuned on.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from stdnum.de import idnr
from stdnum.fr import nir
from stdnum.iso7064 import mod_11_10
from stdnum.nl import bsn
from stdnum.us import ssn

from tasks.evaluation.pii_set import Message

TEMPLATES = {  # {ID}: the locale's number; each locale's own numbers, in English and in its language
    "en_US": [
        "My SSN is {ID}, please update the account.",
        "For the credit check you asked for my social security number: {ID}.",
        "Name on the account is mine, SS# {ID}, date of birth 4/12/1988.",
        "Here are my details for the business line: EIN pending, personal SSN {ID}.",
        "I typed {ID} into the form and it says invalid, why?",
    ],
    "en_GB": [
        "My National Insurance number is {ID}.",
        "NI no. {ID} - do you need it for the contract?",
        "You asked for ID, my NINO is {ID}.",
        "The credit check failed, my national insurance number {ID} is correct though.",
        "Details: date of birth 03/07/1979, NI number: {ID}.",
    ],
    "de_DE": [
        "Meine Steuer-ID ist {ID}.",
        "Für den Vertrag: steuerliche Identifikationsnummer {ID}.",
        "Sie wollten meine Steueridentifikationsnummer, sie lautet {ID}.",
        "My German tax ID is {ID}, do you need anything else?",
        "Identifikationsnummer (IdNr) {ID}, Geburtsdatum 12.03.1985.",
    ],
    "nl_NL": [
        "Mijn BSN is {ID}.",
        "Burgerservicenummer: {ID}, geboortedatum 14-02-1990.",
        "Voor de kredietcheck, mijn BSN-nummer {ID}.",
        "My BSN is {ID}, is that enough to open the account?",
        "U vroeg om mijn sofinummer, dat is {ID}.",
    ],
    "hu_HU": [
        "A személyi számom {ID}.",
        "Személyi azonosító: {ID}, kérem rögzítsék.",
        "My Hungarian personal number is {ID}.",
        "Adóazonosító jelem {TAX}, ha kell a számlához.",
        "A TAJ számom {TAJ}, a céges szerződéshez kérték.",
    ],
    "fr_FR": [
        "Mon numéro de sécurité sociale est {ID}.",
        "N° de sécu : {ID}, pour le contrat.",
        "Voici mon NIR {ID}, vous me l'aviez demandé.",
        "My French social security number is {ID}.",
        "Numéro INSEE {ID}, né le 02/07/1972.",
    ],
}
NEGATIVES = [  # numbers beside the same words, or shaped like ids, that are none: nothing may change
    "My SSN ends in 4471, can you check it that way?",
    "Where do I enter the social security number on the form? Step 3 of 5.",
    "Customer number 386756508, the bill is wrong.",
    "Order no. 123-45-6789 has not arrived.",
    "Meine Kundennummer ist 49729806357, die Steuer-ID schicke ich später.",
    "Rechnungsnummer 79 371 648 701 ist doppelt.",
    "Mijn klantnummer is 115971439, mijn BSN stuur ik per post.",
    "A rendelésszámom 28206108166.",
    "Numéro de commande 276053272058873.",
    "Tracking 1Z999AA10123456784 shows no movement.",
    "The IMEI is 490154203237518, is it blocked?",
    "My bill went from 39.99 to 54.99 this month.",
    "Sync rate 110000/21000 kbit/s on the line.",
    "Ticket 743-06-1388 was closed without a reply.",
    "Contract 27 477 561 903 ends next month.",
]


def _us(rng: random.Random) -> str:
    while not ssn.is_valid(v := f"{rng.randint(1, 899):03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"):
        pass
    return v if rng.random() < 0.8 else v.replace("-", " ")


def _gb(rng: random.Random) -> str:
    prefix = rng.choice("ABCEGHJKLMNOPRSTWXYZ") + rng.choice("ABCEGHJKLMNPRSTWXYZ")
    digits = [f"{rng.randint(0, 99):02d}" for _ in range(3)]
    suffix = rng.choice("ABCD")
    return f"{prefix} {' '.join(digits)} {suffix}" if rng.random() < 0.5 else f"{prefix}{''.join(digits)}{suffix}"


def _de(rng: random.Random) -> str:
    while not idnr.is_valid(v := (d := str(rng.randint(1, 9)) + f"{rng.randint(0, 10**9 - 1):09d}")
                            + mod_11_10.calc_check_digit(d)):  # fmt: skip
        pass
    return f"{v[:2]} {v[2:5]} {v[5:8]} {v[8:]}" if rng.random() < 0.5 else v


def _nl(rng: random.Random) -> str:
    while not bsn.is_valid(v := f"{rng.randint(10**7, 10**9 - 1):09d}"):
        pass
    return v if rng.random() < 0.7 else f"{v[:4]}.{v[4:6]}.{v[6:]}"


def _fr(rng: random.Random) -> str:
    body = f"{rng.choice('12')}{rng.randint(40, 99):02d}{rng.randint(1, 12):02d}{rng.randint(1, 95):02d}"
    body += f"{rng.randint(1, 999):03d}{rng.randint(1, 999):03d}"
    v = body + nir.calc_check_digits(body)
    return f"{v[0]} {v[1:3]} {v[3:5]} {v[5:7]} {v[7:10]} {v[10:13]} {v[13:]}" if rng.random() < 0.5 else v


def _weighted(digits: str, weights: range | list[int]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=False))


def _hu(rng: random.Random) -> str:
    while True:
        born = date(1940, 1, 1) + timedelta(days=rng.randint(0, 24000))
        first = rng.choice("12" if born.year < 2000 else "34")  # sex and century: 1/2 1900s, 3/4 from 2000
        digits = first + born.strftime("%y%m%d") + f"{rng.randint(0, 999):03d}"
        check = _weighted(digits, range(10, 0, -1) if born >= date(1997, 1, 1) else range(1, 11)) % 11
        if check < 10:
            v = digits + str(check)
            return f"{v[0]}-{v[1:7]}-{v[7:]}" if rng.random() < 0.5 else v


def _hu_tax(rng: random.Random) -> str:
    while (check := _weighted(digits := f"8{rng.randint(0, 10**8 - 1):08d}", range(1, 10)) % 11) == 10:
        pass
    return digits + str(check)


def _hu_taj(rng: random.Random) -> str:
    digits = f"{rng.randint(0, 10**8 - 1):08d}"
    v = digits + str(_weighted(digits, [3, 7] * 4) % 10)
    return f"{v[:3]} {v[3:6]} {v[6:]}" if rng.random() < 0.5 else v


_MAKE = {"en_US": _us, "en_GB": _gb, "de_DE": _de, "nl_NL": _nl, "hu_HU": _hu, "fr_FR": _fr}


def messages(per_template: int = 5, seed: int = 0) -> list[Message]:
    """Each template filled `per_template` times with fresh valid numbers, then the negatives."""
    rng = random.Random(seed)
    out = []
    for locale, templates in TEMPLATES.items():
        for i, template in enumerate(templates):
            for _ in range(per_template):
                slot, value = next(
                    (s, make(rng))
                    for s, make in (("{TAX}", _hu_tax), ("{TAJ}", _hu_taj), ("{ID}", _MAKE[locale]))
                    if s in template
                )
                out.append(Message(template.replace(slot, value), [("NATIONAL_ID", value)], locale, i))
    return out + [Message(text, [], "", -1) for text in NEGATIVES]
