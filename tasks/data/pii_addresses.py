"""Postal addresses as people write them in the supported locales, not only as Faker formats them.

A street is found first: its name, its type and its number in the order the locale writes them ("14 Kingfisher
Close", "Keizersgracht 221-H", "Váci utca 12. 3/4.", "12 bis, avenue Foch", "Hohe Str. 41"). The span then grows
over what stands beside a street in an address, as long as something does: a flat, an apartment or a house name
before it, a postcode and town before it (Hungarian and German orders; a Hungarian street's town alone), a unit,
a postcode and town, a UK postcode or a US state and ZIP code after it. A street written without a number ("Church
Lane"), or whose type is also an everyday word ("Car Park", "North Gate"), counts only with a UK postcode or a US
ZIP code after it. The town is part of the address: "<ADDRESS>, Bristol BS7 8QT" leaks where the person lives.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from tasks.data.pii_rules import UPPER as _U  # upper-case letters of the supported locales
from tasks.data.pii_rules import faker_lists

_CAP = rf"[{_U}](?:[^\W\d_]|['’.-])*"  # a capitalised word, no digits: Kensington, Karl-Marx-Allee, O'Connell
_LINK = r"(?:in|an|am|der|den|sur|sous|la|le|les|de|bei|im|upon|on)"  # Broek in Waterland, Frankfurt am Main
_TOWN = rf"[{_U}][\w'’-]+(?:[ -](?:{_LINK}[ -])?[{_U}][\w'’-]+){{0,2}}"
_NUMBER = r"\d{1,5}(?:\s?(?:bis|ter)\b|[A-Za-z]\b|-[A-Za-z0-9]{1,3}\b|/\d{1,4}[A-Za-z]?\b)?"


def _and_capitals(words: str) -> str:
    """`words` ("Street|Road") and the same in capitals, as shipping labels and forms write them."""
    return f"{words}|{words.upper()}"


_EN_TYPE = (  # the words, then the abbreviations, which may end in a dot ("Oak Ridge Dr.")
    "(?:(?:"
    + _and_capitals(
        "Street|Road|Avenue|Lane|Drive|Court|Way|Place|Square|Terrace|Close|Crescent|Mews|Hill|Gardens|Grove"
        "|Parkway|Rise|Parade|Highway|Boulevard|Circle|Trail|Vale|Wharf|Heights|Meadows?|Plaza|Broadway"
    )
    + r")\b|(?:"
    + _and_capitals("St|Rd|Ave|Ln|Dr|Ct|Pl|Sq|Ter|Cres|Gdns|Pkwy|Hwy|Blvd|Cir")
    + r")\b\.?)(?:\s(?:NW|NE|SW|SE|N|S|E|W)\b)?"
)
# Street types that are also everyday words ("Terminal 2 North Gate", "Level 3 Car Park"): only before a postcode.
_EN_WEAK_TYPE = r"(?:Park|View|Green|Gate|Walk|Row|Yard|End|Chase|Fields|Estate)\b"
_DE_NL_SUFFIX = (  # street types written onto the name: Lindenstraße, Keizersgracht, Laan van ... is below
    r"(?i:straße|strasse|str\.|weg|gasse|platz|allee|damm|ufer|chaussee|straat|laan|gracht|plein|kade|singel"
    r"|dijk|steeg|markt|schans|burgwal|dreef)"
)
# Whom a Dutch or German street is named for, written before its name: "Burgemeester de Withstraat", "Prins
# Hendrikkade", "Graf-Adolf-Straße" is one word already
_NAMED_FOR = (
    r"(?:Burgemeester|Dokter|Professor|Koningin|Koning|Prinses|Prins|Graaf|Sint|Generaal|Pastoor|Kardinaal|Doktor"
    r"|Kaiser|König|Königin|Prinz|Graf|Sankt|Bischof)"
)
_FR_VOIES = ("rue", "avenue", "boulevard", "chemin", "allée", "impasse", "place", "quai", "route", "cours", "square",
             "passage", "voie", "sentier")  # fmt: skip
_FR_TYPE = "(?i:" + "|".join([*_FR_VOIES, r"av\.", r"bd\.?", "résidence"]) + ")"  # before a number, abbreviated too
# A street without its number: each type with its first letter in either case ((?i:) in a long alternation is slow)
_FR_VOIE = "(?:" + "|".join(f"[{w[0].upper()}{w[0]}]{w[1:]}" for w in _FR_VOIES) + ")"
_FR_ARTICLE = r"(?:(?:de|du|des|la|le|les)\s+|(?:d|l)['’])*"
_HU_TYPE = (
    "(?:" + _and_capitals(r"utca|u\.|út|útja|tér|tere|körút|krt\.|köz|sor|sétány|fasor|rakpart|lakótelep|ltp\.") + ")"
)
_HU_FLOOR = (  # II. em. 5., 2. emelet 5. ajtó, 3/4., fszt. 1., fsz. 1.
    r"(?:\s?(?:(?:[IVX]{1,4}|\d{1,2})\.?\s?(?:em\.|emelet)\s?\d{1,3}\.?(?:\s?ajtó)?|\d{1,2}/\d{1,3}\.?"
    r"|fszt?\.?\s?\d{0,3}\.?))?"
)

_STREETS = [
    re.compile(p)
    for p in (
        # 14 Kingfisher Close, 220 W 42nd St, 1600 Amphitheatre Pkwy, 1600 Pennsylvania Ave NW, 14/3 Marchmont Crescent
        rf"(?<![\w.:/+-])\d{{1,5}}(?:/\d{{1,3}})?[A-Za-z]?\s+(?:(?:[NSEW]|North|South|East|West)\.?\s+)?"
        rf"(?:(?:{_CAP}|\d{{1,3}}(?:st|nd|rd|th))\s+){{1,3}}{_EN_TYPE}(?=\W|$)",
        # lower-cased text: only types that are not also common words
        r"(?<![\w.:/+-])\d{1,5}[a-z]?,?\s+(?:[nsew]\s+)?(?:(?:[a-z]+|\d{1,3}(?:st|nd|rd|th))\s+){1,2}"
        r"(?:street|avenue|road|lane|boulevard|st|ave|rd|ln|blvd)\b",
        # Lindenstraße 8a, Keizersgracht 221-H, Oudegracht 14bis, Dorpsstraat 3 A, Karl-Marx-Allee 90
        rf"\b(?!(?:Park|Stell|Arbeits|Sitz|Spiel)platz)[{_U}][\w'’-]*{_DE_NL_SUFFIX}\s+{_NUMBER}"
        r"(?:\s[A-Z](?=[,\s]))?",
        r"\b[a-zäöüß]+(?:straße|strasse|straat)\s+\d{1,4}[a-z]?\b",
        # Hohe Str. 41, Berliner Allee 5, Laan van Meerdervoort 1200, Unter den Linden 77, Am Markt 3
        rf"\b{_CAP}(?:\s(?:van|von|der|den|de|het|'t|am|an)){{0,2}}\s(?:Str\.|Straße|Strasse|Weg|Allee|Platz|Gasse"
        rf"|Markt|Ring|{_CAP}(?=\s\d{{1,4}}\S*,?\s+\d{{4,5}}\s+[{_U}]))\s+{_NUMBER}",  # a town after the postcode
        # Laan van Meerdervoort 54, Weg der Verenigde Naties 1: a Dutch street's type first, then whose it is
        rf"\b(?:Laan|Weg|Plein|Kade|Dijk|Singel|Gracht|Straat|Dreef|Baan)\s(?:van|der|den|op|naar)(?:\s(?:de|der|den|het))?"
        rf"\s{_CAP}(?:\s{_CAP})?\s+{_NUMBER}",
        # Am Markt 3, 04109 Leipzig, with its postcode: "Im Mai 2025" is no address
        rf"\b(?:Am|An der|Auf der|Im|In der|Unter den|Zum|Zur)\s{_CAP}\s+{_NUMBER}(?=,?\s+\d{{5}}\s)",
        # 27 rue des Acacias, 12 bis, avenue Foch, 8, boulevard Victor Hugo, 3 place Bellecour
        rf"(?<![\w.:/+-])\d{{1,4}}(?:\s?(?:bis|ter|[A-Z])\b)?,?\s+{_FR_TYPE}\s+{_FR_ARTICLE}[{_U}][\w'’-]*"
        rf"(?:\s+{_FR_ARTICLE}[{_U}][\w'’-]*){{0,3}}",
        # PO Box 2231, Postfach 10 12 34, Postbus 1200, Pf. 200 (Hungarian), BP 45 (French)
        r"\b(?:P\.?\s?O\.?\s?Box|Postfach|Postbus|Pf\.|Postafiók|B\.?P\.?)\s\d{1,6}(?:\s\d{2}){0,2}\b",
    )
]
# Váci utca 12. 3/4., Andrássy út 60., Kárász u. 5., Baross Gábor út 15., Piac utca 20. II. em. 5., Október 6. utca
# 7. and Október huszonharmadika u. 21. (streets named after a date, the day in figures or in words); the town may
# stand before it without a postcode ("Budapest, Andrássy út 60.")
_HU_STREET = re.compile(
    rf"\b[{_U}][\w]+(?:\s[{_U}][\w]+){{0,2}}(?:\s\d{{1,2}}\.|\s[a-zéáőűúöüóí]+[ae])?"
    rf"\s{_HU_TYPE}\s\d{{1,4}}(?:/[A-Za-z0-9]{{1,3}})?\.?{_HU_FLOOR}"
)
# 9400 Sopron, Várkerület 55.: a Hungarian street with no type, known by the postcode and town before it
_HU_UNTYPED = re.compile(rf"(?<![\w.,-])\d{{4}}\s{_TOWN},\s[{_U}]\w+(?:\s[{_U}]\w+)?\s\d{{1,4}}\.(?!\d){_HU_FLOOR}")
_LINE = re.compile(  # a street with its number, then postcode and town: the whole line, as Faker writes them too
    r"(?:"
    rf"(?:[{_U}][\w'’.-]*|rue|avenue|boulevard|chemin|allée|place|impasse|quai)(?:[ -][\w'’.-]+){{0,3}}"
    r"\s\d{1,5}(?:[-/]\d{1,4})?[a-zA-Z]?\.?(?:\s[A-Z](?=,))?"  # Paulo-Schleich-Straße 19, Ceglédi tér 11., Voorhout 3 A
    r"|(?<![\w.:/+-])(?<!\d\s)\d{1,5}[a-zA-Z]?,?\s(?:[\w'’.-]+\s){0,3}[\w'’.-]+(?:\s(?:Apt\.|Suite|Unit|Flat)\s\d+)?"
    rf"|(?:rue|avenue|boulevard|chemin|allée|impasse|quai)\s(?:(?:de|du|des|la|le)\s|d'|l')?[{_U}][\w'’-]+"
    rf"(?:\s[{_U}][\w'’-]+){{0,2}}"  # chemin Duhamel: a French street written without its number
    rf"|(?:Flat|Studio|Apartment|Unit)\s\d+[A-Za-z]?,?\s(?:[{_U}][\w'’-]*\s?){{1,3}}"  # Studio 9, Robson Dale
    rf"|(?:[Ll]ieu-dit|[Hh]ameau)\s(?:[{_U}][\w'’-]*\s?){{1,3}}"  # Lieu-dit Le Moulin: a French hamlet, no number
    r"),?\s+(?:H-\d{4}|\d{4}\s?[A-Z]{2}(?![a-z])|\d{5}|[A-Z]{1,2}\d[A-Z\d]?\s\d[A-Z]{2}|\d{4})"
    rf"\s+{_TOWN}"
)
# Chemin des Vignes, 84000 Avignon: a French street of any type without its number, in either case, before a postcode
_FR_UNNUMBERED = re.compile(
    rf"\b{_FR_VOIE}\s{_FR_ARTICLE}[{_U}][\w'’-]+(?:\s[{_U}][\w'’-]+){{0,2}},?\s+\d{{5}}\s+{_TOWN}"
)
# A street with no number, or with a weak type: an address only where a UK postcode or a US ZIP code follows.
_UNNUMBERED = re.compile(
    rf"(?<![\w.:/+-])(?:\d{{1,5}}[A-Za-z]?\s+)?(?:{_CAP}\s+){{1,3}}(?:{_EN_TYPE}|{_EN_WEAK_TYPE})(?=\W|$)"
)

# A Dutch or German street with no type at all ("Het Rond 6", "Hoge Woerd 3", "Neuer Wall 10"): known by the word
# it opens with and a town Faker lists after it, so "FritzBox 7590, Berlin" is no address.
_UNTYPED = re.compile(
    r"\b(?:De|Het|'t|Oude|Nieuwe|Lange|Korte|Hoge|Lage|Grote|Kleine|Alte[rs]?|Neue[rs]?|Hohe[rs]?|Große[rs]?"
    rf"|Breite[rs]?|Obere[rs]?|Untere[rs]?)\s{_CAP}\s(?!(?:19|20)\d\d\b){_NUMBER},\s+({_TOWN})"
)
_UK_POSTCODE = r"[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}\b"
_US_STATES = (  # written out on forms and by hand: "Chicago, Illinois 60614"
    "Alabama|Alaska|Arizona|Arkansas|California|Colorado|Connecticut|Delaware|Florida|Georgia|Hawaii|Idaho|Illinois"
    "|Indiana|Iowa|Kansas|Kentucky|Louisiana|Maine|Maryland|Massachusetts|Michigan|Minnesota|Mississippi|Missouri"
    "|Montana|Nebraska|Nevada|New Hampshire|New Jersey|New Mexico|New York|North Carolina|North Dakota|Ohio|Oklahoma"
    "|Oregon|Pennsylvania|Rhode Island|South Carolina|South Dakota|Tennessee|Texas|Utah|Vermont|Virginia|Washington"
    "|West Virginia|Wisconsin|Wyoming|District of Columbia"
)
_US_STATE_ZIP = rf"(?:[A-Z]{{2}}|{_US_STATES})\s\d{{5}}(?:-\d{{4}})?\b"
_POSTCODE = r"(?:[A-Z]{1,2}-)?(?:\d{5}|\d{4}\s?[A-Z]{2}(?![a-z])|\d{4})"
_US_CODES = (  # the states' codes, as a lower-cased address writes them after its town: "springfield il 62704"
    "al|ak|az|ar|ca|co|ct|de|fl|ga|hi|id|il|in|ia|ks|ky|la|me|md|ma|mi|mn|ms|mo|mt|ne|nv|nh|nj|nm|ny|nc|nd|oh|ok|or"
    "|pa|ri|sc|sd|tn|tx|ut|vt|va|wa|wv|wi|wy|dc"
)
_FUNCTION_WORDS = r"(?:and|or|in|on|at|to|of|for|the|with|from|by|about|than|me|my|is|are|was)"  # "and in 62704 cases"
_FR_UNIT = r"bâtiment|bât\.|escalier|esc\.|appartement|appt\.?"  # before the street or after it: "escalier C"
_BEFORE = [  # what may stand before a street, matched against the text up to it
    re.compile(  # Flat 3, Flat 2/1 (a Glasgow tenement: floor and door), bâtiment B, escalier 2, Whg. 4
        rf"(?:Flat|Apt\.?|Apartment|Unit|Suite|Studio|Building|Wohnung|Whg\.|(?i:{_FR_UNIT}|étage))\s+\w{{1,4}}"
        r"(?:/\w{1,3})?,?\s+$"
    ),
    re.compile(r"(?:Basement|Ground[- ]Floor|First[- ]Floor|Top[- ]Floor|Top|Garden|Upper|Lower)\s+(?i:flat),?\s+$"),
    re.compile(rf"(?:{_TOWN},?\s+)?[IVX]{{1,5}}\.\s?(?:kerület|ker\.),?\s+$"),  # Budapest XI. kerület,
    re.compile(
        rf"(?:The\s+)?(?:{_CAP}\s+){{0,3}}(?:House|Cottage|Farm|Lodge|Rectory|Barn|Mill|Manor|Hall|Villa|Court|Tower"
        r"|Apartments|Mansions|Buildings?),?\s+$"
    ),
    re.compile(rf"(?:Résidence|Residence|Immeuble|Villa)\s+(?:{_CAP}\s?){{1,3}},?\s+$"),  # Résidence Les Pins,
    re.compile(  # a Berlin back building and its floor: Hinterhaus, 3. OG links,
        r"(?:(?:Hinterhaus|Vorderhaus|Seitenflügel|Gartenhaus|Quergebäude|Aufgang\s[A-Z0-9]),?\s+)?"
        r"(?:\d{1,2}\.\s?(?:OG|Stock|Etage)(?:\s(?:links|rechts|Mitte))?|EG|DG),?\s+$"
    ),
    re.compile(rf"The\s+(?:{_CAP}\s+)?{_CAP},\s+$"),  # a house's name: The Willows, The Old Forge,
    re.compile(rf"{_NAMED_FOR}\s+(?:(?:van|von|de|der|den|ter|ten)\s+)*$"),  # Burgemeester de Withstraat 4
    re.compile(rf"(?<![\w.,-])\d{{4,5}}\s+{_TOWN},?\s+$"),  # 1052 Budapest, / 50667 Köln,
    re.compile(r"(?i:c/o|chez|t\.a\.v\.|z\.\s?hd\.?)\s[^,\n]{2,40},\s+$"),  # c/o Werkstatt Meier, / chez Mme Petit,
]
_TOWN_BEFORE = re.compile(rf"(?<![\w.,-]){_TOWN},\s+$")  # Budapest, Andrássy út 60.: Hungarian streets only
_AFTER = [  # what may follow a street (or what grew after it), matched at the end of the span
    re.compile(r",?\s+(?i:apt\.?|apartment|suite|ste\.?|unit|flat|fl\.?|floor|#)\s?\w{1,4}\b"),
    re.compile(r",?\s+(?:\d{1,2}\.\s?(?:OG|Stock|Etage)|EG|DG|UG)\b"),  # a German floor: 3. OG, EG
    re.compile(rf",?\s+(?i:{_FR_UNIT})\s+\w{{1,4}}\b"),
    re.compile(rf",?\s+(?:{_TOWN},?\s+){{1,2}}(?:{_UK_POSTCODE}|{_US_STATE_ZIP})"),
    re.compile(rf",?\s+(?:{_UK_POSTCODE}|{_US_STATE_ZIP})"),
    re.compile(rf",?\s+{_POSTCODE}\s+{_TOWN}"),
    # written in lower case: a town, then a state's code and ZIP code, or a UK postcode ("york yo24 1ab")
    re.compile(
        rf",?\s+(?:(?!{_FUNCTION_WORDS}\s)[a-z]+\s){{1,2}}"
        rf"(?:(?:{_US_CODES})\s\d{{5}}(?:-\d{{4}})?|[a-z]{{1,2}}\d[a-z\d]?\s?\d[a-z]{{2}})\b"
    ),
]
_TOWN_AFTER = re.compile(rf",\s+{_TOWN}(?=\s*(?:[.!?;:)\n]|$))")  # ..., Utrecht.  (the address ends there)
_TOWN_NAMED = re.compile(rf",\s+({_TOWN})")  # ..., Zwolle komen: a listed town, whatever follows it
_REACH = 80  # characters read before a street for a flat, a house name, a postcode and town
_POSTAL = re.compile(rf"(?:{_UK_POSTCODE}|{_US_STATE_ZIP})$")


def _grow(text: str, start: int, end: int, hungarian: bool) -> tuple[int, int]:
    """The span widened over address parts beside it, until none is left."""
    grown = True
    while grown:
        grown = False
        for pattern in _AFTER:
            if m := pattern.match(text, end):
                end, grown = m.end(), True
        offset = max(0, start - _REACH)  # what stands before a street is short: no scan of a long text's start
        for pattern in [*_BEFORE, *([_TOWN_BEFORE] if hungarian else [])]:
            if m := pattern.search(text[offset:start]):
                start, grown = offset + m.start(), True
                break
    if m := _TOWN_AFTER.match(text, end):
        end = m.end()
    elif m := _TOWN_NAMED.match(text, end):
        end = _listed_town(text, m) or end
    return start, end


def _listed_town(text: str, m: re.Match[str]) -> int | None:
    """Where the longest listed town that opens m's words ends: Dutch and German put the verb after it ("naar
    Kerkstraat 5, Zwolle komen"), so only a town Faker lists by name counts there."""
    words = m.group(1).split()
    for k in range(len(words), 0, -1):
        if " ".join(words[:k]) in _towns():
            return m.start(1) + len(" ".join(words[:k]))
    return None


@lru_cache(maxsize=1)
def _towns() -> frozenset[str]:
    """The towns Faker lists by name: Germany's and the Netherlands' (the other locales' are made up)."""
    return faker_lists("address", ("cities",), ("de_DE", "nl_NL"))


def spans(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each address in `text`; spans may overlap (the analyzer merges them)."""
    for pattern in [*_STREETS, _LINE, _FR_UNNUMBERED, _HU_UNTYPED]:
        for m in pattern.finditer(text):
            yield _grow(text, m.start(), m.end(), hungarian=False)
    for m in _UNTYPED.finditer(text):
        if town_end := _listed_town(text, m):
            yield _grow(text, m.start(), town_end, hungarian=False)
    for m in _HU_STREET.finditer(text):
        yield _grow(text, m.start(), m.end(), hungarian=True)
    for m in _UNNUMBERED.finditer(text):
        start, end = _grow(text, m.start(), m.end(), hungarian=False)
        if end > m.end() and _POSTAL.search(text, max(0, end - 16), end):
            yield start, end
