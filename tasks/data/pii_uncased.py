"""Names as people type them in a chat or a form: in lower case or in capitals after an introduction, a sign-off or a
form's label ("my name is john smith", "thanks, anna", "Account holder: JOHN SMITH", "Name: SMITH, John"), and a
single first name after a family word ("my son Liam", "meine Tochter Lena") or a person called so ("a guy called
Tariq").

Without capitals nothing marks where a name starts or ends, so a word counts only where such a cue announces a
name and Faker's lists know it: a first name of the supported languages (as any country that speaks them writes
it), then up to two of the supported locales' surnames or name particles ("maria gonzalez", "jan de vries"). First
names that are also everyday words ("mark", "grace", "frank", "rose") count here only capitalised.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import lru_cache

from tasks.data.pii_rules import (
    NOT_NAMES,
    NOT_SINGLE,
    UPPER,
    after_labels,
    after_title,
    everyday_words,
    faker_names,
    first_names,
)

Single = Callable[[int, int], bool]

# What stands between a cue and the name: spaces, a line break, a title in lower case ("recipient: mr peter hall")
_GAP = r"[ \t]*\n?[ \t]*(?:(?:mr|mrs|ms|miss|dr|herr|frau|mevrouw|meneer|madame|monsieur)\.?[ \t]+)?"
_INTRODUCTION = re.compile(
    r"(?:\bmy name is|\bname is|\bname:(?<!plan name:)(?<!product name:)(?<!tariff name:)|\bsigned:"
    r"|\baccount (?:holder|name):?|\bcontact:|\battn:?|\bc/o|\bship to:?|\bdeliver to:?|\bt\.a\.v\.|\bz\. ?hd\.?"
    r"|\bà l'attention de"
    r"|\bin the name of|\bon behalf of|\bop naam van|\bau nom de|\bauf den namen(?: von)?"
    r"|\bthis is|\bi am|\bi['’]?m|\bmein name ist|\bich heiße|\bich bin|\bje m['’]appelle"
    r"|\bje suis|\bmon nom est|\bmijn naam is|\bik ben|\bik heet|\ba nevem|\bnevem|\bask for|\bspeak to"
    r"|(?:\b(?:kind |best |warm )?regards|\bbest wishes|\bgr(?:ü|ue)(?:ß|ss)en?|\bgru(?:ß|ss)|\bcordialement"
    r"|\bgroet(?:en|jes)?|\büdvözlettel|\btisztelettel|\blg|\bvg|\bmfg|\bbien à vous|\bbonne (?:journée|soirée)"
    r"|\bbises|\bà bientôt)[,:]?|(?:\bthanks|\bthank you|\bmany thanks|\bcheers|\bbest|\bmerci|\bdanke|\bbedankt"
    r"|\bköszönöm)(?: in advance| d'avance| im voraus| alvast| előre)?(?:[,:]| [-–—]))" + _GAP
)  # in lower case, matched against the text lowered: three times faster than IGNORECASE on every message
_HEADER = re.compile(r"^(?:from|cc):" + _GAP, re.MULTILINE)  # a mail header pasted in lower case: "from: kevin"
_AFTER_LABEL = re.compile(_GAP, re.IGNORECASE)
_FAMILY = re.compile(
    r"\b(?:(?:my|our|mein(?:e|em|en)?|unser(?:e|em|en)?|mon|ma|notre|mijn|onze)\s+(?:ex-?)?(?:son|daughter|wife|husband"
    r"|partner|mother|father|mum|mom|dad|brother|sister|grandson|granddaughter|grandmother|grandfather|neighbou?r"
    r"|colleague|friend|boss|sohn|tochter|frau|mann|mutter|vater|bruder|schwester|nachbarin|nachbar|kollegin"
    r"|kollege|fils|fille|femme|mari|mère|père|frère|s(?:œ|oe)ur|voisine|voisin|collègue|zoon|dochter|vrouw|man"
    r"|moeder|vader|broer|zus|buurvrouw|buurman|collega|assistant|secretary|pa|landlord|landlady|tenant|flatmate"
    r"|roommate|carer|cousin|uncle|aunt|nephew|niece|fianc[ée]e?|girlfriend|boyfriend|grandma|grandpa|nan|stepson"
    r"|stepdaughter|enkel|enkelin|onkel|tante|freundin|freund|vermieter|vermieterin|mieter|mieterin|oom|neef|nicht"
    r"|vriendin|vriend|huisbaas|oncle|cousine|copine|copain|amie?|propriétaire|locataire|employer|manager)"
    r"|(?:a |az )?(?:fiam|lányom|feleségem|férjem|anyám|apám"
    r"|öcsém|bátyám|húgom|nővérem|szomszédom|kollégám)),?[ \t]+"  # "my son, Liam", "A fiam, Ádám"
)
_GREETING = re.compile(  # "Hi Sarah,", "Dear John", "Thanks Priya!", "Hallo Jens", "Bonjour Sophie", "its tyler again"
    r"(?:^|(?<=[\s,.!?]))(?:hi|hiya|hello|hey|dear|morning|thanks|thank you|cheers|hallo|moin|servus|liebe|lieber"
    r"|hoi|beste|bonjour|bonsoir|salut|coucou|chère|cher|kedves|szia|sziasztok|helló|it['’]?s(?: me,?)?)"
    r"(?:[ \t]+(?:again|so much|very much|a lot|loads|nochmal|encore|nogmaals|még egyszer),?)?[ \t]+"
)
# One or two words opening a sentence, then what says they are the writer's name: "Emma here", "Imogen again",
# "Anna hier", "kiss dóra vagyok" (Hungarian: I am ...), "Nóra vagyok"
_NAME_FIRST = re.compile(
    r"(?:^|(?<=[.!?,\n]))[ \t]*((?:[^\W\d_]+ )?(?!(?:here|hier)\b)[^\W\d_]+) (?:here|again|hier|vagyok)\b"
)
# A person called so ("a guy called Tariq", "eine Frau namens Ilse", "un technicien nommé Karim"), or whom the writer
# spoke to ("I spoke to Brianna", "gebeld met Sanne", "j'ai eu Camille au téléphone"): one pattern, one pass
_CALLED = re.compile(
    r"\b(?:(?:guy|man|woman|lady|gentleman|girl|boy|person|someone|somebody|technician|engineer|agent|adviser"
    r"|advisor|rep|representative|chap|bloke|caller|mann|frau|herr|techniker|mitarbeiter(?:in)?|jemand|meneer"
    r"|mevrouw|monteur|medewerker|iemand|homme|femme|dame|monsieur|technicien(?:ne)?|conseill(?:er|ère)"
    r"|quelqu'un),?[ \t]+(?:called|named|by the name of|namens|genaamd|nommée?|appelée?|du nom de)"
    r"|spoke (?:to|with)|spoken (?:to|with)|talked (?:to|with)|chatted (?:to|with)|speaking (?:to|with)"
    r"|got through to|put through to|was helped by|dealt with"
    r"|gebeld met|gesproken met|contact gehad met|gesprochen mit|telefoniert mit|j['’]ai eu|parlé (?:à|avec)"
    r"|beszéltem)[ \t]+"
)
# Two or three words in capitals with no cue ("RE: ticket 4471 - CARLOS MENDOZA"): a name only as a listed first
# name then listed surnames, since capitals also shout words ("PLEASE CALL BACK")
_SHOUTED_RUN = re.compile(rf"\b[{UPPER}][{UPPER}'’-]+(?: [{UPPER}][{UPPER}'’-]+){{1,3}}\b(?![\w'’-])")
_SIBLINGS = ("en_IE", "en_NZ", "en_AU", "en_CA", "de_AT", "de_CH", "nl_BE", "fr_BE", "fr_CA", "fr_CH")
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+|['’][^\W\d_]{2,})*")  # "Emma" of "Emma's", "o'brien" whole
_PARTICLES = {"van", "von", "der", "den", "de", "du", "le", "la", "di", "da", "del", "ter", "ten", "het", "dos"}
EVERYDAY = {  # first names in Faker's lists that are everyday words in lower case
    "amber", "angel", "autumn", "bill", "carol", "chase", "crystal", "dale", "dawn", "destiny", "don", "earl",
    "ernst", "faith", "frank", "glen", "grace", "guy", "holly", "hunter", "ivy", "jack", "jade", "joy", "lily",
    "mark", "mason", "penny", "ray", "rose", "sandy", "summer", "virág", "rózsa", "győző", "roos",
}  # fmt: skip


@lru_cache(maxsize=1)
def _first() -> frozenset[str]:
    """The supported locales' first names, and those of the same languages as other countries write them ("jeroen"
    is in nl_BE's list, not nl_NL's), less NOT_NAMES and the everyday words there ("hope", "line")."""
    siblings = {n.lower() for n in faker_names("first_names", _SIBLINGS) - NOT_NAMES} - everyday_words()
    return frozenset({n.lower() for n in first_names()} | siblings) - EVERYDAY - {n.lower() for n in NOT_SINGLE}


@lru_cache(maxsize=1)
def _last() -> frozenset[str]:
    """Surnames of the supported locales in lower case, each word of a double one ("de Vries": vries)."""
    return frozenset(part for name in faker_names("last_names") for part in name.lower().split())


def ready() -> None:
    """Read the name lists `spans` reads (Faker's, about half a second) now rather than on the first text."""
    _first()
    _last()


def surname(word: str) -> bool:
    """A surname of the supported locales, or a word of a double one, in any case."""
    return word.lower() in _last()


def _is_first(word: str) -> bool:
    """A first name in lower case or in capitals as the lists know it; capitalised, an everyday one too ("Mark")."""
    if word.islower() or _shouted(word):
        return word.lower() in _first()
    return word.lower() in _first() or word.lower() in EVERYDAY


def _shouted(word: str) -> bool:
    return len(word) > 1 and word.isupper()


def _capitalised(word: str) -> bool:
    return word[:1].isupper() and word[1:2].islower()


def _name_after(text: str, start: int, surnames: int, single: Single | None = None) -> tuple[int, int] | None:
    """The first name at `start` and up to `surnames` surnames or particles after it (or, in Hungarian order, a
    surname and then the first name: "kovács éva"), or None. Where the cue itself says a name follows ("my son",
    "a guy called"), a capitalised word that `single` takes for a name is one too, with the capitalised words
    after it: "Siobhan" and "Oluwaseun" are names there though the six locales' lists lack them, "Liverpool" in
    "my son Liverpool fan" is not."""
    first = _WORD.match(text, start)
    if first is None:
        return None
    if single is not None and _capitalised(first.group()) and (single(*first.span()) or _paired(text, first)):
        end, taken = first.end(), 0
        while taken < surnames and text[end : end + 1] == " " and (word := _WORD.match(text, end + 1)):
            if not _capitalised(word.group()) or word.group() in NOT_NAMES:
                break
            end, taken = word.end(), taken + 1
        return first.start(), end
    if not _is_first(first.group()):  # surname first: Hungarian order, or a form's "SMITH, John"
        gap = re.match(r",? ", text[first.end() : first.end() + 2])
        given = _WORD.match(text, first.end() + len(gap.group())) if gap else None
        surname_first = first.group().lower() in _last()
        return (first.start(), given.end()) if surname_first and given and _is_first(given.group()) else None
    end, taken = first.end(), 0
    while taken < surnames and text[end : end + 1] == " " and (word := _WORD.match(text, end + 1)):
        if word.group().lower() not in _last() and word.group().lower() not in _PARTICLES:
            break
        end, taken = word.end(), taken + 1
    return first.start(), end


def _shouted_after(text: str, start: int, single: Single) -> tuple[int, int] | None:
    """A name in capitals after a cue or a label, whose first name no list holds ("Name on the card: WEI ZHANG"):
    each word one `single` takes for a name, or a listed surname, and no everyday word. Not in a message written all
    in capitals ("MERCI, BONNE JOURNÉE"), where capitals say nothing and only listed names count."""
    if text.isupper():
        return None
    end = start
    while end == start or (text[end : end + 1] == " " and end - start < 60):
        word = _WORD.match(text, end + (end > start))
        if word is None or not _shouted(word.group()) or word.group().lower() in everyday_words():
            break
        if not (single(*word.span()) or (end > start and surname(word.group()))):
            break
        end = word.end()
    return (start, end) if end > start else None


def _paired(text: str, first: re.Match[str]) -> bool:
    """A capitalised word before a listed surname, no title or word of NOT_NAMES: "buurman Kees Smit", whose first
    name no list knows; not "Bonjour Monsieur Dupont"."""
    after = _WORD.match(text, first.end() + 1) if text[first.end() : first.end() + 1] == " " else None
    return (
        after is not None
        and _capitalised(after.group())
        and surname(after.group())
        and first.group() not in NOT_NAMES
        and not after_title(text, after.start())
    )


def shouted(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each listed first name in capitals followed by one or two listed surnames in capitals."""
    for m in _SHOUTED_RUN.finditer(text):
        words = list(re.finditer(r"\S+", m.group()))
        for i, first in enumerate(words[:-1]):
            if not _is_first(first.group()):
                continue
            last = i
            while last + 1 < len(words) and last - i < 2 and surname(words[last + 1].group()):
                last += 1
            if last > i:
                yield m.start() + first.start(), m.start() + words[last].end()
                break


def spans(text: str, single: Single) -> Iterator[tuple[int, int]]:
    """(start, end) of each name typed in lower case after a cue or a form's label, in capitals as a listed first name
    and surname, or standing alone after a family word, a greeting, "a guy called" or "I spoke to"; `single(start,
    end)` says whether a capitalised word there is a name."""
    low = text.lower()
    if len(low) != len(text):
        low = text  # a letter whose lower case is longer ("İ"): keep the text's positions, miss capitalised cues
    labels = (start + len(_AFTER_LABEL.match(text, start).group()) for start in after_labels(text))
    headers = _HEADER.finditer(low) if "from:" in low or "cc:" in low else ()
    for start in [m.end() for m in [*_INTRODUCTION.finditer(low), *headers]] + list(labels):
        word = _WORD.match(text, start)
        uncased = word is not None and (word.group()[0].islower() or _shouted(word.group()))
        found = [_name_after(text, start, 2), _shouted_after(text, start, single)] if uncased else []
        if kept := [span for span in found if span]:  # the longer: the first stops at a surname no list holds
            yield max(kept, key=lambda span: span[1])
    for m in _NAME_FIRST.finditer(low):
        words = m.group(1).split(" ")  # the name is both words ("kiss dóra") or the last ("én nóra vagyok")
        starts = [m.start(1)] if len(words) == 1 else [m.start(1), m.start(1) + len(words[0]) + 1]
        for start in starts:
            if (span := _name_after(text, start, 1)) and span[1] == m.end(1):
                yield span
                break
    yield from shouted(text)
    for cue in (_FAMILY, _CALLED, _GREETING):
        for m in cue.finditer(low):
            if span := _name_after(text, m.end(), 2, single):
                yield span
