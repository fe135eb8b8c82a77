"""Phone numbers, e-mails, IBANs, cards and IPs written by hand the way people write them, in the six locales,
for measuring the scrubber (tests and bench/pii.py) past Faker's formats: "+49 (0)30 1234 5678", "06/30-123-4567",
"anna dot berg at web dot de", "john.smith(at)gmail.com", an IBAN followed by a one-letter word, "::" in an IPv6.

WRITTEN is what the rules were fixed against (spelled-out e-mails, compressed IPv6, IBAN groups cut back to what
checks out, no card starting with 0); WRITTEN_HELDOUT was written after those fixes and measured once, never
tuned on. Each value is marked [[...]]; NEGATIVES must come through unchanged.
"""

from __future__ import annotations

from tasks.evaluation.pii_set import Message, marked

WRITTEN = [
    ("de_DE", "PHONE", "Call me back on [[+49 (0)30 1234 5678]] please."),
    ("de_DE", "PHONE", "Meine Nummer: [[0049 171 2345678]]"),
    ("de_DE", "PHONE", "Erreichbar unter [[(030) 123 456 78]], nachmittags."),
    ("de_DE", "PHONE", "Tel. [[0171/2345678]]"),
    ("de_DE", "PHONE", "Mobil: [[+49 171 23 45 678]]"),
    ("en_US", "PHONE", "My number is [[(212) 555-0187]], call after 5."),
    ("en_US", "PHONE", "Text me at [[212.555.0187]]"),
    ("en_US", "PHONE", "reach me on [[1-800-555-0199 ext. 42]]"),
    ("en_GB", "PHONE", "You can call [[07700 900 123]] any time."),
    ("en_GB", "PHONE", "My landline is [[+44 (0)20 7946 0958]]."),
    ("nl_NL", "PHONE", "Bel me op [[+31 6 1234 5678]]."),
    ("nl_NL", "PHONE", "Mijn nummer is [[020-123 4567]]."),
    ("fr_FR", "PHONE", "Appelez-moi au [[06 12 34 56 78]]."),
    ("fr_FR", "PHONE", "Mon fixe : [[+33 (0)1 42 68 53 00]]"),
    ("fr_FR", "PHONE", "Tél : [[01.42.68.53.00]]"),
    ("hu_HU", "PHONE", "Hívjon a [[+36 30 123 4567]] számon."),
    ("hu_HU", "PHONE", "A számom [[06-1-234-5678]]."),
    ("en_US", "EMAIL", "Email me at [[john.smith(at)gmail.com]]"),
    ("de_DE", "EMAIL", "my mail is [[anna dot berg at web dot de]]"),
    ("en_US", "EMAIL", "Contact: [[JOHN.SMITH@EXAMPLE.COM]]"),
    ("nl_NL", "EMAIL", "write to [[jan.de.vries+vodaline@ziggo.nl]]"),
    ("hu_HU", "EMAIL", "Mail: [[kovacs.eva@freemail.hu]]."),
    ("de_DE", "IBAN", "IBAN: [[de89 3704 0044 0532 0130 00]]"),
    ("en_GB", "IBAN", "My IBAN is [[GB29NWBK60161331926819]]."),
    ("nl_NL", "IBAN", "Rekeningnummer [[NL91 ABNA 0417 1643 00]]."),
    ("fr_FR", "IBAN", "IBAN [[FR76 3000 6000 0112 3456 7890 189]]"),
    ("hu_HU", "IBAN", "[[HU42 1177 3016 1111 1018 0000 0000]] a számlaszámom."),
    ("en_US", "CARD", "Card [[4111-1111-1111-1111]] was charged twice."),
    ("en_US", "CARD", "my visa is [[4111 1111 1111 1111]] exp 12/27"),
    ("de_DE", "CARD", "Kartennummer [[5500 0000 0000 0004]]"),
    ("en_US", "CARD", "Amex [[3782 822463 10005]]"),
    ("en_GB", "IP", "My public IP is [[81.2.69.160]] and the VPN blocks it."),
    ("de_DE", "IP", "IPv6 [[2a02:8071:1234:5600::1]] cannot reach the site."),
    ("en_GB", "IP", "the server at [[81.2.69.160]]:8080 refuses my connection"),
]
WRITTEN_HELDOUT = [
    ("en_US", "PHONE", "You can reach me at [[+1 (415) 555-0132]] after work."),
    ("en_US", "PHONE", "cell: [[415-555-0132]]"),
    ("en_US", "EMAIL", "my email is [[mike_r at yahoo dot com]]"),
    ("en_US", "CARD", "Charged on [[6011 1111 1111 1117]] twice."),
    ("en_US", "IP", "my IPv6 is [[2a00:1450:4001:82a::200e]], the game server blocks it"),
    ("en_GB", "PHONE", "Ring me on [[07911 123456]]."),
    ("en_GB", "PHONE", "Home: [[0161 496 0000]]"),
    ("en_GB", "EMAIL", "Send it to [[sarah.jones [at] btinternet [dot] com]]"),
    ("en_GB", "IBAN", "Refund to [[GB33 BUKB 2020 1555 5555 55]] please."),
    ("en_GB", "IP", "My external IP [[91.198.174.192]] is blocked by your site."),
    ("de_DE", "PHONE", "Rückruf bitte unter [[0151 23456789]]."),
    ("de_DE", "PHONE", "Tel.: [[+49 89 12345-678]]"),
    ("de_DE", "EMAIL", "Meine Mail: [[k.mueller (at) gmx (punkt) de]]"),
    ("de_DE", "IBAN", "IBAN [[DE44 5001 0517 5407 3249 31]], bitte erstatten."),
    ("de_DE", "CARD", "Kreditkarte [[5555-5555-5555-4444]] wurde belastet."),
    ("nl_NL", "PHONE", "Mijn mobiel: [[06 - 12 34 56 78]]"),
    ("nl_NL", "PHONE", "Bereikbaar op [[+31 (0)20 123 4567]]."),
    ("nl_NL", "EMAIL", "mail naar [[p.de.jong at ziggo punt nl]]"),
    ("nl_NL", "IBAN", "Mijn rekening [[NL02 ABNA 0123 4567 89]] is gewijzigd."),
    ("nl_NL", "IP", "Mijn IP-adres is [[145.53.10.7]]."),
    ("hu_HU", "PHONE", "Telefonszámom: [[+36 20 123 4567]]"),
    ("hu_HU", "PHONE", "Hívjanak a [[06/30-123-4567]] számon."),
    ("hu_HU", "EMAIL", "E-mail: [[nagy.peter kukac citromail pont hu]]"),
    ("hu_HU", "IBAN", "Számlaszám: [[HU93 1160 0006 0000 0000 1234 5676]], oda kérem."),
    ("hu_HU", "CARD", "A kártyám [[4012 8888 8888 1881]], kétszer terheltek."),
    ("fr_FR", "PHONE", "Joignable au [[07.12.34.56.78]]."),
    ("fr_FR", "PHONE", "Mon numéro : [[+33 6 12 34 56 78]]"),
    ("fr_FR", "EMAIL", "Écrivez à [[marie.durand arobase laposte point net]]"),
    ("fr_FR", "IBAN", "RIB : [[FR14 2004 1010 0505 0001 3M02 606]]"),
    ("fr_FR", "IP", "Mon adresse IP publique est [[88.160.12.34]]."),
]
NEGATIVES = [  # written with WRITTEN_HELDOUT
    "I bought it at Tesco dot com and it never came.",
    "The outage was from 12:30:45 to 13:02:10.",
    "MAC address 00:1A:2B:3C:4D:5E is on the router label.",
    "Firmware 7.57 build 110:2:4 is installed.",
    "Order 0049 1712 3456 78 shows delivered.",
    "The ratio was 16:9:4 on the old TV.",
    "Ping to 192.168.1.1 is 3 ms, to fe80::1 too.",
    "Error at step 2 dot 3 of the guide.",
    "The IBAN field says DE00 0000 0000 0000 0000 00 is invalid.",
    "Test card 4111 1111 1111 1112 gets declined.",
    "We met at home dot com days, the nineties.",
    "Look at the router dot matrix display.",
]

WRITTEN_LAST = [  # written 2026-12-06 (a later session) in formats the others lack; 24 of 24 found as their type
    ("en_GB", "PHONE", "Call me on [[+44 (0)7911 123456]] after six."),
    ("en_US", "PHONE", "my number is [[(555) 013-4567]] ext 22"),
    ("de_DE", "PHONE", "Mobil: [[0151/23456789]]"),
    ("nl_NL", "PHONE", "Bel me terug op [[06-12345678]] aub."),
    ("hu_HU", "PHONE", "Hívjon a [[+36 30 123 4567]] számon."),
    ("fr_FR", "PHONE", "Rappelez-moi au [[+33 6 12 34 56 78]] svp."),
    ("en_GB", "PHONE", "WhatsApp [[+491701234567]] if easier"),
    ("de_DE", "PHONE", "Tel.: [[030 12345678]]"),
    ("en_GB", "PHONE", "text me at [[07700.900.461]]"),
    ("nl_NL", "PHONE", "Landline [[+31 20 794 0000]], mobile below."),
    ("en_US", "EMAIL", "reach me at [[maria.gonzalez+vodaline@proton.me]] pls"),
    ("en_GB", "EMAIL", "Email: [[J.Smith@company.co.uk]]"),
    ("de_DE", "EMAIL", "contact [[info@müller-bau.de]] for the invoice"),
    ("hu_HU", "EMAIL", "my mail is [[kovacs_anna92@freemail.hu]]."),
    ("de_DE", "IBAN", "IBAN: [[de89 3704 0044 0532 0130 00]]"),
    ("nl_NL", "IBAN", "Mijn rekening is [[NL91ABNA0417164300]], graag terugstorten."),
    ("fr_FR", "IBAN", "Virement sur [[FR76 3000 6000 0112 3456 7890 189]] merci"),
    ("hu_HU", "IBAN", "Számlaszám: [[HU42 1177 3016 1111 1018 0000 0000]]"),
    ("en_US", "CARD", "card [[4111-1111-1111-1111]] exp 12/27"),
    ("de_DE", "CARD", "Kartennummer [[5500 0000 0000 0004]]"),
    ("en_US", "CARD", "my amex is [[3782 822463 10005]]"),
    ("en_GB", "IP", "My IP shows as [[81.2.69.160]] in the app."),
    ("de_DE", "IP", "The IPv6 is [[2a02:8108:1140:5a00:1c2d:3e4f:5a6b:7c8d]]"),
    ("en_US", "IP", "ping [[8.8.4.4]] fails from home"),
]
NEGATIVES_LAST = [  # written with WRITTEN_LAST: two changed ("Firmware <IP>", "ABC-<PHONE>"), then fixed
    "Firmware 7.57.1.12 installed, still slow.",
    "Order 2024-11-05-0042 has not arrived.",
    "Speed test says 250/40 Mbit, I pay for 500/50.",
    "The router is on 192.168.0.1 and the gateway on 10.0.0.138.",
    "Reference ABC-1234-5678-9012 on the letter.",
    "Version 14.2.1 (build 23C71) of the app crashes.",
    "Tracking number 1Z999AA10123456784.",
    "My contract ends 31.12.2025 at 23:59.",
]

WRITTEN_FRESH = [  # written 2026-12-06, last session: 21 of 24, then 24 after the fixes it led
    ("en_US", "PHONE", "Text me at [[555.867.5309]] when the tech is on the way."),
    ("en_GB", "PHONE", "Landline is [[020 7946 0321]], mobile is off."),
    ("en_GB", "PHONE", "Ring [[07700-900-461]] any time before 8pm."),
    ("de_DE", "PHONE", "Erreichbar unter [[+49 (0) 89 / 123 456-78]]."),
    ("de_DE", "PHONE", "Handy [[0176 - 987 654 32]], bitte nur abends."),
    ("nl_NL", "PHONE", "Mijn vaste nummer: [[010-4123456]]."),
    ("nl_NL", "PHONE", "Bel [[+31 (0)6 2345 6789]] als de monteur komt."),
    ("hu_HU", "PHONE", "Telefonszámom: [[06 (30) 555-1234]]"),
    ("hu_HU", "PHONE", "Hívjanak a [[+36-70-123-45-67]] számon."),
    ("fr_FR", "PHONE", "Mon portable : [[07.81.23.45.67]]"),
    ("fr_FR", "PHONE", "Joignable au [[0033 6 98 76 54 32]] en journée."),
    ("en_US", "EMAIL", "Reply to [[dana_ortiz-77@outlook.com]] not the old one."),
    ("de_DE", "EMAIL", "Meine neue Adresse: [[k.schaefer@posteo.de]]"),
    ("fr_FR", "EMAIL", "Écrivez-moi : [[marie.dupont+factures@orange.fr]]"),
    ("hu_HU", "EMAIL", "E-mail: [[szabo.bela1968@freemail.hu]]"),
    ("nl_NL", "IBAN", "Mijn rekening: [[NL91 ABNA 0417 1643 00]]."),
    ("de_DE", "IBAN", "Bitte buchen Sie von [[DE89370400440532013000]] ab."),
    ("fr_FR", "IBAN", "RIB : [[FR14 2004 1010 0505 0001 3M02 606]]"),
    ("hu_HU", "IBAN", "Számlaszám: [[HU42 1177 3016 1111 1018 0000 0000]]"),
    ("en_GB", "IBAN", "Refund to [[GB29 NWBK 6016 1331 9268 19]] please."),
    ("en_US", "CARD", "Card on file is [[4111-1111-1111-1111]], exp 09/27."),
    ("en_GB", "CARD", "charge [[5555 5555 5555 4444]] instead"),
    ("en_US", "IP", "My public IP shows as [[203.0.113.77]] on whatismyip."),
    ("de_DE", "IP", "Externe IPv6: [[2001:db8:85a3::8a2e:370:7334]]"),
]
NEGATIVES_FRESH = [  # written with WRITTEN_FRESH; one changes: 100.0.20.5 is a public address
    "Order #555-867-5309-A shipped yesterday.",
    "Speeds: 100.0.20.5 Mbit? The app shows odd numbers.",
    "Invoice 2024/0178/33 is wrong by 12,50 EUR.",
    "Serial SN 4111 1111 1111 on the back of the box.",
    "Model number NL91-ABNA-04 on the sticker.",
    "Software 10.4.0.33 build 7700900461.",
    "Ticket 06-30-555 closed without a reply.",
    "Tarif 19,99 € / Monat, 24 Monate Laufzeit.",
]


def messages(chosen: str = "written") -> list[Message]:
    """WRITTEN, WRITTEN_HELDOUT ("heldout"), WRITTEN_LAST ("last") or WRITTEN_FRESH ("fresh") as messages with their
    marked value, then the negatives written with them."""
    rows = {"written": WRITTEN, "heldout": WRITTEN_HELDOUT, "last": WRITTEN_LAST, "fresh": WRITTEN_FRESH}[chosen]
    out = [marked(text, kind, locale, i) for i, (locale, kind, text) in enumerate(rows)]
    negatives = {"last": NEGATIVES_LAST, "fresh": NEGATIVES_FRESH}.get(chosen, NEGATIVES)
    return out + [Message(text, [], "", -1) for text in negatives]
