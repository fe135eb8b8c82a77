"""A learned name detector: runs of capitalised words scored by a linear model over their letters, for the names
no cue and no first-name list announces ("My neighbour Vusumuzi Vabaza keeps getting my letters").

Why this model and not a neural NER: no spaCy pipeline for en/de/nl/hu is on the package registry (only
re-uploads by strangers), and the shipped MiniLM encoder is uncased (capitals are the strongest sign of a name)
and costs ~10 ms a message, which would put `prepare` at 1M records past its budget. Character n-grams carry
what makes "Grzegorz Brzęczyszczykiewicz" a name and "Young Magenta" not, in any cased alphabet, at tens of
microseconds a run, and only text with a capitalised run pays at all.

The model is trained on first use from Faker's person names in the cased-alphabet locales (positives) and
capitalised look-alikes (countries, jobs, towns, products, title-cased words: negatives), seeded, in seconds, and
cached in the user's llmops cache (tasks.core.files.user_cache), keyed by this file, pii_rules.py (its
NOT_NAMES) and Faker's version. The threshold is chosen on held-back look-alikes for a false-positive rate
(`TARGET_FPR`), never on the sets `bench/pii.py` reports.
"""

from __future__ import annotations

import hashlib
import random
import re
import unicodedata
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path

import numpy as np

from tasks.core.files import atomic_writer, user_cache
from tasks.data import pii_rules, pii_uncased
from tasks.data.pii_rules import (
    DIGIT,
    FIRST_PERSON,
    GREETINGS,
    NOT_NAMES,
    NOT_SINGLE,
    PLACE_OPENERS,
    SUPPORT_LOCALES,
    after_title,
    cued_names,
    everyday_words,
    faker_lists,
    faker_names,
    hungarian_first_name,
    is_place,
    known_names,
)

_WORD = re.compile(r"[^\W\d_][\w'’.-]*")
_RANGES = (range(0x2FF + 1), range(0x370, 0x530), range(0x1E00, 0x1F00))  # Latin, Greek, Cyrillic, Vietnamese
_UPPER = "".join(chr(c) for r in _RANGES for c in r if chr(c).isupper())
_LOWER = "".join(chr(c) for r in _RANGES for c in r if chr(c).islower())
DIMENSION = 2**20
TARGET_FPR = 0.01  # of held-back look-alikes scoring at or above the threshold
# Faker locales with person names in a cased alphabet (scripts without capitals give no run to score)
LOCALES = (
    "cs_CZ", "da_DK", "de_AT", "de_CH", "de_DE", "el_GR", "en_GB", "en_IE", "en_IN", "en_KE", "en_NG", "en_NZ",
    "en_PK", "en_US", "es_AR", "es_CL", "es_CO", "es_ES", "es_MX", "et_EE", "fi_FI", "fr_CA", "fr_CH", "fr_FR",
    "ga_IE", "ha_NG", "hr_HR", "hu_HU", "id_ID", "ig_NG", "is_IS", "it_IT", "lt_LT", "lv_LV", "nl_BE", "nl_NL",
    "no_NO", "pl_PL", "pt_BR", "pt_PT", "ro_RO", "ru_RU", "sk_SK", "sl_SI", "sv_SE", "sw", "tr_TR", "tw_GH",
    "uk_UA", "vi_VN", "yo_NG", "zu_ZA", "az_AZ", "bg_BG",
)  # fmt: skip
PARTICLES = {"van", "von", "der", "den", "de", "du", "le", "la", "di", "da", "del", "ter", "ten", "het", "bin", "al",
             "dos", "das", "do", "zu", "y", "el", "ibn", "Ó", "Ní", "Mac", "Mc", "Nic"}  # fmt: skip
# words that stand right before a thing or a place but not before a person's name: "my Moto Razr", "in Galway City",
# "la Freebox Pop" (a person comes after a noun: "my husband Tom Berg"). Not "de": "au nom de Jean Dupont"
_BEFORE_THINGS = {
    "my", "your", "our", "their", "the", "a", "an", "in", "at", "mein", "meine", "meinem", "meinen", "unser",
    "unsere", "der", "die", "das", "dem", "den", "ein", "eine", "einem", "im", "mijn", "onze", "uw", "het",
    "een", "mon", "ma", "mes", "notre", "votre", "le", "la", "les", "un", "une", "au", "en", "à", "az", "egy",
}  # fmt: skip
# Colours and finishes devices are sold in, in the support languages; Hungarian's (Fekete, Fehér) open a surname-first
# name, and a colour a person's surname also ends ("Anna Green") is told apart by `_coloured`
_COLOURS = {
    "Black", "White", "Silver", "Gold", "Grey", "Gray", "Green", "Blue", "Red", "Pink", "Purple", "Yellow", "Titanium",
    "Graphite", "Bronze", "Lavender", "Violet", "Cream", "Beige", "Coral", "Navy", "Teal", "Mint", "Obsidian",
    "Porcelain", "Starlight", "Midnight", "Lime", "Copper", "Champagne", "Schwarz", "Weiß", "Silber", "Grau", "Blau",
    "Grün", "Rot", "Noir", "Blanc", "Gris", "Bleu", "Vert", "Rouge", "Zwart", "Wit", "Zilver", "Grijs", "Blauw",
    "Groen", "Rood",
}  # fmt: skip
_BEFORE_COLOURS = _BEFORE_THINGS | {"only", "nur", "alleen", "seulement", "csak"}  # "in Jade Green or only in ..."
_POSSESSIVE = re.compile(r"['’]s\Z")
_GERMAN_DATES = {  # capitalised in German, and after "Im" ("in the"), which reads like "I'm" typed in a hurry
    "Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November",
    "Dezember", "Frühling", "Sommer", "Herbst", "Winter", "Jahr", "Monat",
}  # fmt: skip
_MONTHS = _GERMAN_DATES | {"January", "February", "March", "May", "June", "July", "October", "December", "Juin", "Mei"}
# German pronouns capitalised mid-sentence ("Bitte rufen Sie Frau Berg zurück"), the labels of contact details
# ("Email J.O'Neill@...") and greetings ("Beste Johan", though Beste is also a Turkish first name): trimmed off a
# run when names are found, not when the model learns, whose threshold the look-alikes they open ("Sie Haus") set
_SKIP = frozenset(
    NOT_NAMES
    | {"Sie", "Ich", "Wir", "Ihnen", "Bitte", "Email", "E-mail", "Mail", "Phone", "Tel", "Telefon", "Address"}
    | GREETINGS
)
_COMMA_NAME = re.compile(r", ?([^\W\d_][^\W\d_'’-]*)(?![\w'’-])")
# A mail's display name before its address: 'From: "O'Sullivan, Ciarán" <c.osullivan@eircom.net>'
_DISPLAY_NAME = re.compile(
    rf"(?:\"([^\"\n<>@]{{2,60}})\"|((?:[{_UPPER}][\w'’.-]*,?[ \t]+(?:(?:{'|'.join(sorted(PARTICLES))})[ \t]+)*){{0,3}}"
    rf"[{_UPPER}][\w'’.-]*))[ \t]*<[^<>\s@]+@[^<>\s]+>"
)
# One word set off by a comma before a stop, a comma or the end: whom a message addresses or who signs it ("in the
# chat, Chloe.", "Yes, Maria: your bill", "Grüße aus Köln, Lukas"), or a first name after the message's last line
# break or dash ("- Declan"). Each opens with text: a pattern opening with a look-behind cost ten times as much.
_VOCATIVE = re.compile(r", (?P<name>[^\W\d_][\w'’-]*)(?=\s*[.!?:;,)]|[^\w\n]*\Z)")
_SIGNED = re.compile(r"(?:\n|[-–—] )[ \t]*(?P<name>[^\W\d_][\w'’-]*)[^\w\n]*\Z")
# A sign-off and one word ending the message: a signature, listed or scored as a name ("LG Tobi", "Thanks, Gazza"),
# and no everyday word, title, operator or country ("Thanks, Team")
_SIGN_OFFS = {
    "regards", "cheers", "thanks", "ta", "best", "love", "xoxo", "groet", "groeten", "groetjes", "mvg", "lg", "vg",
    "mfg", "grüße", "gruesse", "gruß", "gruss", "cordialement", "bises", "bisous", "merci", "üdv", "üdvözlettel",
    "köszi", "köszönöm",
}  # fmt: skip
_BEFORE_COMMA = re.compile(r"(\S+), \Z")
# One capitalised word inside a sentence, between lower-case words: "ask Sarah to call", "mit Jonas gesprochen"
_LONE = re.compile(rf"(?<=[{_LOWER}] )([{_UPPER}][{_LOWER}]+)(?![\w'’-]| [{_UPPER}\d])")
_LONE_BEFORE = re.compile(r"(\S+) \Z")
# A first name owning what a person owns ("Hamish's phone was stolen", "Anna's oude nummer"), anywhere; found from
# the "'s" back, as the colons are for labels
_OWNS = re.compile(
    rf"['’]s (?:[{_LOWER}]+ )?(?:phone|mobile|number|account|contract|sim|line|bill|tablet|laptop|ipad|iphone|router"
    r"|e-?mail|handset|plan|telefoon|nummer|abonnement|simkaart|rekening)\b"
)
_OWNER = re.compile(rf"(?<![\w'’-])([{_UPPER}][{_LOWER}]+)\Z")
# A first name in brackets ("The agent (Kyle) hung up"), or opening a sentence before where the person works
# ("Jasmine from your Dallas store told me", "Bas van de helpdesk zei")
_BRACKETED = re.compile(rf"\(([{_UPPER}][{_LOWER}]+)\)")
# A first name mentioned as a chat handle: "@Brianna thanks for sorting it" (an e-mail's "@" follows a word)
_HANDLE = re.compile(rf"@([{_UPPER}][{_LOWER}]+)(?![\w'’-])")
_WORKS_AT = re.compile(  # found first, then the word opening the sentence before it
    r" (?:from|van|von|vom|aus|de|du) (?:your|the|customer|tech|support|billing|uw|de|het|ihrem|ihrer|der|dem|votre"
    r"|la|le|l['’])\b"
)
_OPENING_WORD = re.compile(rf"(?:^|(?<=[.!?\n]))[ \t]*([{_UPPER}][{_LOWER}]+)\Z")
# A family by its surname ("an Familie Brandt", "Famille Martin", "fam. de Vries"): a listed surname only, since plans
# are named so too ("Familie Voordeel")
_FAMILY_OF = re.compile(rf"[Ff]am(?:il(?:ie|le)|\.) ((?:(?:de|van|der|den|le|la) )*[{_UPPER}][\w'’-]+)")
# Everyday words that are also written capitalised inside a sentence: German nouns, English months and title case.
# Not French or Dutch ones ("Pierre", "Claire", "Fleur", "Anders") nor the lorem ipsum Faker gives en_GB ("Maxime")
_CAPITALISED_WORDS = ("en_US", "de_DE")
# An article before a run of capitalised words: a product or a place, though a first name is among them ("the Ray-Ban
# Meta glasses", "die Tommy Hilfiger Jacke")
_ARTICLE_BEFORE = re.compile(r"(?:^|[^\w'’])(?i:the|an|le|la|les|der|die|das|het|een|ein|eine|un|une) \Z")
# German "an" (to) is no article: "Die Rechnung ging an Annegret Vogelsang", "Brief an Jens Ohlsen"
_GERMAN_AN = re.compile(r"(\S+) an \Z")
# Words before a place or a thing, not a person ("flying to Jordan", "from Paris", "der Router")
_PLACE_WORDS = {
    "to", "from", "near", "via", "into", "over", "around", "across", "through", "visit", "visiting", "fly", "flying",
    "going", "moved", "live", "living", "stay", "staying", "nach", "aus", "bei", "am", "zum", "zur", "aux", "naar",
    "uit", "bij", "te", "op",
}  # fmt: skip
# Words before a month, which is a first name too ("seit Mai", "ab August", "since May")
_DATE_WORDS = {"seit", "ab", "bis", "anfang", "ende", "mitte", "since", "until", "till", "sinds", "tot", "depuis"}
_TOKEN = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")  # "Max" of "Max's", "Müller-Lüdenscheidt" whole
_ABBREVIATIONS = {"Dr", "Mr", "Mrs", "Ms", "Mx", "Prof", "St", "Sr", "Jr", "Ing", "Mag", "Hr", "Fr", "Mme", "Mlle"}
_TITLES = _ABBREVIATIONS | {"Frau", "Herr", "Herrn", "Mevrouw", "Meneer", "Madame", "Monsieur", "Mademoiselle", "Miss",
                            "Sir", "Doctor", "Professor", "Familie", "Famille"}  # fmt: skip
# words of address: "Cheers, Mate" (Máté is a Hungarian name), "Thanks, Love"
_ADDRESS_WORDS = {"Mate", "Buddy", "Pal", "Bro", "Babe", "Honey", "Darling", "Love", "Chief", "Sweetie"}
_NEVER_ALONE = NOT_NAMES | _TITLES | NOT_SINGLE | _ADDRESS_WORDS  # no name on its own, whatever a list or model says
_PAIR = re.compile(  # two capitalised words side by side: a cheap test that most messages fail
    rf"[{_UPPER}][\w'’.-]*[ \t]+(?:(?:{'|'.join(sorted(p for p in PARTICLES if p.islower()))})[ \t]+)*[{_UPPER}]"
)
# sentences a person's name (person) and a thing's (thing) stand in, which decide where a run starts and ends
# ("Can {x} ..."); bench/pii.py and the tests read other sentences (tasks.evaluation.pii_set.NAME_TEMPLATES)
_PERSON = [
    "Please transfer the line to {x}.", "My wife {x} also has a SIM on this account.", "I spoke to {x} yesterday.",
    "The contract is in the name of {x}.", "Can {x} collect the router for me?", "{x} will be at home on Friday.",
    "Add {x} as an authorised user.", "The letter was addressed to {x}, who moved out.", "Is {x} allowed to pay?",
    "Ich habe gestern mit {x} telefoniert.", "Der Vertrag läuft auf {x}.", "Mijn zoon {x} gebruikt de tweede simkaart.",
    "{x} heeft de factuur betaald.", "Le contrat est au nom de {x}.", "J'ai parlé avec {x} au téléphone.",
    "A szerződés {x} nevén van.", "{x} fogja átvenni a csomagot.", "Forward the bill to {x}, please.",
    "Our tenant {x} needs internet in the flat.", "I'm writing on behalf of {x}.",
]  # fmt: skip
_THING = [
    "I switched to {x} last month.", "Does {x} work abroad?", "The {x} app keeps crashing.",
    "Is {x} included in my plan?", "I bought the {x} in your shop.", "Roaming in {x} costs too much.",
    "My bill lists {x} twice.", "Where do I find {x} in the menu?", "The error says {x}.", "{x} is not working.",
    "Ich habe {x} gebucht.", "Funktioniert {x} mit meinem Tarif?", "Werkt {x} ook in het buitenland?",
    "Is {x} bij mijn abonnement inbegrepen?", "Est-ce que {x} marche à l'étranger ?", "J'ai souscrit {x}.",
    "Működik a {x} külföldön?", "I moved to {x} in March.", "Open Settings > {x} and try again.",
    "The shop in {x} was closed.",
]  # fmt: skip
_ROMANIZED = ("zh_CN", "zh_TW", "ja_JP")  # names Faker also writes in Latin letters, for scripts without capitals
_WORDS_FROM = SUPPORT_LOCALES
_CITIES_FROM = ("de_DE", "es_ES", "pl_PL", "pt_PT", "nl_NL", "hu_HU")  # not it_IT: its towns vary with the hash seed
# capitalised things support messages name: products, plans, menus, services, greetings
_THINGS = [
    "Young Magenta", "Family Share", "Unlimited Max", "Galaxy Watch", "Apple Music", "Amazon Prime", "Disney Plus",
    "Mobile Data", "Data Roaming", "Wi-Fi Calling", "Customer Service", "Kind Regards", "Best Wishes",
    "Speedport Smart", "Fritz Box", "Live Box", "Google Pixel", "Fire Stick", "Prime Video", "Sky Sports",
    "Network Settings", "Airplane Mode", "Personal Hotspot", "Voice Mail", "Direct Debit", "Black Friday",
    "Happy New Year", "Good Morning", "Thank You", "Travel Pass", "World Cup", "Premier League", "Microsoft Teams",
    "Visual Voicemail", "Smart Home", "Business Pro", "Student Deal", "Magenta Eins", "Mein Konto", "Mijn Account",
    "Samsung Galaxy", "Huawei Nova", "Xiaomi Redmi", "Motorola Edge", "Nokia Lumia", "Sony Xperia", "Honor Magic",
    "Oppo Reno", "Nothing Phone", "Apple Watch", "Amazon Echo", "Google Nest", "Ring Doorbell", "Media Markt",
    "Saturn Online", "Best Buy", "Currys Online", "Deutsche Bahn", "Orange Money", "Vodafone Pass", "Free Mobile",
    "Espace Client", "Service Client", "Ügyfélszolgálat Online", "Telekom Home", "Easy Switch", "Fibre Max",
    "Play Store", "App Store", "Face Time", "Whats App", "Trust Pilot", "Euro Roaming", "Dual Sim",
]  # fmt: skip


@dataclass(frozen=True)
class Model:
    weights: np.ndarray  # float32, DIMENSION
    bias: float
    threshold: float

    def score(self, text: str, start: int, end: int) -> float:
        idx = _indices(features(text, start, end))
        return float(self.bias + self.weights[idx].sum())


def runs(text: str, skip: frozenset[str] = frozenset()) -> Iterator[tuple[int, int]]:
    """Runs of two to five capitalised words in one sentence on one line (name particles between them), in any
    cased alphabet; words of `skip` ("Can", "Dear") are trimmed off both ends."""
    if not _PAIR.search(text):
        return  # most messages: no two capitalised words side by side
    lines: list[list[re.Match[str]]] = []
    for word in _WORD.finditer(text):
        last = lines[-1][-1].group().rstrip("'’") if lines else ""  # "by Friday.' By the way" ends at the quote
        ends = last.endswith(".") and len(last) > 2 and last[:-1] not in _ABBREVIATIONS  # "Ok. Tell", not "Dr. Berg"
        if lines and not ends and re.fullmatch(r"[ \t]+", text[lines[-1][-1].end() : word.start()]):
            lines[-1].append(word)
        else:
            lines.append([word])
    for line in lines:
        run: list[re.Match[str]] = []
        for word in [*line, None]:
            if word is not None and (_capitalised(word.group()) or (run and word.group() in PARTICLES)):
                run.append(word)
                continue
            while run and (not _capitalised(run[-1].group()) or run[-1].group().rstrip(".") in skip):
                run.pop()
            while run and (run[0].group().rstrip(".") in skip or not _capitalised(run[0].group())):
                run.pop(0)  # "Ich bin Frau Berg": "bin" is a particle ("Osama bin Laden"), never a name's first word
            if 2 <= sum(_capitalised(w.group()) for w in run) <= 5:
                last = run[-1].group()
                yield run[0].start(), run[-1].end() - (last.endswith(".") and len(last) > 2)
            run = []


def _capitalised(word: str) -> bool:
    word = word.rstrip(".'’-")
    return bool(word) and word[0].isupper() and (len(word) == 1 or any(c.islower() for c in word[1:]))


def _shape(word: str) -> str:
    return re.sub(r"(.)\1+", r"\1\1", "".join("X" if c.isupper() else "x" if c.islower() else c for c in word))


def features(text: str, start: int, end: int) -> list[str]:
    """The run's words, their letters (n-grams, accents folded too) and shapes. The words around a run are left
    out: learned from a few dozen sentences, they taught the model those sentences rather than names."""
    words = text[start:end].split()
    out = [f"n={len(words)}"]
    for i, word in enumerate(words):
        low = word.lower().rstrip(".,")
        folded = "".join(c for c in unicodedata.normalize("NFD", low) if not unicodedata.combining(c))
        pos = "f" if i == 0 else "l" if i == len(words) - 1 else "m"
        out += [f"w={low}", f"{pos}w={low}", f"s={_shape(word)}", f"{pos}s={_shape(word)}"]
        for form in {low, folded}:
            padded = f"^{form}$"
            out += [f"g={padded[j : j + n]}" for n in (2, 3, 4) for j in range(len(padded) - n + 1)]
    return out


def _indices(feats: Iterable[str]) -> np.ndarray:
    return np.fromiter((zlib.crc32(f.encode()) % DIMENSION for f in feats), dtype=np.int64)


def names(text: str, model: Model | None = None) -> Iterator[tuple[int, int, float]]:
    """(start, end, score) of each run the model (default: `load()`'s) takes for a person's name. A run after a
    word that stands before things ("my", "in") is none; a run that opens a sentence is also scored without its
    first word ("Tell Anneke Berg"), and the better of the two is kept."""
    model = model or load()
    for start, end in filter(None, (_unowned(text, *run) for run in runs(text, _SKIP))):
        if _word_before(text, start) in _BEFORE_THINGS:
            continue
        first, *rest = text[start:end].split()
        if is_place([first, *rest], text[:start], text[end:]):
            continue
        if first == "Im" and set(rest) <= _GERMAN_DATES:
            continue  # German "Im März", not "I'm März"
        if _coloured(text, start, end):
            continue
        article = first.lower() in _BEFORE_THINGS  # "A Kálvin téren": the Hungarian article opens the sentence
        if article and len(rest) < 2:
            continue
        if article or FIRST_PERSON.fullmatch(first):  # "I'm Ann Baker": the name is what follows
            start, (first, *rest) = start + text[start:end].index(rest[0], len(first)), rest
        spans = [(start, end)]
        opening = text[:start].rstrip(" \t")
        if (not opening or opening[-1] in ".!?:\n") and len(rest) >= 2:
            spans.append((start + len(first) + 1, end))
        score, a, b = max((model.score(text, a, b), a, b) for a, b in spans)
        if score >= model.threshold:
            yield a, b, score


def spans(text: str, model: Model | None) -> list[tuple[int, int]]:
    """Every name in `text`: after a cue, holding a known first name, (where `model` is given) the runs it takes
    for names, and every other mention of their words. They may overlap; the caller merges them (Presidio's
    anonymizer does)."""
    learned = [(a, b) for a, b, _ in names(text, model)] if model is not None else []

    def single(start: int, end: int) -> bool:
        """A word where a cue says a name follows: a first name of any locale the model learns, or a word the model
        scores as one; not one of NOT_NAMES ("my husband Can't", though Can is a Turkish name; "Max" is lost). A word
        in capitals is read as written with a capital ("ZHANG" as "Zhang"), which is how the model learned names."""
        word, scored = text[start:end], text
        if len(word) > 1 and word.isupper() and len(titled := word.title()) == len(word):
            word, scored = titled, text[:start] + titled + text[end:]
        if word in _NEVER_ALONE:  # "Bonjour Madame", "Hi Alexa"
            return False
        return word in _listed() or (model is not None and model.score(scored, start, end) >= model.threshold)

    def listed(a: int, b: int) -> bool:
        """A capitalised word of text[a:b] is a listed first name or surname, or scores as a name."""
        return any(
            _capitalised(w.group())
            and w.group() not in _NEVER_ALONE
            and (single(a + w.start(), a + w.end()) or pii_uncased.surname(w.group()))
            for w in _TOKEN.finditer(text[a:b])
        )

    def everyday(a: int, b: int) -> bool:
        """A word of text[a:b] is an everyday one: "Account name: Family Plan", "Ms. Office 365"."""
        return any(w.lower() in everyday_words() for w in text[a:b].split())

    def titled(a: int, b: int) -> bool:
        """After a title, a word that is no everyday word: "Mr. Papadopoulos", not "Ms. Office 365", "Frau Hat"."""
        return after_title(text, a) and not everyday(a, b)

    def surname_first(a: int, b: int) -> bool:
        """One word, a comma and a first name: a form's "Kowalczyk, Marta" (the first name is found below)."""
        m = _COMMA_NAME.match(text, b)
        return " " not in text[a:b] and m is not None and _alone(m.group(1))

    # After a cue, one word, or words after an article ("Köszönöm, Telekom", "au nom de la Société Générale"), must be
    # a name on its own, and capitalised words no everyday one unless a name is listed among them ("Cordialement,
    # Service Client Free"); after a form's label, any words ("Naam: Onbekend")
    cued = [
        (a, b)
        for a, b in cued_names(text)
        if (" " in text[a:b] and text[a].isupper() and not everyday(a, b))
        or listed(a, b)
        or titled(a, b)
        or surname_first(a, b)
    ]
    labelled = [(a, b) for a, b in cued_names(text, labelled=True) if listed(a, b) or surname_first(a, b)]
    ends = [m for m in [_SIGNED.search(text, max(0, len(text) - 80))] if m]  # the last line only
    signed = [m.span("name") for m in [*_VOCATIVE.finditer(text), *ends] if _addressed(text, m)]
    signed += [span] if (span := _signed_off(text)) and _signature(text[slice(*span)]) and single(*span) else []
    alone = [m.span(1) for m in _LONE.finditer(text) if _lone_name(text, m)]
    owners = (_OWNER.search(text, max(0, m.start() - 24), m.start()) for m in _OWNS.finditer(text))
    alone += [m.span(1) for m in owners if m and _alone(m.group(1))]
    alone += [m.span(1) for m in _FAMILY_OF.finditer(text) if pii_uncased.surname(m.group(1).split()[-1])]
    working = (_OPENING_WORD.search(text, max(0, m.start() - 30), m.start()) for m in _WORKS_AT.finditer(text))
    alone += [m.span(1) for m in [*_BRACKETED.finditer(text), *working] if m and _alone(m.group(1))]
    handles = (m for m in _HANDLE.finditer(text) if m.start() == 0 or not re.match(r"[\w.-]", text[m.start() - 1]))
    alone += [m.span(1) for m in handles if _alone(m.group(1))]
    known = [(a, b) for a, b in known_names(text) if not _after_article(text, a) and not _coloured(text, a, b)]
    found = [*cued, *labelled, *signed, *alone, *known, *pii_uncased.spans(text, single), *learned]
    # a display name holding a name: "Vodaline Billing <billing@...>" stays
    shown = [m.span(m.lastindex) for m in _DISPLAY_NAME.finditer(text)] if "@" in text and "<" in text else []
    found += [(a, b) for a, b in shown if any(single(a + w.start(), a + w.end()) for w in _TOKEN.finditer(text[a:b]))]
    # a form's or a mail header's "Van der Berg, Pieter": the first name after the surname and a comma
    given = [
        m.span(1)
        for _, b in found
        if (m := _COMMA_NAME.match(text, b)) and _capitalised(m.group(1)) and single(*m.span(1))
    ]
    return [*found, *given, *_mentions(text, found)]


def _unowned(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The run up to a word that owns what follows it ("St. Patrick's Day", "Valentine's Day Promo"), or none where a
    word holds a digit ("Galaxy Z Flip6"): no person's name holds either. Applied where names are found, not where
    the model learns, so its examples and threshold stay as they were."""
    words = list(re.finditer(r"\S+", text[start:end]))
    if any(DIGIT.search(w.group()) for w in words):
        return None
    owner = next((i for i, w in enumerate(words[:-1]) if _POSSESSIVE.search(w.group())), len(words) - 1)
    kept = words[: owner + 1]
    return (start, start + kept[-1].end()) if sum(_capitalised(w.group()) for w in kept) >= 2 else None


def _coloured(text: str, start: int, end: int) -> bool:
    """A run ending in a colour names the finish a phone, a case or a router comes in ("Titanium Gray", "only Matte
    Black", "my Rose Gold iPhone", "in Sierra Blue"), unless it opens with a listed first name where a person may
    stand: "Anna Green" and "Tom Black" are people."""
    words = text[start:end].split()
    if words[-1].rstrip(".,") not in _COLOURS:
        return False
    return words[0] not in _listed() or _word_before(text, start) in _BEFORE_COLOURS


def _word_before(text: str, start: int) -> str:
    """The word right before `start`, in lower case ("" when none): "my" of "my Rose Gold iPhone"."""
    previous = re.search(r"([^\W\d_]+)\s+$", text[max(0, start - 20) : start])
    return previous.group(1).lower() if previous else ""


def _after_article(text: str, start: int) -> bool:
    """An article stands before `start`: what follows is a product or a place. German "an" after a German word is
    the preposition "to", which a person follows as often as a thing."""
    if not _ARTICLE_BEFORE.search(text, max(0, start - 8), start):
        return False
    german = _GERMAN_AN.search(text, max(0, start - 24), start)
    return not (german and german.group(1).lower() in everyday_words(("de_DE",)))


def _addressed(text: str, m: re.Match[str]) -> bool:
    """A listed first name, no country ("Jordan", "Georgia"), after a comma that ends no list of capitalised things
    ("Netflix, Disney, Amazon"): the word before the comma is lower case, a number, or opens its sentence ("Yes,
    Maria"), or the name ends the message ("Grüße aus Köln, Lukas"). The name model is not asked: it learned runs of
    words, and scores a lone "Germany" as a name."""
    if m.group("name") not in _listed() or m.group("name") in _countries() or m.group("name") in _NEVER_ALONE:
        return False
    before = _BEFORE_COMMA.search(text, max(0, m.start() - 40), m.start() + 2) if text[m.start()] == "," else None
    if before is None or not _capitalised(before.group(1)) or not text[m.end() :].strip(" \t\n.!?)"):
        return True
    return _sentence_start(text, before.start(1))


def _signed_off(text: str) -> tuple[int, int] | None:
    """The capitalised word ending the message right after a sign-off ("LG Tobi", "Thanks,\nBex!"), read from the
    end: a pattern tried at every position of the message's tail cost more than every other cue of the kind."""
    end = len(text.rstrip(" \t\n.!"))
    start = max(text.rfind(c, 0, end) for c in " \t\n") + 1
    word = text[start:end]
    if start == 0 or not (word[:1].isupper() and word[1:].islower() and word.isalpha()):
        return None
    words = text[max(0, start - 16) : start].rstrip(" \t\n,.!:").lower().split()
    return (start, end) if words and (words[-1] in _SIGN_OFFS or words[-2:] == ["thank", "you"]) else None


def _signature(word: str) -> bool:
    """A word that may sign a message after a sign-off: no everyday word, title, operator or country."""
    return _no_other_word(word, everyday_words())


def _lone_name(text: str, m: re.Match[str]) -> bool:
    """A first name (of any locale the model learns) standing alone in a sentence, after a lower-case word that does
    not stand before places or things, or after an everyday word opening the sentence ("Tell Dmitri"); and no
    everyday word, country or title: "ask Sarah to call", "möchte Emre als", "for Emma"; not "to Jordan", "in
    Florence", "the Summer"."""
    word = m.group(1)
    before = _LONE_BEFORE.search(text, max(0, m.start() - 24), m.start())
    previous = before.group(1) if before else ""
    if (
        previous.lower() in _PLACE_WORDS
        or previous.lower() in _BEFORE_THINGS
        or (previous.lower() in _DATE_WORDS and word in _MONTHS)
        or not (previous[:1].islower() or _opens_sentence(text, before.start(1) if before else 0, previous))
    ):
        return False  # "San Jose", "Lake Louise": a capitalised word before it makes a run, read elsewhere
    return _alone(word, hungarian=True)  # "szóljanak Eszternek"


def _alone(word: str, hungarian: bool = False) -> bool:
    """A listed first name (with `hungarian`, or one with a Hungarian case ending) that is a name on its own inside a
    sentence: no everyday word written capitalised there, no country, title or greeting."""
    named = word in _listed() or (hungarian and hungarian_first_name(word))
    return named and _no_other_word(word, everyday_words(_CAPITALISED_WORDS))


def _no_other_word(word: str, everyday: frozenset[str]) -> bool:
    """`word` is none of `everyday`, everyday first names ("Mark"), titles, operators, greetings or countries."""
    return (
        word.lower() not in everyday
        and word.lower() not in pii_uncased.EVERYDAY
        and word not in _NEVER_ALONE
        and word not in GREETINGS
        and word not in _countries()
    )


def _opens_sentence(text: str, start: int, word: str) -> bool:
    """`word`, at `start`, opens its sentence and is an everyday word there, no place's first word ("Tell", "Ask",
    not "Lake", "San")."""
    return _sentence_start(text, start) and word.lower() in everyday_words() and word not in PLACE_OPENERS


def _sentence_start(text: str, start: int) -> bool:
    """Nothing but spaces stands between `start` and the text's start or a stop before it."""
    opening = text[:start].rstrip()
    return not opening or opening[-1] in ".!?:"


@lru_cache(maxsize=1)
def _countries() -> frozenset[str]:
    """Country names as Faker writes them in the support languages."""
    return faker_lists("address", ("countries",), SUPPORT_LOCALES)


@lru_cache(maxsize=1)
def _listed() -> frozenset[str]:
    """The first names Faker lists for every locale the model learns from (about 19,000)."""
    return faker_names("first_names", LOCALES)


def _mentions(text: str, found: list[tuple[int, int]]) -> Iterator[tuple[int, int]]:
    """Each other mention of a found name's words on their own (a double name's parts too): "This is Anna Berg ...
    Berg is on the contract" would leak what the first mention masked. A mention opening a sentence that is also
    an everyday word there ("Will Smith here. Will you call?") is left."""
    words = {
        part
        for a, b in found
        for w in _WORD.finditer(text[a:b])
        for part in {w.group().rstrip("."), *w.group().rstrip(".").split("-")}
        if _capitalised(part) and len(part) > 2 and part not in NOT_NAMES and part not in _TITLES
    }
    for m in _TOKEN.finditer(text) if words else ():
        if m.group() not in words:
            continue
        if _sentence_start(text, m.start()) and m.group().lower() in everyday_words():
            continue
        yield m.start(), m.end()


def examples(locales: Iterable[str], seed: int, per_locale: int = 300) -> tuple[list[tuple[str, int, int]], list[int]]:
    """(text, start, end) of names (1) and look-alikes (0) in the person and thing sentences, seeded."""
    from faker import Faker

    rng = random.Random(seed)
    spans: list[tuple[str, int, int]] = []
    labels: list[int] = []

    def place(value: str, label: int) -> None:
        value = " ".join(value.split())
        template = rng.choice(_PERSON if (label == 1) == (rng.random() < 0.85) else _THING)
        text = template.replace("{x}", value)
        at = template.index("{x}")
        for start, end in runs(text, NOT_NAMES):
            spans.append((text, start, end))
            labels.append(int(label == 1 and start < at + len(value) and end > at))

    for locale in locales:
        fake = Faker(locale)
        fake.seed_instance(rng.randrange(2**32))
        for _ in range(per_locale):
            place(fake.name() if rng.random() < 0.5 else f"{fake.first_name()} {fake.last_name()}", 1)
    for locale in _WORDS_FROM:  # countries, jobs and words title-cased; German sentences with capitalised nouns
        fake = Faker(locale)
        fake.seed_instance(rng.randrange(2**32))
        for _ in range(per_locale):
            place(_title(rng.choice((fake.country, fake.job))()), 0)
        words = fake.words(3000, unique=False)
        for _ in range(len(spans) // (4 * len(_WORDS_FROM))):
            place(" ".join(_title(w) for w in rng.sample(words, rng.choice((2, 2, 3)))), 0)
    for locale in _CITIES_FROM:  # towns whose names are places, not made of people's names like en_US's
        fake = Faker(locale)
        fake.seed_instance(rng.randrange(2**32))
        for _ in range(per_locale):
            place(fake.city(), 0)
    fake = Faker("de_DE")
    fake.seed_instance(seed)
    for _ in range(1000):
        place(fake.sentence(nb_words=8).rstrip("."), 0)
    for thing in _THINGS:
        for _ in range(6):
            place(thing, 0)
    for locale in _ROMANIZED:  # "Zhang Wei", "Wei Zhang", "Hu Wen-chin": written either way round in Latin letters
        fake = Faker(locale)
        fake.seed_instance(rng.randrange(2**32))
        for _ in range(per_locale):
            words = _title(fake.romanized_name().lower()).split()
            place(" ".join(words if rng.random() < 0.5 else words[::-1]), 1)
    return spans, labels


def _title(text: str) -> str:
    return " ".join(w[:1].upper() + w[1:] for w in text.split())


def train(locales: Iterable[str] = LOCALES, seed: int = 0, per_locale: int = 300) -> Model:
    """Logistic regression on hashed features; the threshold from look-alikes held back from the fit."""
    from scipy.sparse import csr_matrix
    from sklearn.linear_model import LogisticRegression

    spans, labels = examples(locales, seed, per_locale)
    order = random.Random(seed).sample(range(len(spans)), len(spans))
    held = set(order[: len(order) // 5])
    rows = [_indices(features(*s)) for s in spans]
    fit = [i for i in range(len(spans)) if i not in held]
    data = csr_matrix((np.ones(sum(len(rows[i]) for i in fit)), np.concatenate([rows[i] for i in fit]),
                       np.cumsum([0] + [len(rows[i]) for i in fit])), shape=(len(fit), DIMENSION))  # fmt: skip
    clf = LogisticRegression(C=4.0, max_iter=2000, solver="liblinear", random_state=seed)
    clf.fit(data, [labels[i] for i in fit])
    weights = clf.coef_[0].astype(np.float32)
    bias = float(clf.intercept_[0])
    negatives = sorted(float(bias + weights[rows[i]].sum()) for i in held if labels[i] == 0)
    threshold = negatives[min(len(negatives) - 1, int(len(negatives) * (1 - TARGET_FPR)))]
    return Model(weights, bias, max(threshold, 0.0))


def ready() -> Model:
    """The model, with every list `spans` reads beside it (Faker's first names and countries, seconds to gather) read
    now rather than on the first text that needs them."""
    _listed()
    _countries()
    pii_uncased.ready()
    return load()


@lru_cache(maxsize=1)
def load() -> Model:
    """The model trained on every locale, from the user's cache; trained and written there (atomically) first."""
    code = Path(__file__).read_bytes() + Path(pii_rules.__file__).read_bytes()  # NOT_NAMES shapes its examples
    key = hashlib.sha256(code + version("faker").encode()).hexdigest()[:12]
    target = user_cache("pii-names") / f"{key}.npz"
    if not target.is_file():
        model = train()
        with atomic_writer(target) as fh:
            np.savez_compressed(fh, weights=model.weights, bias=model.bias, threshold=model.threshold)
        return model
    saved = np.load(target)
    return Model(saved["weights"], float(saved["bias"]), float(saved["threshold"]))
