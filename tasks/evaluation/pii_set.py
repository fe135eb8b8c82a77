"""A labelled PII set in six locales, for measuring the scrubber (tests and bench/pii.py) on values nobody here
wrote: Faker's names, phone numbers, streets, IBANs, cards, e-mails and public IPs for en_US, en_GB, de_DE,
nl_NL, hu_HU and fr_FR, in support messages, beside look-alike negatives (plan names, router IPs, firmware
versions, line rates, order numbers) that must come through unchanged.

TEMPLATES are what the scrubber's cues were tuned on; HELDOUT was written afterwards and only measures.
NAME_TEMPLATES and NAME_NEGATIVES measure the learned name model on locales it was not trained on.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tasks.data.pii_names import Model

LOCALES = ("en_US", "en_GB", "de_DE", "nl_NL", "hu_HU", "fr_FR")
TYPES = ("NAME", "PHONE", "EMAIL", "ADDRESS", "IBAN", "CARD", "IP")

TEMPLATES = [  # {TYPE} slots; written for this set, not taken from the training generator
    "Hi, I'm {NAME} and my number {PHONE} has had no signal since Monday.",
    "Please send the new SIM to {ADDRESS}. Thanks, {NAME}",
    "My direct debit should come from {IBAN}, not the old account.",
    "The card {CARD} was charged twice for March, can you check?",
    "Kind regards,\n{NAME}\n{PHONE}",
    "Account holder: {NAME}, e-mail {EMAIL}. Why was my order cancelled?",
    "Someone logged into my account from {IP} last night, was that you?",
    "Can the engineer call {PHONE} before coming to {ADDRESS}?",
    "I moved to {ADDRESS}, please update my billing address.",
    "Refund to {IBAN} please, account name {NAME}.",
    "My e-mail is {EMAIL} and my mobile is {PHONE}.",
    "This is {NAME}. My router at {IP} keeps dropping the connection.",
    "Best wishes, {NAME} ({EMAIL})",
    "The payment with card {CARD} failed although the bank says it's fine.",
    "Could you confirm the contract for {NAME} at {ADDRESS}?",
    "Reach me at {EMAIL} or on {PHONE} after 6pm.",
    "I am {NAME}, customer since 2015, and my phone {PHONE} was stolen.",
    "Installation address: {ADDRESS}. Contact: {NAME}, {PHONE}.",
    "Please stop calling {PHONE}, I already cancelled.",
    "Bank details for the refund: {NAME}, {IBAN}.",
]
HELDOUT = [  # written after the scrubber's cues were tuned on TEMPLATES; never tuned on (bench/pii.py reports both)
    "Hello, {NAME} here. The router keeps rebooting, call me on {PHONE}.",
    "Please update the address on file to {ADDRESS}.",
    "From: {NAME} <{EMAIL}>\nSubject: broken SIM\nThe SIM stopped working yesterday.",
    "Signed, {NAME}",
    "My husband {NAME} wants to be added to the family plan, his mobile is {PHONE}.",
    "Delivery to {ADDRESS} failed twice, the courier says nobody was home.",
    "Pay the refund into {IBAN} (owner {NAME}).",
    "Yesterday my card ending in the number {CARD} was declined in the shop.",
    "Regards\n{NAME}\n{ADDRESS}\n{PHONE}",
    "The login from {IP} wasn't me! My e-mail is {EMAIL}.",
]
IN_LANGUAGE = {  # held out too: whole messages in the locale's language, written after the cues of every language
    "de_DE": [
        "Guten Tag, hier spricht {NAME}. Mein Anschluss ist seit gestern tot, bitte unter {PHONE} melden.",
        "Bitte schicken Sie die Rechnung an {ADDRESS}, ich bin umgezogen.",
        "Die Lastschrift soll ab jetzt von {IBAN} abgebucht werden.\nMit freundlichen Grüßen\n{NAME}",
        "Meine Kreditkarte {CARD} wurde zweimal belastet. Antwort bitte an {EMAIL}.",
    ],
    "nl_NL": [
        "Goedemiddag, u spreekt met {NAME}. Kunt u mij terugbellen op {PHONE}?",
        "Mijn nieuwe adres is {ADDRESS}, wilt u dat aanpassen?",
        "Het geld mag terug naar {IBAN}.\nGroeten,\n{NAME}",
        "Er is ingelogd vanaf {IP}, dat was ik niet. Mail mij op {EMAIL}.",
    ],
    "hu_HU": [
        "Jó napot, {NAME} vagyok, a {PHONE} számon nincs térerő.",
        "Kérem, a számlát a {ADDRESS} címre küldjék.",
        "A visszatérítést a {IBAN} számlára kérem.\nÜdvözlettel:\n{NAME}",
        "A {CARD} kártyámat kétszer terhelték meg, kérem válaszoljanak: {EMAIL}",
    ],
    "fr_FR": [
        "Bonjour, c'est {NAME}. Ma box ne marche plus, rappelez-moi au {PHONE}.",
        "Merci d'envoyer la nouvelle carte SIM au {ADDRESS}.",
        "Le remboursement doit aller sur {IBAN}.\nBien à vous,\n{NAME}",
        "Quelqu'un s'est connecté depuis {IP}. Écrivez-moi à {EMAIL}.",
    ],
}
NEGATIVES = [  # look-alikes: no personal data, nothing may change
    "Plan name: Young Magenta. Is roaming included?",
    "My router's IP is 192.168.178.1 but the admin page doesn't load.",
    "Firmware V2.8.0.118 is installed on the modem, is that current?",
    "Sync rate 110000/21000 kbit/s, is that normal for my line?",
    "Which is best for gaming: 50/100/500/1000 Mbit/s?",
    "Order 2024-11-5530 was cancelled without a reason.",
    "The outage started at 14:35 on 03.12.2026 and is still going.",
    "My bill went from 39.99 to 54.99 EUR this month.",
    "Is the TP-Link Archer AX55 compatible with your fibre?",
    "Ticket number 88213 has been open for two weeks.",
    "The speed test says 94.3 Mbit/s down and 38.1 up.",
    "Error code 0x80070005 when I open the app.",
    "Can I use the Galaxy S24 Ultra with the Unlimited 5G plan?",
    "I was charged 3 x 9.99 for the Netflix bundle.",
    "The APN is internet.vodaline with MCC 262 and MNC 02.",
    "My contract ends on 31/05/2027, can I upgrade early?",
    "The tracking number 1Z999AA10123456784 shows no movement.",
    "Port 8080 is blocked on my connection, can you open it?",
    "The SNR margin is 6.2 dB and attenuation 18 dB.",
    "Customer number 120045678, the bill is wrong.",
    "Is the Family Share plan 4 x 20 GB or 80 GB shared?",
    "The TV box shows E16-4 CA module not found.",
    "Version 10.0.19045 of Windows can't find the Wi-Fi.",
    # in the other locales' languages, written with IN_LANGUAGE (never tuned on)
    "Meine Kundennummer ist 3300 4711 02, der Tarif MagentaMobil M kostet 39,95 €.",
    "Der Router Speedport Smart 4 zeigt DSL-Sync 250000/40000 kbit/s.",
    "Auftragsnummer 0815-2024-77 wurde storniert, Vertragsbeginn war der 01.04.2025.",
    "Mijn klantnummer is 0612349876 en de storing begon om 14:05.",
    "Het abonnement Unlimited Max kost 45,00 per maand sinds 1 maart.",
    "A rendelésszámom 0620123456, a Telekom Home csomagot kértem.",
    "A router IP-címe 192.168.0.1, a firmware 7.29.",
    "Numéro de commande 0612345678, livraison prévue le 12/05/2026.",
    "Ma Livebox 6 affiche l'erreur 0x0000005e depuis la mise à jour 3.2.1.",
]
# Names with no cue before them, from locales the learned name model (tasks.data.pii_names) is trained without in
# bench/pii.py and tests/unit/data/test_pii_names.py, in sentences written apart from its training sentences:
# what generalises past Faker's lists and the training templates. Written before either was measured.
UNSEEN_LOCALES = ("cs_CZ", "sk_SK", "yo_NG", "zu_ZA", "el_GR", "vi_VN", "ga_IE", "lv_LV", "en_KE", "et_EE")
NAME_TEMPLATES = [
    "The SIM for {NAME} never arrived, can you check?",
    "Why does the bill show a call from {NAME} at 3am?",
    "Our lodger {NAME} wants his own contract.",
    "{NAME} keeps calling my number by mistake.",
    "Please remove {NAME} from the family plan.",
    "Is it possible to give {NAME} access to the online account?",
    "Yesterday {NAME} from your shop promised me a discount.",
    "The technician, {NAME}, did not come on Tuesday.",
    "My grandmother {NAME} cannot read the small print on the letter.",
    "Change the owner of the line to {NAME}, she is over 18 now.",
    "Können Sie {NAME} als zweiten Nutzer eintragen?",
    "Onze buurvrouw {NAME} heeft dezelfde storing.",
    "Le technicien {NAME} devait passer ce matin.",
    "A számlát {NAME} fizeti ezentúl.",
    "I'd like {NAME} to be able to call you about my account.",
    "The parcel was signed for by {NAME}, who I don't know.",
]
NAME_NEGATIVES = [  # capitalised runs that are not people, in the same kind of sentences
    "The signal in Hradec Králové is weak.",
    "Does my plan work in Cape Town and Port Elizabeth?",
    "I flew to Ho Chi Minh City and paid a fortune for roaming.",
    "We are moving to Santa Cruz de Tenerife next month.",
    "Is the Xperia Compact still supported by the update?",
    "The Smart Family Pack went up by five euros.",
    "Your Online Shop says Out Of Stock for a week.",
    "I watched the Champions League Final and the stream froze.",
    "Können Sie mir die Allgemeinen Geschäftsbedingungen schicken?",
    "Unser Glasfaser Anschluss ist seit Montag gestört.",
    "Werkt de Vodaline Thuis Router ook met Ziggo Sport?",
    "Est-ce que la Freebox Pop marche avec mon forfait?",
    "A Telekom Magenta Otthon csomag drága.",
    "My Garmin Venu Sq can't get notifications.",
    "The Air Canada lounge wifi blocks my hotspot.",
    "Is Lyca Mobile using your network in Galway City?",
    "The Easter Monday outage was never explained.",
    "Why is Visual Voicemail greyed out on my Moto Razr?",
    "Is the Red Cross donation line free to call?",
    "I bought it at the Dublin Airport shop.",
]


_TITLES = {  # titles and degrees Faker adds to names: not what identifies a person
    "Dr", "Mr", "Mrs", "Ms", "Mx", "Prof", "Univ", "Jr", "Sr", "PhD", "MD", "DDS", "DVM", "II", "III", "IV", "Sc",
    "Eng", "MBA", "Dipl", "Ing", "Mag", "MSc", "BSc", "Ba", "Ma",
}  # fmt: skip


@dataclass(frozen=True)
class Message:
    text: str
    values: list[tuple[str, str]]  # (type, value) of each PII value in the text
    locale: str
    template: int  # -1 for a negative


_FAKE = {  # type -> the Faker call that makes a value of it
    "NAME": lambda fake: fake.name(),
    "PHONE": lambda fake: fake.phone_number(),
    "EMAIL": lambda fake: fake.email(),
    "ADDRESS": lambda fake: f"{fake.street_address()}, {fake.postcode()} {fake.city()}".replace("\n", ", "),
    "IBAN": lambda fake: fake.iban(),
    "CARD": lambda fake: fake.credit_card_number(),
    "IP": lambda fake: fake.ipv4_public(),
}


def messages(per_template: int = 2, seed: int = 0, heldout: bool = False) -> list[Message]:
    """Each template (TEMPLATES, or HELDOUT and the locale's IN_LANGUAGE) filled `per_template` times in each locale,
    then every negative once."""
    from faker import Faker

    rng = random.Random(seed)
    out = []
    for locale in LOCALES:
        fake = Faker(locale)
        fake.seed_instance(rng.randrange(2**31))
        templates = [*HELDOUT, *IN_LANGUAGE.get(locale, [])] if heldout else TEMPLATES
        for i, template in enumerate(templates):
            for _ in range(per_template):
                text, values = template, []
                for kind in TYPES:
                    while "{" + kind + "}" in text:
                        value = _FAKE[kind](fake)
                        text = text.replace("{" + kind + "}", value, 1)
                        values.append((kind, value))
                out.append(Message(text, values, locale, i))
    out += [Message(text, [], "en", -1) for text in NEGATIVES]
    return out


def unseen_names(per_template: int = 2, seed: int = 0) -> list[Message]:
    """NAME_TEMPLATES filled with names of each UNSEEN_LOCALES locale, then NAME_NEGATIVES once."""
    from faker import Faker

    rng = random.Random(seed)
    out = []
    for locale in UNSEEN_LOCALES:
        fake = Faker(locale)
        fake.seed_instance(rng.randrange(2**31))
        for i, template in enumerate(NAME_TEMPLATES):
            for _ in range(per_template):
                value = f"{fake.first_name()} {fake.last_name()}"
                out.append(Message(template.replace("{NAME}", value), [("NAME", value)], locale, i))
    return out + [Message(text, [], "en", -1) for text in NAME_NEGATIVES]


def masked_names(text: str, model: Model | None) -> str:
    """`text` with the names the rules find, and `model`'s where one is given, replaced by <NAME>."""
    from tasks.data.pii_names import spans

    merged: list[list[int]] = []
    for start, end in sorted(spans(text, model)):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    for start, end in reversed(merged):
        text = f"{text[:start]}<NAME>{text[end:]}"
    return text


def name_recall(data: list[Message], model: Model | None) -> tuple[dict[str, float], list[str]]:
    """Recall per locale of names found (the rules, plus `model`), and the negatives something was masked in."""
    hits: dict[str, list[bool]] = defaultdict(list)
    wrong = []
    for m in data:
        out = masked_names(m.text, model)
        if m.values:
            hits[m.locale].append(all(found(value, out, m.text) for _, value in m.values))
        elif out != m.text:
            wrong.append(out)
    return {locale: sum(h) / len(h) for locale, h in hits.items()}, wrong


def found(value: str, scrubbed: str, original: str) -> bool:
    """No word or digit group of `value` (two characters or more) is left in `scrubbed`, beyond what the message
    says outside the value ("Apt.", a city also named in the text)."""
    import re

    rest = original.replace(value, " ")
    pieces = [
        p for p in re.findall(r"\w{2,}", value) if p not in _TITLES and not re.search(rf"\b{re.escape(p)}\b", rest)
    ]
    return not any(re.search(rf"(?<!\w){re.escape(p)}(?!\w)", scrubbed) for p in pieces)
