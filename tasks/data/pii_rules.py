"""What PII looks like in support messages, in the six supported locales: candidate patterns and the checks that
reject look-alikes.

Regexes find candidates; checksums (python-stdnum: Luhn for cards, ISO 7064 mod-97 for IBANs), libphonenumber's
numbering plans and context (an "order"/"Bestellnummer"/"commande" number is not a phone or card) reject the false
positives that matter in support data. Private/loopback IPs (a router's 192.168.0.1) are configuration, not
personal data. E-mail addresses spelled out to dodge scrapers ("anna dot berg at web dot de") count too. Names are
a cue and the words after it, or a run of capitalised words holding a first name of the supported locales, unless
the run names a place ("Lake Louise", "rue Jean Jaurès"). National ids live in `tasks.data.pii_ids`, postal
addresses in `tasks.data.pii_addresses`; `tasks.data.pii_recognizers` wraps them all as Presidio recognizers.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterator
from functools import lru_cache

import phonenumbers
from stdnum import iban, luhn

Accept = Callable[[re.Match[str], str], bool]

_NOT_PII_CONTEXT = re.compile(  # the label of an id before a number, in the six locales: not a phone or card
    r"(?:order|ticket|case|invoice|ref(?:erence)?|tracking|contract|account|customer|serial|imei|sku|sn|s/n"
    r"|version|firmware|build|model"
    r"|bestell|auftrag|rechnung|kunden|vertrag|vorgang|sendung|serien|bestelling|factuur|klant|contract|dossier"
    r"|zaak|referentie|volg|commande|facture|référence|contrat|client|suivi|série|rendelés|megrendelés|számla"
    r"|ügyfél|szerződés|ügy|sorozat|hivatkozás)"
    r"\w{0,8}\s*(?:no\.?|number|nr\.?|id|#|nummer|numéro|n°|n[or]\.|szám|száma|azonosító)?\s*(?:is|ist|est|lautet|was|=)?\s*[:#]?\s*$",
    re.IGNORECASE,
)

# The local part and the host in any alphabet ("jürgen.weiß@gmx.de", "j.o'neill@example.com"): a class of ASCII
# letters alone would start the match after the first other letter and leave the name before it.
EMAIL = re.compile(r"(?<![\w%+-])\w[\w.'%+-]*@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}\b")
# An address spelled out so that scrapers miss it: "john.smith(at)gmail.com", "anna dot berg at web dot de",
# "kovacs.eva kukac freemail pont hu"; written out in words, only before a top-level domain people use.
_AT_WORDS = r"(?:at|kukac|arobase)"  # English, Hungarian, French
_BRACKETED_AT = rf"[(\[{{<]\s*(?:{_AT_WORDS}|@)\s*[)\]}}>]"
_AT = rf"(?:\s*{_BRACKETED_AT}\s*|\s+{_AT_WORDS}\s+)"
_DOT = r"(?:\s*[(\[{<]\s*(?:dot|punkt|punt|point|pont|\.)\s*[)\]}>]\s*|\s+(?:dot|punkt|punt|point|pont)\s+|\.)"
_TLD = r"(?:com|net|org|info|biz|io|eu|de|nl|hu|fr|uk|be|at|ch|us|it|es|pl|edu|gov|me)"
EMAIL_SPELLED = re.compile(
    rf"(?<![\w.@-])[A-Za-z0-9_%+-]+(?:{_DOT}[A-Za-z0-9_%+-]+)*{_AT}[A-Za-z0-9-]+(?:{_DOT}[A-Za-z0-9-]+)*{_DOT}{_TLD}\b",
    re.IGNORECASE,
)
_MAIL_HOSTS = re.compile(
    rf"\s{_AT_WORDS}\s+(?:g(?:oogle)?mail|yahoo|hotmail|outlook|live|icloud|aol|gmx|web|t-online|freenet"
    r"|ziggo|kpnmail|hetnet|planet|xs4all|freemail|citromail|orange|free|sfr|laposte|wanadoo|btinternet|sky"
    r"|virginmedia|proton(?:mail)?)\b",
    re.IGNORECASE,
)


_AT_WORD = re.compile(rf"{_BRACKETED_AT}|\s{_AT_WORDS}\s", re.IGNORECASE)  # the pattern's "at", without its \s*


def spelled_emails(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each e-mail address spelled out. Bracketed ("(at)") always; in plain words only where the
    name is not a word of the sentence ("bought it at Tesco dot com"): a dotted, numbered or underscored name, or
    a mail host people use. Text without an "at" word is not searched further (most of it)."""
    if not _AT_WORD.search(text):
        return
    for m in EMAIL_SPELLED.finditer(text):
        at = _AT_WORD.search(m.group())  # never None: the match holds its "at"
        name = m.group()[: at.start()]
        bracketed = re.search(r"[(\[{<]", at.group())
        if bracketed or re.search(rf"[\d_.]|{_DOT}", name, re.IGNORECASE) or _MAIL_HOSTS.search(m.group()):
            yield m.start(), m.end()


IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b", re.IGNORECASE)
CARD = re.compile(r"(?<![\d-])(?:\d[ -]?){11,18}\d(?![\d-])")
IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?!\.?\d)")  # not a firmware version's tail
IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{1,4}(?![\w:])")  # "::" too; checked after
# A phone never continues a code: "Reference ABC-1234-5678-9012" is no "ABC-<PHONE>"
PHONE = re.compile(  # an extension after a dash or an "x": "089 / 123 456-78", "(555) 013-4567 x22"
    r"(?<![\w+])(?<!\w[-/])(?:\+|00)?\(?\d[\d \-.()/]{6,18}\d(?:-\d{1,4})?(?:\s?(?:x|ext\.?)\s?\d{1,5})?(?![\w])"
)


def _latin(case: Callable[[str], bool]) -> str:
    """Every Latin letter of one case, as a character class's contents: names come from any Latin alphabet
    ("Brzęczyszczykiewicz", "Dragoș"), and a class that stops at one of their letters cuts the name in two."""
    return "".join(chr(c) for r in (range(0x41, 0x250), range(0x1E00, 0x1F00)) for c in r if case(chr(c)))


UPPER = _latin(str.isupper)
_LOWER = _latin(str.islower)
# Jean-Richard, O'Donnell, McDonald, Townsend-O'Donnell: capitalised pieces joined by a hyphen or an apostrophe.
# A piece opens with its joint or its capital, never with a lower-case letter: lower-case letters after lower-case
# letters would be split into pieces in every possible way before a run of words fails to match (2^n tries for a
# word of n letters, 80 % of the name rules' time on support text).
_WORD = rf"[{UPPER}](?:[{_LOWER}'’]+|['’](?=[{UPPER}]))(?:(?:[-'’][{UPPER}]?|[{UPPER}])[{_LOWER}'’]+)*"
_PARTICLE = r"(?:van|von|der|den|de|du|le|la|di|da|ter|ten|het|'t|el|ibn)"
_TITLE = (  # en, de, nl, fr
    r"(?:(?:Dr|Mr|Mrs|Ms|Mx|Prof|Ing|Mag|Dhr|Mevr|Mw|Hr|Mme|Mlle)\.?|M\.|Herrn?|Frau|Monsieur|Madame|Mademoiselle"
    r"|Meneer|Mevrouw)"
)
# A form's or a mail's label before a person's name, in the six languages, lower case (a colon follows it, in French
# after a space)
NAME_LABELS = (
    r"(?:account|contract|card|policy|line|subscription)[ -]?(?:holder|owner)|cardholder|policyholder|subscriber"
    r"|recipient|full name|customer name|bill to|(?:konto|vertrags|anschluss)?inhaber(?:in)?|vertragspartner(?:in)?"
    r"|kundin"
    r"|ansprechpartner(?:in)?|empfänger(?:in)?|vorname|nachname|(?:rekening|contract|abonnement)houder"
    r"|contactpersoon|tenaamstelling|naam|titulaire(?: du (?:compte|contrat|abonnement))?|destinataire|nom complet"
    r"|nom|prénom|nom de famille|név|előfizető|számlatulajdonos|címzett"
    r"|name (?:on|as on|as in) (?:the |my |your )?(?:card|account|contract|passport|id|bill|licen[cs]e)"
)
# Titles written in lower case mid-sentence, as French and Dutch do ("au nom de madame Dupont", "op naam van mevrouw
# Yildiz"), and Hungarian "dr." before a name
_LOWER_TITLE = r"(?:madame|monsieur|mademoiselle|mevrouw|meneer|mijnheer|dr\.)"
_NAME_WORDS = (
    rf"(?P<name>(?:{_TITLE}\s+)?(?:[{UPPER}]\.\s+)*(?:{_PARTICLE}\s+)*{_WORD}"
    rf"(?:\s+(?:{_PARTICLE}\s+)*(?:[{UPPER}]\.\s+)?{_WORD}){{0,3}})"
)
NAME = re.compile(  # a cue a person writes before their own or another's name, then the name
    r"(?P<cue>\b(?:[Mm]y name is|(?<![Pp]lan )(?<![Pp]roduct )(?<![Tt]ariff )[Nn]ame:|[Tt]his is|I'm|I am|"
    r"[Aa]ccount (?:holder|name):?|[Cc]ontact:|(?:[Hh]is|[Hh]er|['’]s) name(?: is|,)|[Ii]n the name of|[Oo]n behalf of|"
    r"[Oo]p naam van|[Aa]u nom de|[Aa]uf den Namen(?: von)?|"
    r"(?:[Kk]ind |[Bb]est |[Ww]arm )?[Rr]egards,|[Bb]est wishes,|[Tt]hanks,|[Tt]hank you,|[Cc]heers,|[Bb]est,|"
    r"[Ss]incerely,|[Yy]ours,|"
    # de, nl, fr, hu: introductions and sign-offs (German capitalises every noun: no "Ich bin" here)
    r"[Mm]ein Name ist|[Ii]ch heiße|(?:[Vv]iele|[Bb]este|[Ll]iebe|[Ff]reundliche) Grüße,?|[Gg]rüßen,|[Gg]ruß,|"
    r"[Mm]ijn naam is|[Ii]k heet|[Gg]roet(?:en|jes)?,|"
    r"[Jj]e m'appelle|[Jj]e m’appelle|[Mm]on nom est|[Cc]ordialement,?|[Bb]ien à vous,|[Mm]erci,|"
    rf"[Aa] nevem|[Nn]evem:?|[Üü]dvözlettel,?:?|[Tt]isztelettel,?:?|[Kk]öszönöm,)|\b(?:{_TITLE}|{_LOWER_TITLE})(?=\s))"
    rf"(?P<sep>\s+){_NAME_WORDS}"
)
_TITLED = re.compile(rf"\b(?:{_TITLE}|{_LOWER_TITLE})\s+$")
_LABELLED = re.compile(rf"\s+{_NAME_WORDS}")  # the name after one of NAME_LABELS and its colon
_LABEL_BEFORE = re.compile(rf"\b(?:{NAME_LABELS}) ?$")
_NAME_STOPWORDS = {
    "The", "This", "That", "Your", "Our", "Is", "Customer", "Support", "Team", "Vodaline", "Not", "Sorry", "Also",
    "Still", "Here", "Just", "Very", "Really", "So", "On", "In", "From", "At", "With", "Writing", "Calling",
    "Trying", "Having", "Using", "Looking", "Unable", "Happy", "Glad", "Please", "Hello", "Hi", "Thanks",
}  # fmt: skip

# Patterns that must not survive scrubbing; the validate stage checks the prepared data against them.
RESIDUAL_PATTERNS: dict[str, str] = {
    "email": EMAIL.pattern,
    "card": r"\b(?:\d{4}[ -]){3}\d{4}\b",
    "iban": r"(?i)\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){3,7}\b",
}


_ID_GROUPS = re.compile(r"(?:\b[A-Z0-9]*\d[A-Z0-9]*[ \t]+)+$")  # "1Z 999 AA1 ": an id's first groups


def preceded_by_id_label(text: str, start: int) -> bool:
    """An id's label stands right before `start`, or before the id's first groups of capitals and digits
    ("Tracking: 1Z 999 AA1 01 2345 6784" holds no phone)."""
    before = text[max(0, start - 40) : start]
    if _NOT_PII_CONTEXT.search(before[-30:]):
        return True
    groups = _ID_GROUPS.search(before)
    return bool(groups and _NOT_PII_CONTEXT.search(before[max(0, groups.start() - 30) : groups.start()]))


def _digits(s: str) -> str:
    return re.sub(r"\D", "", s)


_CARD_CUE = re.compile(
    r"(?:card|karte|carte|kaart|kártya|maestro|visa|mastercard|amex)\w*\b[^.!?\n]{0,30}$", re.IGNORECASE
)


def _is_card(m: re.Match[str], text: str) -> bool:
    digits = _digits(m.group())
    if digits[0] == "0":
        return False  # no card number starts with 0 (ISO/IEC 7812); "0049 171 2345678" is a phone
    if not 12 <= len(digits) <= 19 or not luhn.is_valid(digits) or preceded_by_id_label(text, m.start()):
        return False  # 12 digits (Maestro) only where the text says it is a card: most 12-digit runs are ids
    return len(digits) >= 13 or bool(_CARD_CUE.search(text[max(0, m.start() - 40) : m.start()]))


def iban_spans(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each valid IBAN. A pattern match can run on into the next word ("HU42 ... 0000 a
    számlaszámom" takes the Hungarian article as a last group): groups are dropped from the end until the rest
    checks out."""
    for m in IBAN.finditer(text):
        groups = m.group().split(" ")
        while len("".join(groups)) >= 15:
            if iban.is_valid("".join(groups).upper()):
                yield m.start(), m.start() + len(" ".join(groups))
                break
            groups.pop()


# RFC 5737 and RFC 3849: the ranges for documentation, which `ipaddress` counts as private
_DOCUMENTATION = tuple(
    ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")
)


# Public DNS resolvers (Cloudflare, Google, Quad9, OpenDNS, AdGuard): a setting support tells everyone to try, no one's
# address
_RESOLVERS = frozenset(
    ipaddress.ip_address(a)
    for a in ("1.1.1.1", "1.0.0.1", "8.8.8.8", "8.8.4.4", "9.9.9.9", "149.112.112.112", "208.67.222.222",
              "208.67.220.220", "94.140.14.14", "94.140.15.15", "2606:4700:4700::1111", "2606:4700:4700::1001",
              "2001:4860:4860::8888", "2001:4860:4860::8844", "2620:fe::fe")
)  # fmt: skip


def _is_public_ip(m: re.Match[str], text: str) -> bool:
    if preceded_by_id_label(text, m.start()):
        return False  # "Firmware 7.57.1.12", "version 10.2.0.4": a version, though it reads as a public address
    try:
        ip = ipaddress.ip_address(m.group())
    except ValueError:
        return False
    if ip in _RESOLVERS:
        return False
    if any(ip in net for net in _DOCUMENTATION):
        return True  # what examples and test data write for someone's public address; no router or LAN uses it
    return not (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_unspecified)


DIGIT = re.compile(r"\d")
_DAY, _MONTH = r"(?:0?[1-9]|[12]\d|3[01])", r"(?:0?[1-9]|1[0-2])"
_DATE = re.compile(  # real days and months only: Hungarian "06-20/641 6988" is a phone, not a date
    rf"(?<!\d)(?:\d{{4}}[-./]{_MONTH}[-./]{_DAY}|{_DAY}[-./]{_MONTH}[-./](?:\d{{4}}|\d{{2}})|{_MONTH}/{_DAY}/\d{{2,4}})"
    r"(?!\d)|\d{1,2}:\d{2}"
)
PHONE_REGIONS = ("US", "GB", "DE", "NL", "HU", "FR", "IN", "ES", "IT", "PL", "PT", "TR")
_PHONE_CUE = re.compile(
    r"(?:phone|call|tel|mobile|cell|contact|reach|text me|whatsapp|telefon|handy|rufnummer|anruf|téléphone|portable"
    r"|appel|joindre|mobiel|bellen|bel me|telefoonnummer|hív|mobil|elérhető)\w*\b[^.!?\n]{0,30}$",
    re.IGNORECASE,
)
_PAIRS = re.compile(r"0[1-9](?:[ .-]\d\d){4}")  # a French number in five pairs
_EXTENSION = re.compile(r"\s?(?:x|ext\.?)\s?\d{1,5}$")
_DOTTED_QUAD = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")


def _is_phone(m: re.Match[str], text: str) -> bool:
    s = _EXTENSION.sub("", m.group().strip())
    digits = _digits(s)
    if not 9 <= len(digits) <= 15 or preceded_by_id_label(text, m.start()):
        return False
    if _DATE.search(s) and not _PAIRS.fullmatch(s):  # "07.12.34.56.78" holds a date, but is a French mobile
        return False
    if _DOTTED_QUAD.match(s):
        return False  # an address like the router's 192.168.178.1, never a phone
    separators = set(re.sub(r"[\d+]", "", s))
    if separators == {"/"} and not s.startswith(("+", "0", "(")):
        return False  # rates and tiers: "110000/21000", "50/100/500/1000"
    # A bare run of digits is an id more often than a phone; real phones are written with a country prefix, a
    # trunk 0, or separators. A bare run is a phone only after a phone cue and where a numbering plan has it.
    if s.startswith(("+", "00", "0", "(")) or separators:
        return True
    return bool(_PHONE_CUE.search(text[max(0, m.start() - 40) : m.start()])) and _in_numbering_plan(s)


def _in_numbering_plan(number: str) -> bool:
    """libphonenumber: a valid number (length and prefixes) in one of the regions of the supported locales."""
    for region in PHONE_REGIONS:
        try:
            if phonenumbers.is_valid_number(phonenumbers.parse(number, region)):
                return True
        except phonenumbers.NumberParseException:
            continue
    return False


# Where two spans overlap, the higher score wins: an IBAN's digit groups are not a phone.
SCORES = {"EMAIL": 1.0, "IBAN": 0.95, "CARD": 0.9, "NATIONAL_ID": 0.87, "IP": 0.85, "PHONE": 0.8, "ADDRESS": 0.7,
          "NAME": 0.6}  # fmt: skip


def _always(m: re.Match[str], text: str) -> bool:
    return True


RULES: list[tuple[str, re.Pattern[str], Accept]] = [
    ("EMAIL", EMAIL, _always),
    ("CARD", CARD, _is_card),
    ("IP", IPV4, _is_public_ip),
    ("IP", IPV6, _is_public_ip),
    ("PHONE", PHONE, _is_phone),
]


SUPPORT_LOCALES = ("en_US", "en_GB", "de_DE", "nl_NL", "fr_FR", "hu_HU")  # the languages support is given in
NAME_LOCALES = (
    "en_US",
    "en_GB",
    "en_IN",
    "de_DE",
    "nl_NL",
    "hu_HU",
    "fr_FR",
    "es_ES",
    "it_IT",
    "pl_PL",
    "pt_PT",
    "tr_TR",
)
_CAPITALISED_RUN = re.compile(  # two to five capitalised words, initials and name particles between them
    rf"(?:(?:{_TITLE}|[{UPPER}]\.)\s+)*{_WORD}(?:\s+(?:(?:{_PARTICLE}|{_TITLE}|[{UPPER}]\.)\s+)*{_WORD}){{1,4}}"
)
NOT_NAMES = {  # capitalised words that open or close a run of them in support messages without being a name
    *_NAME_STOPWORDS, "Dear", "Hey", "Good", "Morning", "Evening", "Monday", "Tuesday", "Wednesday", "Thursday",
    "Friday", "Saturday", "Sunday", "January", "February", "March", "April", "June", "July", "August",
    "September", "October", "November", "December", "Kind", "Regards", "Best", "Wishes", "Yesterday", "Today",
    "Account", "Holder", "Contact", "Signed", "Subject", "Installation", "Bank", "Plan", "Could", "Can",
    "Why", "What", "How", "When", "Where", "Who", "My", "I", "Mobile", "Unlimited", "Family", "Share",
    "Young", "Smart", "Business", "Pro", "Travel", "Home", "Box", "Street", "Road", "Avenue", "Lane", "Galaxy",
    "Pixel", "Archer", "Netflix", "Disney", "Sport", "Sports", "Max", "Plus", "Ultra", "Mini", "Air", "Fibre",
    # determiners and possessives that open a sentence in de/nl/fr/hu ("Ma Livebox", "Meine Kundennummer")
    "Ma", "Mon", "Mes", "Notre", "Votre", "Cette", "Une", "Les", "Mein", "Meine", "Unser", "Unsere", "Ihr", "Ihre",
    "Die", "Das", "Ein", "Eine", "Mijn", "Onze", "Uw", "Het", "Een", "Az", "Egy", "Ez",
    # the sign-offs' nouns: "Beste Grüße" (Beste is a Turkish first name), "Hartelijke Groeten"
    "Grüße", "Grüßen", "Gruß", "Groeten", "Groet", "Salutations", "Cordialement", "Üdvözlettel",
}  # fmt: skip
# Words a one-word name check takes for names (Faker lists them, or the name model scores them as one) that name a
# language, a car, a voice assistant or a telecom operator of the supported markets here ("Hi Alexa", "Hey Siri",
# "into German", "Hoi Ziggo", "Bonjour Bouygues"): never a name on their own. Kept out of NOT_NAMES, which also shape
# the name model's look-alikes. "Ben" (Dutch operator) is a first name too, and stays one.
NOT_SINGLE = frozenset(
    {
        "German", "Mercedes", "Alexa", "Siri", "Cortana", "Bixby",
        "Verizon", "Sprint", "Comcast", "Xfinity", "Spectrum", "Vodafone", "Giffgaff", "TalkTalk", "Lebara", "Lyca",
        "Lycamobile", "Telekom", "Congstar", "Freenet", "Ziggo", "Odido", "Simyo", "Youfone", "Yettel", "Digi",
        "Orange", "Bouygues", "Sosh", "Proximus", "Swisscom",
        # articles and name particles, surnames' parts in the lists ("Le Gall", "De Jong"): "Cordialement, Le service"
        "Le", "La", "De", "Der", "Den", "Van", "Von", "Du", "Het",
    }
)  # fmt: skip
# Greetings before a name ("Bonjour Sophie", "Hallo Frau Schmidt"), trimmed off a run when names are found. Not among
# NOT_NAMES, which also shape the name model's look-alikes: as such, they moved its threshold from 2.43 to 2.14.
GREETINGS = frozenset(
    {"Hallo", "Moin", "Servus", "Hoi", "Beste", "Bonjour", "Bonsoir", "Salut", "Kedves", "Szia", "Hiya"}
)
_NO_OPENER = NOT_NAMES | GREETINGS  # no name starts with these


@lru_cache(maxsize=1)
def first_names() -> frozenset[str]:
    """First names of the supported locales, from Faker's providers (census and register lists)."""
    return faker_names("first_names") - NOT_NAMES


def faker_names(kind: str, locales: tuple[str, ...] = NAME_LOCALES) -> frozenset[str]:
    """`kind` ("first_names", "last_names"), male and female too, of each locale's Faker provider (by default the
    supported locales')."""
    return faker_lists("person", (kind, f"{kind}_male", f"{kind}_female"), locales)


def faker_lists(provider: str, attrs: tuple[str, ...], locales: tuple[str, ...]) -> frozenset[str]:
    """The strings Faker's `provider` ("person", "address", "lorem") lists under `attrs` in each locale (a weighted
    list's keys), as `Faker(locale)` would give them. Only that provider is built: a whole `Faker(locale)` imports
    every provider of its locale, about two seconds over the name model's 40 locales against 10 ms."""
    from faker import Factory

    values: set[str] = set()
    for locale in locales:
        for built in Factory.create(locale, providers=[f"faker.providers.{provider}"]).providers:
            for found in (getattr(built, attr, None) or () for attr in attrs):
                values.update(v for v in (found.keys() if isinstance(found, dict) else found) if isinstance(v, str))
    return frozenset(values)


@lru_cache(maxsize=4)
def everyday_words(locales: tuple[str, ...] = SUPPORT_LOCALES) -> frozenset[str]:
    """Faker's word lists of the support languages (or of `locales`), lower-cased: "will", "may", "hope" are words
    there before they are names."""
    return frozenset(w.lower() for w in faker_lists("lorem", ("word_list",), locales))


def _words(text: str) -> list[re.Match[str]]:
    return list(re.finditer(r"\S+", text))


def _is_first_name(word: str, known: frozenset[str]) -> bool:
    """A first name, a part of a double one (Jean-Richard), a Hungarian married name (Györgyné: György's wife), or
    a Hungarian first name with a case ending ("hívja vissza Fekete Zsoltot", "Annával", "Péterrel")."""
    parts = word.split("-")
    return any(
        part in known or (part.endswith("né") and part[:-2] in known) or _hu_stem(part) in _hu_first() for part in parts
    )


_HU_CASE = re.compile(r"(?:ot|et|öt|at|t|nak|nek|tól|től|hoz|hez|höz|nál|nél|ról|ről|ért|ra|re|ba|be|ban|ben|ként)$")
_HU_WITH = re.compile(r"([^aeiouáéíóöőúüű])\1[ae]l$")  # "-val"/"-vel" doubles a last consonant: Péterrel, Zsolttal


def _hu_stem(word: str) -> str:
    """The word less a Hungarian case ending, a stem's lengthened last vowel shortened back ("Annát": Anna);
    empty where no ending came off."""
    stem, doubled = _HU_WITH.subn(r"\1", word)
    if not doubled:
        stem = re.sub(r"[vV][ae]l$", "", word)
    if stem == word:
        stem = _HU_CASE.sub("", word)
    if stem == word or len(stem) < 3:
        return ""
    return stem[:-1] + {"á": "a", "é": "e"}.get(stem[-1], stem[-1])


def hungarian_first_name(word: str) -> bool:
    """A Hungarian first name with a case ending: "Eszternek", "Katalint", "Zsolttal", "Annának"."""
    stem = _hu_stem(word)
    return bool(stem) and stem in _hu_first()


@lru_cache(maxsize=1)
def _hu_first() -> frozenset[str]:
    return faker_names("first_names", ("hu_HU",))


# "I'm Ann Baker" is "I'm <NAME>", not "<NAME>", and "It's Tyler again" "It's <NAME> again": the sentence stays
FIRST_PERSON = re.compile(r"I['’]?(?:m|ve|ll|d)|It['’]?s")
# A run that opens with a place's first word or ends with a building's or a place's last word is a place named
# after someone ("Fort William", "Lake Louise", "Victoria Station", "Sankt Augustin"). None of these words is part
# of a person's name in Faker's lists for any locale the name model knows ("Hall", "Line", "Bridge" are).
PLACE_OPENERS = {
    "Lake", "Mount", "Mt", "Fort", "Port", "Cape", "Loch", "Saint", "Sainte", "Sankt", "Sint", "San", "Szent",
    "Royal", "Gare", "Rue", "Hôpital", "Lycée", "Collège", "Église", "Parc", "Quai", "Boulevard", "Aéroport", "Stade",
    "Place", "Avenue", "Allée", "Impasse", "Chemin", "Hotel", "Hôtel", "Musée", "Museum", "Théâtre", "Institut",
    "École", "Université", "Centre", "Château", "Basilique", "Cimetière", "Jardin", "Schloss", "Klinikum", "Stadion",
    "Kasteel", "Paleis", "Kerk", "Prinses", "Koningin", "Princess", "Prinzessin",
}  # fmt: skip
PLACE_CLOSERS = {
    "Station", "Hospital", "Island", "Islands", "Airport", "Centre", "Center", "Square", "Cathedral", "College",
    "University", "School", "Stadium", "Arena", "Bay", "River", "Valley", "Beach", "Castle", "Palace", "Gardens",
    "Market", "Tower", "Hotel", "Theatre", "Theater", "Museum", "Library", "Academy", "City", "County", "Harbour",
    "Falls", "Springs", "Heights", "Terminal", "Platz", "Straße", "Strasse", "Allee", "Bahnhof", "Hauptbahnhof",
    "Kirche", "Krankenhaus", "Klinik", "Brücke", "Flughafen", "Universität", "Schloss", "Hafen", "Stadion", "Plein",
    "Kerk", "Ziekenhuis", "Memorial", "Monument", "Statue", "Fountain", "Gallery", "Galerie", "Cottage", "Manor",
    "Chapel", "Causeway", "Tunnel", "Wharf", "Quay", "Dock", "Docks", "Reservoir", "Lighthouse", "Observatory",
    "Planetarium", "Zoo", "Aquarium", "Auditorium", "Building", "Campus", "Clinic", "Infirmary", "Hospice", "Prison",
    "Institute", "Foundation", "Cinema", "Gymnasium", "Schule", "Grundschule", "Realschule", "Gesamtschule",
    "Hochschule", "Akademie", "Halle", "Sporthalle", "Stiftung", "Denkmal", "Turm", "Bibliothek", "Kino",
    "Gasse", "Weg", "Ufer", "Markt", "Sporthal", "Brug", "Schouwburg", "Kliniek", "Universiteit",
    "Hogeschool", "Lyceum", "Huis", "Centrum",
}  # fmt: skip
# Hungarian writes a place's word after the name, in lower case and with its case ending ("a Kossuth Lajos téren":
# on Kossuth Lajos Square, "a Semmelweis Ignác kórházban"), and the article before it; an institution's word is
# capitalised in its name ("a Széchenyi István Egyetemen"). Only those are read capitalised: "Park" closes a Korean
# name.
_HU_ENDING = r"(?:ban|ben|on|en|ön|an|n|ra|re|ról|ről|nál|nél|hoz|hez|höz|ból|ből|ba|be|tól|től|ig|i|nak|nek)?"
_HU_INSTITUTION = (
    r"egyetem|főiskol[aá]|iskol[aá]|gimnázium|kollégium|kórház|rendelő|templom|bazilik[aá]|színház|múzeum|könyvtár"
    r"|csarnok|pályaudvar|állomás|repülőtér|stadion|fürdő"
)
_HU_PLACE = re.compile(rf"(?:{_HU_INSTITUTION}|utc[aá]|út|körút|tér|rakpart|fasor|sétány|liget|park|híd|strand)"
                       rf"{_HU_ENDING}")  # fmt: skip
_HU_NAMED = re.compile(rf"(?:{_HU_INSTITUTION}){_HU_ENDING}")


_ELISION = r"[lLdD]['’]"  # French "l'" and "d'" before a vowel
_ELIDED = re.compile(_ELISION)
_WORD_BEFORE = re.compile(rf"(?:^|\s)(?:{_ELISION})?([^\W\d_]+)\s+$")  # "l'Hôpital ": Hôpital
_ARTICLES = {"The", "Le", "La", "Les", "De", "Het", "Der", "Die", "Das", "Im", "Am", "Zum", "Zur", "Au", "A", "Az"}
_WORD_AFTER = re.compile(r" ([^\W\d_]+)\b")  # " téren": téren (lower case: a capital opens something else)
# The same words in lower case after the name, as English, Dutch and German chat write them ("the Winston Churchill
# building", "het Vincent van Gogh museum"): a place only after an article, since a person's name comes without
# one and may stand before such a word ("Winston Barnes, building manager").
_LOWER_CLOSERS = {w.lower() for w in PLACE_CLOSERS} | {"wing", "bridge", "hall", "concert", "arena", "tunnel"}


def is_place(words: list[str], before: str = "", after: str = "") -> bool:
    """A run of capitalised words that names a place or a building, though it holds a person's name; `before`,
    the text before the run, may hold the place's first word ("l'Hôpital Georges Pompidou"), and `after`, the text
    after it, its last ("a Kossuth Lajos téren")."""
    previous = _WORD_BEFORE.search(before[-30:])
    following = _WORD_AFTER.match(after)
    last = words[-1].rstrip(".,")
    opener = words[1] if words[0] in _ARTICLES and len(words) > 2 else words[0]  # "Im Hotel Friedrich Wilhelm"
    if _ELIDED.match(opener):  # "L'impasse du Moulin"
        opener = opener[2:].capitalize()
    return (
        opener.rstrip(".") in PLACE_OPENERS
        or last in PLACE_CLOSERS
        or bool(_HU_NAMED.fullmatch(last.lower()))
        or bool(previous and previous.group(1).capitalize() in PLACE_OPENERS)  # French writes "rue", "place"
        or bool(following and _HU_PLACE.fullmatch(following.group(1)) and _after_article(words, previous))
        or bool(following and following.group(1) in _LOWER_CLOSERS and _after_article(words, previous))
    )


def _after_article(words: list[str], previous: re.Match[str] | None) -> bool:
    """An article stands before a place ("a Kossuth Lajos téren", "the Winston Churchill building"), not before a
    person ("Kiss Mária kórházban van": Mária Kiss is in hospital)."""
    return words[0] in _ARTICLES or bool(previous and previous.group(1).capitalize() in _ARTICLES)


def _opens_name(word: str) -> bool:
    """No cue word, no "I'm", no particle ("In het Vincent van Gogh"): a word a name can start with."""
    return word[0].isupper() and word.rstrip(".") not in _NO_OPENER and not FIRST_PERSON.fullmatch(word)


def known_names(text: str) -> Iterator[tuple[int, int]]:
    """Runs of capitalised words holding a known first name; the words around it that are not names stay."""
    known = first_names()
    for m in _CAPITALISED_RUN.finditer(text):
        words = _words(m.group())
        start = next((i for i, w in enumerate(words) if _opens_name(w.group())), len(words))
        end = len(words) - next((i for i, w in enumerate(reversed(words)) if w.group() not in NOT_NAMES), len(words))
        kept = [w.group() for w in words[start:end]]
        if len(kept) < 2:
            continue
        a, b = m.start() + words[start].start(), m.start() + words[end - 1].end()
        if is_place(kept, text[:a], text[b:]) or is_place(
            [w.group() for w in words], text[: m.start()], text[m.end() :]
        ):
            continue  # "Avenue Jean Jaurès": the place word is among the words the run was trimmed of
        if any(_is_first_name(w, known) for w in kept):
            yield a, b


def after_title(text: str, start: int) -> bool:
    """A title stands right before `start` ("Mr. Papadopoulos", "mevrouw Yildiz")."""
    return bool(_TITLED.search(text[max(0, start - 16) : start]))


def after_labels(text: str) -> Iterator[int]:
    """Where the text after each of NAME_LABELS and its colon starts ("Vertragsinhaber: ..."). Found from the colons
    back: a scan of every position for forty labels cost a cue pattern 10 µs a message."""
    colon = text.find(":")
    while colon != -1:
        if _LABEL_BEFORE.search(text[max(0, colon - 32) : colon].lower()):
            yield colon + 1
        colon = text.find(":", colon + 1)


def cued_names(text: str, labelled: bool = False) -> Iterator[tuple[int, int]]:
    """The name after a cue, up to the first word that is not part of one ("This is Anna Berg Please call"); with
    `labelled`, the capitalised words after each of NAME_LABELS instead, which the caller checks ("Naam: Onbekend")."""
    found = (_LABELLED.match(text, start) for start in after_labels(text)) if labelled else NAME.finditer(text)
    for m in found:
        if m is None:
            continue
        words = _words(m.group("name"))
        kept = next((i for i, w in enumerate(words) if w.group() in _NAME_STOPWORDS), len(words))
        if kept:
            yield m.start("name"), m.start("name") + words[kept - 1].end()
