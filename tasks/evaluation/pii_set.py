"""A labelled PII set in six locales, for measuring the scrubber (tests and bench/pii.py) on values nobody here
wrote: Faker's names, phone numbers, streets, IBANs, cards, e-mails and public IPs for en_US, en_GB, de_DE,
nl_NL, hu_HU and fr_FR, in support messages, beside look-alike negatives (plan names, router IPs, firmware
versions, line rates, order numbers) that must come through unchanged.

TEMPLATES are what the scrubber's cues were tuned on; HELDOUT was written afterwards and only measures.
NAME_TEMPLATES and NAME_NEGATIVES measure the learned name model on locales it was not trained on; ADDRESSES and
ADDRESSES_HELDOUT, postal addresses written by hand in the formats people use.
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

# Postal addresses as people write them, hand-written in real formats rather than Faker's (a flat before the
# street, the town and postcode after it, "221-H", "14bis", "Váci utca 12. 3/4.", "PO Box"), the value in
# [[...]]. ADDRESSES is what tasks.data.pii_addresses was written against; ADDRESSES_HELDOUT was written after it
# and measured once, never tuned on. ADDRESS_NEGATIVES: numbers beside capitalised words that are no address.
ADDRESSES = [
    ("en_GB", "Please post the SIM to [[Flat 3, 9 Elm Grove Mews, London N1 2AB]]."),
    ("en_GB", "I moved to [[14 Kingfisher Close, Bristol BS7 8QT]] last week."),
    ("en_GB", "The engineer should come to [[The Old Rectory, Church Lane, Little Snoring, Norfolk NR21 0AA]]."),
    ("en_GB", "My address is [[221B Baker Street, London NW1 6XE]]."),
    ("en_GB", "Deliver to [[7 Primrose Hill, Lewes BN7 1AA]] please."),
    ("en_GB", "New address: [[58 Kensington Park Gardens, London W11 3HB]]"),
    ("en_US", "Ship it to [[742 Evergreen Terrace, Springfield, IL 62704]]."),
    ("en_US", "I'm at [[Apt 5C, 220 W 42nd St, New York, NY 10036]] now."),
    ("en_US", "Billing address: [[1600 Amphitheatre Pkwy, Mountain View, CA 94043]]"),
    ("en_US", "Send the router to [[88 N Main St Apt 2, Ann Arbor, MI 48104]]."),
    ("en_US", "My old address was [[5 Oak Ridge Dr., Austin, TX 78701]]."),
    ("de_DE", "Ich wohne jetzt in der [[Lindenstraße 8a, 80331 München]]."),
    ("de_DE", "Neue Anschrift: [[Am Markt 3, 04109 Leipzig]]."),
    ("de_DE", "Bitte an [[Hauptstr. 12, 10115 Berlin]] schicken."),
    ("de_DE", "Lieferadresse: [[Unter den Linden 77, 10117 Berlin]]"),
    ("de_DE", "Meine Adresse ist [[Karl-Marx-Allee 90, 10243 Berlin]], 3. OG."),
    ("de_DE", "Wir sind nach [[50667 Köln, Hohe Str. 41]] umgezogen."),
    ("nl_NL", "Mijn adres is [[Keizersgracht 221-H, 1016 DV Amsterdam]]."),
    ("nl_NL", "Stuur de modem naar [[Oudegracht 14bis, Utrecht]]."),
    ("nl_NL", "Nieuw adres: [[Dorpsstraat 3 A, 1234 AB Broek in Waterland]]."),
    ("nl_NL", "Ik woon op [[Laan van Meerdervoort 1200, 2555 CM Den Haag]]."),
    ("nl_NL", "Bezorgen op [[Markt 12-3, 5611 EB Eindhoven]] graag."),
    ("hu_HU", "Új címem: [[1052 Budapest, Váci utca 12. 3/4.]]"),
    ("hu_HU", "Kérem, a [[Budapest, Andrássy út 60.]] címre küldjék."),
    ("hu_HU", "A lakcímem [[6720 Szeged, Kárász u. 5.]]"),
    ("hu_HU", "Szállítási cím: [[4025 Debrecen, Piac utca 20. II. em. 5.]]"),
    ("hu_HU", "Az új cím [[9021 Győr, Baross Gábor út 15.]], kérem frissítsék."),
    ("fr_FR", "J'habite au [[27 rue des Acacias, 69003 Lyon]]."),
    ("fr_FR", "Mon adresse : [[12 bis, avenue Foch, 75116 Paris]]."),
    ("fr_FR", "Livraison : [[Bâtiment B, 3 impasse des Lilas, 13008 Marseille]]."),
    ("fr_FR", "Envoyez la box au [[8, boulevard Victor Hugo, 06000 Nice]]."),
    ("fr_FR", "Nouvelle adresse : [[45 chemin de la Colline, 84000 Avignon]]"),
    ("fr_FR", "Je suis au [[3 place Bellecour 69002 Lyon]] depuis lundi."),
    ("en_GB", "Hello, could you update my address to [[2 Ferndale Road, Sheffield S10 3JR]]? Thanks."),
    ("en_GB", "The box was delivered to [[Flat 12, Harbour Court, 40 Quay Street, Bristol BS1 4ND]] by mistake."),
    ("en_GB", "I'm now living at [[Rose Cottage, Mill Lane, Great Ayton TS9 6AB]]."),
    ("en_GB", "Please cancel the line at [[19a Victoria Terrace, Edinburgh EH1 2JW]]."),
    ("en_GB", "Send the returns bag to [[33 St John's Wood Road, London NW8 8RA]]."),
    ("en_GB", "Engineer visit for [[Apartment 4, 11 Canal Wharf, Leeds LS11 5PY]] please."),
    ("en_US", "My service address is [[4100 Lakeshore Blvd, Apt 12B, Chicago, IL 60613]]."),
    ("en_US", "Please mail the bill to [[PO Box 2231, Portland, OR 97208]]."),
    ("en_US", "We moved to [[77 Massachusetts Ave, Cambridge, MA 02139]] in June."),
    ("en_US", "Ship the phone to [[1250 S Grand Ave, Los Angeles, CA 90015]]."),
    ("en_US", "The modem for [[9 Willow Creek Rd, Boise, ID 83702]] never arrived."),
    ("de_DE", "Bitte schicken Sie die SIM an [[Goethestraße 14, 60313 Frankfurt am Main]]."),
    ("de_DE", "Meine neue Adresse: [[Bahnhofstr. 3b, 72072 Tübingen]]"),
    ("de_DE", "Der Techniker soll in die [[Kastanienallee 27, 10435 Berlin]] kommen."),
    ("de_DE", "Ich bin umgezogen nach [[Auf der Heide 9, 33602 Bielefeld]]."),
    ("de_DE", "Rechnungsanschrift ist [[Königsplatz 1, 86150 Augsburg]], Hinterhaus."),
    ("de_DE", "Liefern Sie bitte an [[Friedrich-Ebert-Ring 55, 56068 Koblenz]]."),
    ("nl_NL", "Mijn nieuwe adres is [[Prinsengracht 263, 1016 GV Amsterdam]]."),
    ("nl_NL", "Kunt u de router sturen naar [[Hoofdweg 12-II, 1058 BC Amsterdam]]?"),
    ("nl_NL", "Wij wonen sinds mei op [[Burgemeester de Withstraat 4, 3042 AC Rotterdam]]."),
    ("nl_NL", "Het adres is [[Vismarkt 7a, Groningen]]."),
    ("nl_NL", "Graag het contract voor [[Lange Voorhout 34, 2514 EE Den Haag]] opzeggen."),
    ("nl_NL", "Bezorg het pakket op [[Stationsplein 1, 3511 ED Utrecht]]."),
    ("hu_HU", "Kérem, küldjék a számlát erre a címre: [[1137 Budapest, Szent István krt. 18. 2/7.]]"),
    ("hu_HU", "Az új lakcímem [[7621 Pécs, Király utca 23.]]"),
    ("hu_HU", "A szerelő a [[Debrecen, Kossuth tér 4.]] címre jöjjön."),
    ("hu_HU", "Elköltöztem: [[9022 Győr, Széchenyi tér 7. III. em. 2.]]"),
    ("hu_HU", "A csomagot a [[Miskolc, Petőfi Sándor utca 41.]] címre kérem."),
    ("hu_HU", "Szállítási cím: [[2000 Szentendre, Fő tér 3.]]"),
    ("fr_FR", "Merci d'envoyer la facture au [[14 avenue de la République, 75011 Paris]]."),
    ("fr_FR", "J'ai déménagé au [[6 bis rue Nationale, 37000 Tours]]."),
    ("fr_FR", "Le technicien doit venir au [[22, quai des Chartrons, 33000 Bordeaux]]."),
    ("fr_FR", "Adresse de livraison : [[Résidence Les Pins, 5 allée des Mimosas, 06400 Cannes]]"),
    ("fr_FR", "Ma nouvelle adresse est [[18 boulevard de la Liberté 59000 Lille]]."),
    ("fr_FR", "Je suis au [[101 route de Narbonne, 31400 Toulouse]] depuis mars."),
]
ADDRESSES_HELDOUT = [
    ("en_GB", "Kind regards,\nTom\n[[48 Gloucester Place\nLondon\nW1U 8HL]]"),
    ("en_GB", "my new address is [[3 meadow lane, york yo24 1ab]] can you update it"),
    ("en_GB", "Send it to [[Unit 7, Riverside Business Park, Stockport SK4 1AA]]."),
    ("en_GB", "We are at [[27 Abbey Road, St John's Wood, London NW8 9AY]]."),
    ("en_GB", "The old address [[15 Ashby Crescent, Loughborough, Leicestershire LE11 2PF]] should be removed."),
    ("en_GB", "Parcel for [[Ground Floor Flat, 6 Belgrave Square, Bath BA1 2PQ]] is missing."),
    ("en_US", "Our office moved to [[350 Fifth Avenue, Suite 3300, New York, NY 10118-0110]]."),
    ("en_US", "Bill to [[2200 Mission College Blvd, Santa Clara, CA 95054]], attention accounts."),
    ("en_US", "Install at [[16 Elm St, Apt 3, Burlington, VT 05401]] on Friday."),
    ("en_US", "I live at [[8400 Sunset Boulevard, West Hollywood, CA 90069]]."),
    ("en_US", "Return address: [[501 E 6th St, Austin, TX 78701]]"),
    ("en_US", "Can you send the SIM to [[12 Harbor View Dr, Sausalito, CA 94965]]?"),
    ("de_DE", "Mit freundlichen Grüßen\nLena\n[[Schillerstraße 40\n70173 Stuttgart]]"),
    ("de_DE", "Neue Lieferadresse [[Holzmarkt 11 in 50676 Köln]], bitte ändern."),
    ("de_DE", "Bitte die Kündigung an [[Postfach 10 20 30, 20354 Hamburg]] senden."),
    ("de_DE", "Ich wohne in der [[Gartenstr. 7, 91054 Erlangen]]."),
    ("de_DE", "Der Anschluss in der [[Brunnenweg 2a, 35037 Marburg]] funktioniert nicht."),
    ("de_DE", "Vertragsadresse: [[Neuer Wall 18, 20354 Hamburg]]"),
    ("nl_NL", "Met vriendelijke groet,\nPieter\n[[Westersingel 88\n3015 LD Rotterdam]]"),
    ("nl_NL", "Mijn adres: [[Nieuwe Binnenweg 150A, 3015 BH Rotterdam]]."),
    ("nl_NL", "De monteur moet naar [[Kerkstraat 5, Zwolle]] komen."),
    ("nl_NL", "Stuur de brief naar [[Postbus 1200, 3500 BE Utrecht]]."),
    ("nl_NL", "Ik ben verhuisd naar [[Amstel 216, 1017 AJ Amsterdam]]."),
    ("nl_NL", "Het adres [[Rijnkade 3-bis, 6811 HA Arnhem]] klopt niet meer."),
    ("hu_HU", "Üdvözlettel,\nAnna\n[[1051 Budapest, Október 6. utca 8.]]"),
    ("hu_HU", "A számlázási cím: [[3530 Miskolc, Széchenyi István út 30. fszt. 1.]]"),
    ("hu_HU", "Kérem, a [[Veszprém, Óváros tér 2.]] címre küldjék a routert."),
    ("hu_HU", "Új cím: [[6000 Kecskemét, Rákóczi út 5. 4/12.]]"),
    ("hu_HU", "Lakcím: [[8200 Veszprém, Jókai Mór utca 12/A.]]"),
    ("hu_HU", "A [[Budapest, Üllői út 100.]] alatti előfizetést mondanám fel."),
    ("fr_FR", "Cordialement,\nMarc\n[[9 rue du Faubourg Saint-Honoré\n75008 Paris]]"),
    ("fr_FR", "Veuillez envoyer le courrier à [[12 rue de la Paix, 75002 Paris]]."),
    ("fr_FR", "Mon adresse est [[3 ter, chemin des Vignes, 13100 Aix-en-Provence]]."),
    ("fr_FR", "Installation au [[40 cours Mirabeau 13100 Aix-en-Provence]] SVP."),
    ("fr_FR", "Je réside au [[7 place du Capitole, 31000 Toulouse]]."),
    ("fr_FR", "Envoyez la box à [[15 av. Jean Médecin, 06000 Nice]]."),
]
ADDRESSES_NEW = [  # written before the changes of 2026-12-06 (next session) and measured once: 19 of 24, then fixed
    ("en_GB", "Please post it to [[Flat 2/1, 14 Byres Road, Glasgow G11 5RD]]."),
    ("en_GB", "The router is at my mum's, [[22 Church Lane, Little Milton, Oxford OX44 7PU]]."),
    ("en_GB", "I've moved from [[9 Victoria Terrace, Leeds LS3 1BX]] to my partner's place."),
    ("en_GB", "Address on the account should be [[The Coach House, Mill Road, Holt NR25 6HR]]."),
    ("en_US", "Ship the phone to [[Apt 4B, 220 W 42nd St, New York, NY 10036]]."),
    ("en_US", "We're at [[1600 Pennsylvania Ave NW, Washington, DC 20500]] for the week."),
    ("en_US", "New billing address: [[PO Box 4417, Boise, ID 83711]]"),
    ("en_US", "Service address is [[77 Lakeshore Dr, Unit 12, Chicago IL 60611]]."),
    ("de_DE", "Bitte an [[Am Markt 3, 28195 Bremen]] liefern."),
    ("de_DE", "Meine neue Anschrift lautet [[An der Alster 47, 20099 Hamburg]]."),
    ("de_DE", "Postanschrift: [[Platz der Republik 1, 11011 Berlin]]"),
    ("de_DE", "Der Router steht bei meiner Oma in der [[Lindenallee 12, 04109 Leipzig]]."),
    ("nl_NL", "Stuur de nieuwe simkaart naar [[Laan van Meerdervoort 52, 2517 AK Den Haag]]."),
    ("nl_NL", "Ik woon op [[Burgemeester de Withstraat 4, 5611 AB Eindhoven]]."),
    ("nl_NL", "Factuuradres: [[Postbus 9100, 1006 AC Amsterdam]]"),
    ("nl_NL", "Het modem moet naar [[Oudegracht 201 bis, Utrecht]]."),
    ("hu_HU", "A routert a [[Budapest XI. kerület, Bartók Béla út 15/B.]] címre kérem."),
    ("hu_HU", "Szállítási cím: [[6720 Szeged, Kárász u. 6.]]"),
    ("hu_HU", "Átköltöztem a [[9021 Győr, Baross Gábor út 21. 2. em. 5.]] címre."),
    ("hu_HU", "Postafiók: [[1364 Budapest, Pf. 200]]"),
    ("fr_FR", "Merci d'envoyer la box à [[Résidence Les Tilleuls, bâtiment B, 4 allée des Pins, 69008 Lyon]]."),
    ("fr_FR", "Mon adresse de facturation : [[BP 45, 33001 Bordeaux Cedex]]"),
    ("fr_FR", "J'habite [[18 quai de la Fosse, 44000 Nantes]] depuis mars."),
    ("fr_FR", "Le technicien doit venir au [[5 impasse des Lilas 67000 Strasbourg]]."),
]
ADDRESS_NEW_NEGATIVES = [  # written with ADDRESSES_NEW
    "Please post it to the address on my account.",
    "The router is at my mum's, she lives nearby.",
    "Ship the phone to the store on 42nd Street for pickup, order 220.",
    "Bitte an die Filiale am Markt liefern.",
    "Stuur de nieuwe simkaart naar mijn werkadres.",
    "A routert a régi címemre kérem.",
    "Merci d'envoyer la box au point relais le plus proche.",
    "Room 12, Building 4 has no Wi-Fi at the conference.",
]

ADDRESSES_LATER = [  # written after those fixes; measured once before them (17 of 18) and once after
    ("en_GB", "Could the engineer come to [[Apartment 14, Harbour Court, 3 Ocean Way, Southampton SO14 3JQ]]?"),
    ("en_GB", "I'm now living at [[41a Cowley Road, Oxford OX4 1HP]], please update."),
    ("en_GB", "Old address was [[Rose Cottage, 2 Brook Lane, Ambleside LA22 9DH]]."),
    ("en_US", "Deliver to [[3400 Peachtree Rd NE, Suite 800, Atlanta, GA 30326]] please."),
    ("en_US", "My address on file is wrong, it should be [[88 Maple Ave, Apt 2C, Portland, ME 04101]]."),
    ("en_US", "Mail the refund check to [[PO Box 1187, Santa Fe, NM 87504]]."),
    ("de_DE", "Bitte schicken Sie den Router an [[Kurfürstendamm 195, 10707 Berlin]]."),
    ("de_DE", "Ich bin umgezogen: [[Auf der Höhe 9, 53127 Bonn]]."),
    ("de_DE", "Rechnungsadresse ist [[Postfach 40 12 21, 80712 München]]."),
    ("nl_NL", "Mijn nieuwe adres is [[Prinsengracht 263-1, 1016 GV Amsterdam]]."),
    ("nl_NL", "Kan de monteur naar [[Van Oldenbarneveltlaan 14, 3818 HB Amersfoort]] komen?"),
    ("nl_NL", "Graag de doos bezorgen op [[Hoofdstraat 7a, 9401 EZ Assen]]."),
    ("hu_HU", "Az új címem: [[1137 Budapest, Pozsonyi út 38. III. em. 2.]]"),
    ("hu_HU", "Kérem, küldjék a [[7621 Pécs, Király u. 14.]] címre."),
    ("hu_HU", "A [[Debrecen, Piac utca 20.]] alatti lakásba költöztem."),
    ("fr_FR", "Veuillez livrer au [[25 boulevard Saint-Michel, 75006 Paris]]."),
    ("fr_FR", "Nouvelle adresse : [[Appartement 12, 8 rue Sainte-Catherine, 33000 Bordeaux]]"),
    ("fr_FR", "Le colis doit aller à [[2 bis, rue des Écoles, 21000 Dijon]]."),
]
ADDRESS_LATER_NEGATIVES = [  # written with ADDRESSES_LATER
    "Could the engineer come to the office on the third floor?",
    "Suite 800 is where our meeting room is, no signal there.",
    "Apartment 14 in our building has no fibre yet.",
    "Kurfürstendamm shops have bad signal, is there an outage?",
    "A III. emeleten nincs térerő.",
    "Le 25 décembre, la boutique est fermée.",
]
ADDRESSES_FRESH = [  # written 2026-12-06, last session: 12 of 18 before the fixes it led, 18 after
    ("en_US", "Ship the modem to [[1250 Elm Street, Unit 5, Boulder, CO 80302]], not my old place."),
    ("en_US", "Billing address: [[77 W Wacker Dr Fl 12, Chicago IL 60601]]"),
    ("en_US", "We moved to [[9 Quail Hollow Ct, Greenville, SC 29607]] last month."),
    ("en_GB", "New address is [[Flat 7, Elmwood House, 22 Station Road, Reading RG1 1LX]]."),
    ("en_GB", "Send the SIM to [[The Old Rectory, Church Street, Ludlow SY8 1AP]] please."),
    ("en_GB", "I'm at [[14/3 Marchmont Crescent, Edinburgh EH9 1HN]] now."),
    ("de_DE", "Neue Anschrift: [[Lindenallee 4, Hinterhaus, 04109 Leipzig]]"),
    ("de_DE", "Der Techniker soll bitte zur [[Bahnhofstraße 17b, 72070 Tübingen]] kommen."),
    ("de_DE", "Lieferadresse ist [[c/o Werkstatt Meier, Industriestr. 8, 86150 Augsburg]]."),
    ("nl_NL", "Stuur de factuur naar [[Postbus 1020, 3500 BA Utrecht]]."),
    ("nl_NL", "Ik woon nu op [[Oudegracht 112 bis, 3511 AX Utrecht]]."),
    ("nl_NL", "Het adres is [[Lange Voorhout 3 A, 2514 EA Den Haag]]."),
    ("hu_HU", "Szállítási cím: [[6720 Szeged, Kárász utca 6. fsz. 1.]]"),
    ("hu_HU", "A számlát a [[1027 Budapest, Frankel Leó út 22.]] címre kérem."),
    ("hu_HU", "Új lakcímem [[Győr, Baross Gábor út 15. 2/7]], kérem frissítsék."),
    ("fr_FR", "Mon adresse : [[Résidence Les Tilleuls, bât. B, 14 avenue Jean Jaurès, 69007 Lyon]]"),
    ("fr_FR", "Envoyez la box au [[3 impasse des Lilas, 44300 Nantes]]."),
    ("fr_FR", "Je suis domicilié [[chez Mme Petit, 40 quai de la Loire, 75019 Paris]]."),
]
ADDRESS_FRESH_NEGATIVES = [  # written with ADDRESSES_FRESH; a PO box alone stays masked, on purpose
    "Ship the modem to the same place as last time.",
    "Unit 5 of the router keeps blinking red.",
    "Flat 7 is the one above the shop, no signal indoors.",
    "Der Techniker kam um 17 Uhr, Termin 4b verschoben.",
    "Postbus 1020 is niet meer in gebruik volgens de brief.",
    "A 6. emeleten gyenge a jel, 2/7 napon nincs net.",
    "Le 3 juin, la livraison a échoué à cause des travaux.",
    "Version 14.3 of the app crashes on my iPhone 12.",
]
ADDRESSES_SEALED = [  # written after every change of the session: 10 of 12 before it and after
    ("en_US", "Send it to [[4521 Lakeview Blvd, Apt 12B, Madison, WI 53704]]."),
    ("en_GB", "My new flat is [[Flat C, 19 Grange Road, Bristol BS8 4EA]]."),
    ("en_GB", "Address: [[Ivy House, 3 Mill Lane, Harrogate HG1 2RT]]"),
    ("de_DE", "Wohnhaft in [[Goethestraße 41, 3. OG, 60313 Frankfurt am Main]]."),
    ("de_DE", "Neue Adresse: [[Am Steinbruch 7, 01187 Dresden]]"),
    ("nl_NL", "Bezorgen op [[Spoorlaan 55 bus 3, 5038 CB Tilburg]] graag."),
    ("nl_NL", "Ik woon op [[Koningsweg 9-bis, 6816 TJ Arnhem]]."),
    ("hu_HU", "Levelezési cím: [[3525 Miskolc, Széchenyi István út 40. 2. em. 3.]]"),
    ("hu_HU", "A [[Veszprém, Óváros tér 5.]] alatt lakom."),
    ("fr_FR", "Livraison au [[17 allée des Peupliers, 31200 Toulouse]]."),
    ("fr_FR", "Mon adresse a changé : [[45 avenue de la République, Appt 23, 13001 Marseille]]"),
    ("fr_FR", "Merci d'envoyer au [[Lieu-dit Le Moulin, 24200 Sarlat-la-Canéda]]."),
]
ADDRESS_SEALED_NEGATIVES = [  # written with ADDRESSES_SEALED
    "Apt 12B has had no signal since the storm.",
    "Goethestraße is closed for works, the shop is shut.",
    "The 3. OG has no wifi in our office.",
    "La République station has no 4G.",
    "Bus 3 stops right in front of the shop.",
    "Room 40 on the 2nd floor is a dead zone.",
]
ADDRESSES_FINAL = [  # written at the end of the session: 16 of 18 before it and after, 18 after the fixes it led
    ("en_US", "Please send the replacement to [[801 Brickell Ave #1402, Miami, FL 33131]]."),
    ("en_US", "service address: [[2210 N. Halsted St., Chicago, Illinois 60614]]"),
    ("en_US", "I live at [[16 Orchard Road, Apartment 3, Burlington VT 05401]]"),
    ("en_GB", "Post it to [[Unit 4, Riverside Business Park, Leeds LS11 5JR]] please."),
    ("en_GB", "It's [[27 The Crescent, Salford M5 4PF]], next to the church."),
    ("en_GB", "Moving to [[Flat 12 Kestrel Court, 8 Hill Street, Cardiff CF10 2LA]] next week."),
    ("de_DE", "Bitte an [[Schillerplatz 3, 70173 Stuttgart]] liefern."),
    ("de_DE", "Wir wohnen jetzt in der [[Brunnenstraße 154, 3. Etage links, 10115 Berlin]]."),
    ("de_DE", "Adresse: [[Zur Alten Mühle 12, 49080 Osnabrück]]"),
    ("nl_NL", "Stuur het naar [[Burgemeester de Vlugtlaan 130, 1063 BP Amsterdam]]."),
    ("nl_NL", "Mijn adres: [[Markt 4, 4811 WT Breda]]"),
    ("nl_NL", "We zijn verhuisd naar [[Rijksstraatweg 88 hs, 2241 BX Wassenaar]]."),
    ("hu_HU", "Cím: [[1061 Budapest, Andrássy út 45. 1. emelet 3. ajtó]]"),
    ("hu_HU", "A csomagot a [[9021 Győr, Kazinczy u. 8/A]] címre kérem."),
    ("hu_HU", "Lakcím: [[Szeged, Tisza Lajos krt. 57.]]"),
    ("fr_FR", "Adresse de livraison : [[5 place de la Comédie, 34000 Montpellier]]"),
    ("fr_FR", "J'habite au [[102 rue du Faubourg Saint-Antoine, escalier C, 75012 Paris]]."),
    ("fr_FR", "Envoyez-la au [[18, chemin des Vignes, 84000 Avignon]], merci."),
]
ADDRESS_FINAL_NEGATIVES = [  # written with ADDRESSES_FINAL
    "Flight AF 1402 lands at 8:45, will roaming work on arrival?",
    "Store #1402 in Miami closed early today.",
    "The Crescent mall has no 5G at all.",
    "Schillerplatz is where the shop used to be.",
    "Markt 4 weeks ago I ordered a router, still waiting.",
    "Unit 4 of the course covers router setup.",
]
ADDRESSES_OPENING = [  # written at the start of 2026-12-06's evening session: 15 of 18 before its changes, 18 after
    ("en_US", "Ship the replacement router to [[4410 N Lamar Blvd Apt 212, Austin TX 78756]] please."),
    ("en_GB", "New address from Monday: [[Flat B, 27 Cromwell Road, Hove BN3 3EB]]"),
    ("en_GB", "I live at [[Rose Cottage, Church Lane, Little Snoring, NR21 0HZ]]."),
    ("en_US", "Moved to [[1200 Pine St, Unit 5, Seattle, WA 98101]] last week"),
    ("de_DE", "Neue Lieferadresse: [[Am Lindenhof 7a, 01445 Radebeul]]"),
    ("de_DE", "Ich wohne jetzt in der [[Schillerstraße 45, 3. Stock, 80336 München]]."),
    ("de_DE", "Bitte den Router an [[Gartenweg 2, 24937 Flensburg]] schicken."),
    ("nl_NL", "Mijn nieuwe adres is [[Prinsengracht 263-1, 1016 GV Amsterdam]]."),
    ("nl_NL", "Stuur de simkaart naar [[Dorpsstraat 12, 9751 AB Haren]] aub"),
    ("nl_NL", "We verhuizen naar [[Laan van Meerdervoort 54, Den Haag]]."),
    ("hu_HU", "Az új címem: [[6720 Szeged, Kárász utca 9. II. em. 4.]]"),
    ("hu_HU", "Kérem a [[Bartók Béla út 41.]] alá küldeni a számlát, Budapest XI."),
    ("hu_HU", "A routert a [[9022 Győr, Széchenyi tér 3.]] címre kérem."),
    ("fr_FR", "Merci d'envoyer la box au [[7, impasse des Lilas, 44300 Nantes]]."),
    ("fr_FR", "J'habite maintenant [[Bât. C, 15 rue Paul Bert, 69003 Lyon]]."),
    ("fr_FR", "Adresse de facturation : [[3 allée des Cerisiers, 33600 Pessac]]"),
    ("en_US", "the tech came to [[88 elm street, springfield il 62704]] but nobody called first"),
    ("en_GB", "Deliver to [[Unit 4, Riverside Industrial Estate, Hull HU9 1AA]] (our office)."),
]
ADDRESS_OPENING_NEGATIVES = [  # written with ADDRESSES_OPENING
    "Ship the replacement router to the store on my account please.",
    "Channel 4 HD is missing from my Sky box since Monday.",
    "Ich wohne jetzt im 3. Stock und das WLAN reicht nicht.",
    "Tarif Magenta Zuhause L, 24 Monate Laufzeit",
    "Mijn nieuwe abonnement begint op 1 maart.",
    "Az új csomag 12 hónapos hűségidővel jár.",
    "La box 5 affiche le voyant rouge depuis 3 jours.",
    "Our office is near Terminal 2, Gate 14.",
    "We verhuizen volgende week naar Den Haag.",
    "Merci d'envoyer la facture de mars 2025.",
]
ADDRESSES_EVENING = [  # written after ADDRESSES_OPENING's fixes: 13 of 18 before the session, 14 after them, then 18
    ("en_US", "Send the modem to [[2250 W Broadway Ste 3, Vancouver WA 98660]]."),
    ("en_US", "billing address: [[17 maple ave, burlington vt 05401]]"),
    ("en_GB", "Our house is [[The Willows, 3 Mill Lane, Ely CB7 4NN]]."),
    ("en_GB", "Post it to [[Flat 12, Marlowe Court, 45 Queen's Road, Bristol BS8 1QU]] please."),
    ("de_DE", "Lieferung an: [[Bahnhofstr. 3b, 72764 Reutlingen]]"),
    ("de_DE", "Wir sind umgezogen in die [[Rosenweg 14, 2. OG, 53111 Bonn]]."),
    ("de_DE", "Adresse: [[Im Winkel 9, 86150 Augsburg]]"),
    ("nl_NL", "Nieuw adres: [[Kerkplein 2, 3311 CK Dordrecht]]"),
    ("nl_NL", "De router mag naar [[Van Speijkstraat 88-III, 1057 HA Amsterdam]]."),
    ("nl_NL", "Wij wonen op [[Burgemeester de Withstraat 4, Zwolle]]."),
    ("hu_HU", "Szállítási cím: [[1117 Budapest, Október huszonharmadika u. 21.]]"),
    ("hu_HU", "A [[Petőfi Sándor utca 33.]] alatt lakom, Debrecenben."),
    ("hu_HU", "Számlázási cím: [[7621 Pécs, Király u. 14. fsz. 2.]]"),
    ("fr_FR", "Mon adresse : [[21 bis rue Victor Hugo, 59000 Lille]]"),
    ("fr_FR", "Livrez au [[Résidence Le Parc, Bât. B, 4 avenue Jean Jaurès, 31000 Toulouse]]."),
    ("fr_FR", "J'ai déménagé au [[12, place du Marché, 67000 Strasbourg]]."),
    ("en_GB", "we're at [[14 victoria road, leeds ls6 1dn]] now"),
    ("en_US", "Address on file is [[PO Box 881, Tulsa, OK 74101]]."),
]
ADDRESS_EVENING_NEGATIVES = [  # written with ADDRESSES_EVENING; a poet's name (Petőfi Sándor) is masked as a name
    "Send the modem back to the store, it's faulty.",
    "Platform 3 at King's Cross has no signal at all.",
    "Im Winkel des Wohnzimmers ist kein WLAN.",
    "Kerkplein WiFi is traag sinds vorige week.",
    "A Petőfi Sándor emlékév alatt különleges ajánlat volt?",
    "Livrez la box le 4 avril, pas avant.",
    "Route 66 roaming: is Arizona covered?",
    "Gate 22, Terminal 3 at Heathrow: no 5G.",
    "Room 12, 3rd floor, still no Wi-Fi.",
    "Avenue Q tickets came with a free SIM, weird promo.",
]
ADDRESSES_CLOSING = [  # written after every change of the evening session: 16 of 18 before it and after, then 18
    ("en_US", "Ship to [[Apt 4B, 350 5th Ave, New York, NY 10118]] by Friday."),
    ("en_US", "I'm at [[4521 Oak Hollow Dr, Plano, Texas 75024]] if the tech asks."),
    ("en_US", "mailing address [[123 Main St. #4, Boise ID 83702]]"),
    ("en_GB", "Send it to [[Flat 2/3, 14 Byres Road, Glasgow G11 5RD]]."),
    ("en_GB", "We moved to [[19 The Crescent, Salford M5 4PF]] in June."),
    ("en_GB", "Address: [[Ivy Cottage, High Street, Much Wenlock TF13 6AA]]"),
    ("de_DE", "Rechnungsadresse: [[Karl-Liebknecht-Str. 15, 04107 Leipzig]]"),
    ("de_DE", "Bitte an [[Hinterhaus, 3. OG links, Oranienstr. 185, 10999 Berlin]] liefern."),
    ("de_DE", "Ich wohne in der [[Lindenallee 3]] in Berlin-Westend."),
    ("nl_NL", "Ons adres is [[Oude Delft 145, 2611 HD Delft]]."),
    ("nl_NL", "Graag naar [[Weteringschans 2-A, Amsterdam]] sturen."),
    ("nl_NL", "Ik woon sinds kort op [[Hoofdweg 12 bis, 1058 AX Amsterdam]]."),
    ("hu_HU", "Az új címem [[Budapest, Váci út 99. 4. em. 12.]]"),
    ("hu_HU", "Kérem ide küldeni: [[4025 Debrecen, Piac u. 20/B]]"),
    ("hu_HU", "Cím: [[H-1052 Budapest, Deák Ferenc tér 1.]]"),
    ("fr_FR", "Adresse : [[Appartement 12, 5 rue de la Paix, 75002 Paris]]"),
    ("fr_FR", "Envoyez au [[18 quai de la Tournelle 75005 Paris]] merci."),
    ("fr_FR", "J'habite [[Lieu-dit La Garenne, 24200 Sarlat-la-Canéda]]."),
]
ADDRESS_CLOSING_NEGATIVES = [  # written with ADDRESSES_CLOSING
    "Apt 4B has no Wi-Fi, it's the bedroom far from the router.",
    "The Crescent is a lovely pub but no 4G inside.",
    "Oude Delft is mooi maar het bereik is slecht.",
    "Hinterhaus und Vorderhaus haben verschiedene Router.",
    "A Váci út mentén nincs 5G, miért?",
    "Le quai de la gare n'a pas de réseau.",
    "Route 9 to Boise has no signal for 20 miles.",
    "Karl-Liebknecht-Str. is where your shop used to be, right?",
]
ADDRESS_NEGATIVES = [
    "Is the shop in the Westfield centre open on Sunday?",
    "I'm on floor 3 of building 5 at work and have no signal.",
    "Gate 12 in Terminal 2 has no wifi.",
    "Route 66 trip next month, does roaming cover Arizona?",
    "Level 2, Bay 14 of the car park has no signal.",
    "I need 3 SIM cards for the office.",
    "Chapter 7 of the manual says to reset the box.",
    "Platform 9 at King's Cross station has no signal.",
    "Ik zit in trein 3456 naar Utrecht en heb geen bereik.",
    "Le magasin de la rue de Rivoli est-il ouvert dimanche?",
    "Room 101 of the hotel has no wifi.",
    "Das Paket ist seit 3 Tagen in Leipzig, Sendung 00340434161234567890.",
    "Im Januar 2025 wurde mein Tarif teurer.",
    "Am Montag 3 Mal angerufen, niemand ging ran.",
    "Im Vertrag 12 Monate Laufzeit, stimmt das?",
    "Terminal 2 North Gate has no wifi at all.",
    "Mein Parkplatz 12 hat kein Netz.",
    "Le 3 mars la box a redémarré 5 fois.",
    "A 2. emeleten nincs térerő, 3 napja.",
    "In week 12 had ik 3 storingen.",
    "I watched 2 Street View videos and the data ran out.",
    "Since 2019 Vodaline, 3 outages a year.",
    "I paid 45 EUR at the Oxford Street store, receipt 2231.",
    "Plan 5 Gold Premium costs 60 a month.",
    "My bill says 3 Premium Channels but I only watch one.",
    "Is the store on 5th Avenue open late?",
    "Flight 2231 from Gate 14 was delayed and I had no roaming.",
    "I need 2 Rogers Centre tickets refunded, wrong charge.",
    "Unser Büro ist im 3. Stock, der Empfang ist schlecht.",
    "Bestellung 4471 vom 12.03. ist noch nicht da.",
    "Ik heb 2 abonnementen, één voor Hoofddorp en één voor Leiden.",
    "Kérem, a 3 havi díjat írják jóvá.",
    "J'ai payé 29,99 € au lieu de 19,99 € en mars.",
    "Channel 4 Drama stopped working on the box.",
    "The 2 Broadway tickets on my bill were not mine.",
    "My 5 Star Hotel in Rome had terrible wifi.",
    "I was charged for 3 Sky Sports channels I never ordered.",
    "Is Route 1 Express covered by your 5G network?",
    "My 2 Apple Watch plans are both billed at 10 EUR.",
    "Ich zahle seit 2 Jahren 39 Euro für DSL 100.",
    "Im Laden in der Innenstadt sagte man, ich bekomme 20 GB extra.",
    "Waarom betaal ik 5 euro extra sinds 1 april?",
    "A 12 hónapos hűségidő lejárt, mit tehetek?",
    "Le forfait 5G 100 Go coûte 15 € par mois.",
    "Meeting room 4B in Tower 2 has no signal.",
    "The 10 Downing Street documentary froze twice.",
    "Order 5521 for 2 Smart Plugs never shipped.",
    "Zone 3 Bus Pass app keeps crashing.",
]
# Places named after people: a first name inside, no person meant. PLACE_NEGATIVES is what `pii_rules.is_place`
# was written against (its second half was written as a held-out set and read once: 9 of 40 changed, then 3 of
# the 9 were fixed); PLACE_NEGATIVES_HELDOUT was written after that and measured once, never tuned on.
PLACE_NEGATIVES = [
    "Is there 5G coverage around Victoria Station?",
    "The shop at Queen Elizabeth Hospital sells SIM cards, right?",
    "I'm flying to San Diego on Friday, how much is roaming?",
    "Does the Apple Watch Series 9 work with an eSIM on your plans?",
    "We stream Aston Villa matches and the picture freezes.",
    "My daughter watches Peppa Pig on the TV box and it buffers.",
    "Is St Patrick's Day a bank holiday for your shops?",
    "I can't get signal near Lake Louise in Canada.",
    "The Amazon Echo Dot drops off the Wi-Fi every night.",
    "Is Fort William covered by the 4G network?",
    "My son plays Animal Crossing online and the ping is bad.",
    "We live near Mount Pleasant and the fibre is slow.",
    "I'm in Santa Monica for a week, does the travel pass apply?",
    "Can I watch Doctor Who on your streaming bundle?",
    "Die Filiale am Kaiser Wilhelm Platz hat geschlossen.",
    "Wir wohnen in Sankt Augustin, wann kommt Glasfaser?",
    "Is de winkel in Den Helder open op zondag?",
    "Le forfait marche-t-il à Saint Martin aux Antilles?",
    "A Szent István körúti üzletben nincs térerő.",
    "My Google Pixel Fold shows No Service since the update.",
    "Is Prince Edward Island included in the North America pass?",
    "Does the Disney Plus bundle include Marvel Studios films?",
    "I was at the Royal Albert Hall and couldn't send texts.",
    "Why is Wi-Fi Calling missing on my Nokia G42?",
    "The Charlotte Street shop told me to call you.",
    "Is Saint Lucia in the roaming zone?",
    "The Victoria Line has no signal between stations.",
    "Does Amazon Prime Video count against my data?",
    "Does the eSIM work on Martha's Vineyard?",
    "Is there a shop near Rosa Luxemburg Platz?",
    "Roaming in Charlotte Amalie was very expensive.",
    "We were at Lake Victoria and had no network at all.",
    "Is there coverage at Mount Kenya base camp?",
    "Do the Queen Charlotte Islands count as Canada for roaming?",
    "I took the train from Gare Saint-Lazare and the Wi-Fi failed.",
    "Does the plan cover calls to Saint Pierre and Miquelon?",
    "Our office is right by Elizabeth Tower, the 5G is patchy.",
    "Der Empfang am Ernst Reuter Platz ist schlecht.",
    "Im Sankt Georg Krankenhaus habe ich kein Netz.",
    "Wir waren am Max Planck Institut und das WLAN ging nicht.",
    "Het ziekenhuis in Sint Maarten heeft slecht bereik.",
    "De winkel bij Station Amsterdam Zuid is dicht.",
    "Je suis à Villeneuve Saint Georges et je n'ai pas de réseau.",
    "La boutique de la Place Charles de Gaulle est fermée.",
    "Le réseau ne passe pas à l'Hôpital Georges Pompidou.",
    "A Szent Imre Kórház mellett lakom, gyenge a jel.",
    "The Wi-Fi at St Thomas' Hospital is fine but 4G isn't.",
    "Can I use my phone at John Lennon Airport?",
    "We're staying near Grace Bay and my data stopped.",
    "Is there any coverage near Victoria Falls?",
    "Is there a shop in the Eaton Centre?",
    "The fibre cabinet in George Square is broken.",
    "Ik zit in Sint Maartensdijk en heb geen bereik.",
    "Our company is based in San Jose and we need 50 SIMs.",
    "I'm calling from Santa Barbara, my line is dead.",
    "I'm at the Anne Frank House and the hotspot isn't working.",
    "Is the Isle of Man in the EU roaming zone?",
    "The Carlton Hotel Wi-Fi blocks my VPN.",
    "My package is stuck at Charles de Gaulle Airport.",
    "Do you have a store at Westfield Stratford City?",
    "The signal at Anfield Stadium drops when it's full.",
    "Does the roaming pass include Saint Helena?",
    "A Kálvin téren nincs 5G.",
    "Am Potsdamer Platz bricht das Netz ständig ab.",
    "We moved from Port Talbot to Cardiff, please change the address.",
    "Is Jersey City in the same call zone as Manhattan?",
    "The Marie Curie Hospice has asked for a business line.",
    "My son studies at Trinity College and can't get the student deal.",
]
PLACE_NEGATIVES_HELDOUT = [
    "We're on holiday in Port Louis, does my bundle work?",
    "The signal dies on the bridge to Fort Lauderdale.",
    "I'm staying at the Hotel Maria Cristina in San Sebastián.",
    "Does roaming cover St. Kitts and Nevis?",
    "My daughter studies at King Edward's School in Birmingham.",
    "Coverage on the Lake Geneva boats is terrible.",
    "In der Friedrich Ebert Straße ist der Empfang schlecht.",
    "Wir fahren nach Sankt Peter-Ording, gibt es dort 5G?",
    "De Johan Cruijff ArenA heeft geen bereik tijdens wedstrijden.",
    "Ik woon vlakbij het Wilhelmina Ziekenhuis in Assen.",
    "Is er dekking op Sint Eustatius?",
    "Bij station Rotterdam Alexander is het signaal slecht.",
    "Je travaille à l'Hôtel Marie Antoinette à Paris.",
    "Pas de 4G au Lycée Victor Hugo, c'est normal ?",
    "J'habite près du Pont Alexandre III.",
    "A Szent Erzsébet kórházban gyenge a jel.",
    "Petőfi Sándor utca környékén lassú a net.",
    "A Ferenc körúton megszakad a hívás.",
    "Do the Elizabeth Line trains have Wi-Fi now?",
    "Is Victoria Park covered by 5G home broadband?",
    "Our office moved to Charles Darwin House in London.",
    "I'm at George Best Belfast City Airport and there's no signal.",
    "Can I use roaming in Prince Rupert, British Columbia?",
    "The Wi-Fi at the Rosa Parks Library is blocked.",
    "Is the area around the Martin Luther King Jr. Memorial covered?",
    "My parents live near Lake Maggiore, is that in the EU zone?",
    "Der Laden am Konrad Adenauer Platz hat zu.",
    "Het Anne Frank Huis heeft gratis wifi, maar mijn 4G werkt niet.",
    "Le magasin de la rue Jean Jaurès est-il ouvert ?",
    "We landed at John Wayne Airport and my phone had no service.",
]
# The second round (2026-12-06): PLACE_NEGATIVES_MORE was written, read once (17 of 30 changed), and `is_place` then
# learnt more place words, an article before the opener ("Im Hotel ..."), and Hungarian's place word after the name;
# PLACE_NEGATIVES_LAST was written after that and measured once. NAMES_BESIDE_PLACES are people, not places, beside
# the same words ("Kiss Mária kórházban van": Mária Kiss is in hospital): each must be masked.
PLACE_NEGATIVES_MORE = [
    "The Wi-Fi at the John Radcliffe Hospital keeps dropping.",
    "We had no coverage inside the Abraham Lincoln Presidential Library.",
    "The shop on George Street in Edinburgh told me to ring you.",
    "Does my plan work at the Franklin D. Roosevelt Memorial?",
    "The signal is weak at Anne Hathaway's Cottage.",
    "Does the travel pass cover Prince George in British Columbia?",
    "No reception at all in the William Morris Gallery.",
    "Coverage is bad around Alexandra Palace on match days.",
    "My calls drop on the Robert Moses Causeway every morning.",
    "Is the Queen Mary University campus covered by your 5G?",
    "Im Albert Einstein Gymnasium gibt es kein Netz.",
    "An der Konrad Adenauer Brücke bricht jedes Gespräch ab.",
    "Die Marie Curie Schule in Bonn hat schlechten Empfang.",
    "Wir wohnen direkt am Willy Brandt Platz.",
    "Im Hotel Friedrich Wilhelm hatte ich kein WLAN.",
    "Bij het Beatrix Theater in Utrecht valt mijn verbinding weg.",
    "Het Maxima Medisch Centrum heeft slecht bereik.",
    "Ik sta bij de Willem Alexander Sporthal en heb geen 4G.",
    "Is er dekking in het Johan Cruijff Stadion?",
    "De Prins Hendrik Brug heeft geen signaal.",
    "Je suis au stade Pierre Mauroy ce soir, la 4G ne marche pas.",
    "Mon fils est au collège Jules Ferry et n'a pas de réseau.",
    "Il n'y a aucun réseau au musée Marmottan Claude Monet.",
    "La boutique de l'avenue Jean Moulin est-elle ouverte ?",
    "Le Théâtre Antoine à Paris bloque-t-il le réseau ?",
    "A Kossuth Lajos téren nincs jel.",
    "A Semmelweis Ignác kórház parkolójában nincs 4G.",
    "A Bartók Béla úton nagyon lassú a mobilnet.",
    "A Liszt Ferenc repülőtéren mennyibe kerül a roaming?",
    "A Széchenyi István Egyetemen gyenge a wifi.",
]
PLACE_NEGATIVES_LAST = [
    "The café inside the Florence Nightingale Museum has no signal.",
    "We're staying at the Hotel Amadeus near the station.",
    "No coverage in the Winston Churchill War Rooms at all.",
    "The Elizabeth Garrett Anderson wing has weak 4G.",
    "Does 5G reach the Captain James Cook Monument?",
    "My kids are at the Rosa Parks Elementary School all day.",
    "Is the George Washington Bridge covered by the travel pass?",
    "The Jacqueline Kennedy Onassis Reservoir path has no signal.",
    "There's no 4G inside the Henry Ford Health building.",
    "I'm at the Thomas Hardy Cottage and the line keeps dropping.",
    "Im Bertolt Brecht Theater habe ich keinen Empfang.",
    "Am Heinrich Heine Ufer bricht das Netz zusammen.",
    "Die Sophie Scholl Gesamtschule hat kein WLAN.",
    "Wir wohnen neben dem Otto Hahn Gymnasium in Göttingen.",
    "Ist die Karl Marx Allee in Berlin gut versorgt?",
    "In het Vincent van Gogh Museum valt mijn 4G weg.",
    "Op het Johan de Witt Lyceum is geen wifi.",
    "Bij de Erasmus Brug heb ik geen bereik.",
    "Het Wilhelmina Kinderziekenhuis heeft slecht bereik.",
    "Is er 5G bij de Maria Montessori school in Delft?",
    "Le réseau coupe dans le tunnel Maurice Lemaire.",
    "Je suis à l'hôpital Édouard Herriot, pas de 4G.",
    "Mon fils étudie au lycée Henri IV à Paris.",
    "La médiathèque François Mitterrand a-t-elle du réseau ?",
    "Pas de signal au parc André Citroën le dimanche.",
    "A Petőfi Sándor utcában nincs térerő.",
    "Az Erzsébet Királyné úton szakadozik a hívás.",
    "A Szent János Kórházban nincs wifi.",
    "A Móricz Zsigmond körtéren lassú a net.",
    "A Nagy Imre téren gyenge a jel.",
]
NAMES_BESIDE_PLACES = [
    "Kiss Mária kórházban van, ezért én hívom.",
    "Horváth Péter az iskolában tanít.",
    "Kovács Anna a kórházban dolgozik.",
    "Nagy Péter úton van hozzátok.",
    "Tóth Gábor iskolában tanít.",
    "Szabó Éva templomba jár minden vasárnap.",
    "Lakatos Zoltán parkban sétál, később visszahív.",
    "Jiwoo Park called me yesterday about the bill.",
    "Please ask Emma Hall at the front desk.",
    "I booked through the hotel, the contact is Jan Novak.",
    "The museum guide Laura Weber gave me your number.",
    "Our school principal, Maria Lopez, needs a new SIM.",
    "Centre manager Paul Durand will sign the contract.",
    "Dr. Anna Schmidt vom Klinikum hat angerufen.",
    "Die Schule hat Frau Julia Becker informiert.",
    "Het ziekenhuis belde Pieter de Jong terug.",
    "Je suis Claire Martin, de l'Hôtel de Ville.",
    "Au musée, demandez Sophie Bernard.",
    "My neighbour Tom Gallery keeps getting my letters.",
    "Ask for Lena Brücke at reception.",
]

# A place word in lower case after the name ("the Winston Churchill building", "het Vincent van Gogh museum"), and
# people before the same words without an article (2026-12-06): written before `is_place` read such words, measured
# once after (11 of 20 changed before, 1 after, then "In het ..." fixed; people 10 of 10 masked before and after).
PLACE_NEGATIVES_FIFTH = [
    "Is there 5G in the Winston Churchill building?",
    "The Nelson Mandela bridge has no signal at all.",
    "My kids go to the Maria Montessori school near the park.",
    "Coverage is poor at the Charles de Gaulle airport car park.",
    "We live next to the Sophie Scholl school in Munich.",
    "The Johan Cruijff stadium wifi was down during the match.",
    "No reception inside the Isaac Newton library.",
    "Is the Rosa Parks museum in your 5G map?",
    "The Walt Disney concert hall blocks my phone.",
    "In het Vincent van Gogh museum heb ik geen bereik.",
    "Bij het Erasmus Medisch Centrum valt mijn lijn weg.",
    "Im Albert Schweitzer Gymnasium gibt es kein Netz.",
    "An der Konrad Adenauer Brücke bricht das Gespräch ab.",
    "Au lycée Victor Hugo, le réseau est très faible.",
    "Le réseau coupe dans le stade Pierre Mauroy.",
    "A Semmelweis Ignác kórházban nincs térerő.",
    "The Abraham Lincoln tunnel kills my calls every day.",
    "Does the travel pass cover the Kennedy Space Center?",
    "I work at the Florence Nightingale hospital, nights only.",
    "Signal drops at the Frida Kahlo gallery in town.",
]
NAMES_BESIDE_LOWER_PLACES = [
    "Winston Barnes building manager called me yesterday.",
    "Please ask Maria Lopez, school secretary, to call back.",
    "I spoke to Anna Berg about the hospital bill.",
    "Tom Hill tunnel engineer here, my SIM is blocked.",
    "Thanks, Sophie Martin, museum shop",
    "Emma Stone library assistant called about her line.",
    "My neighbour Peter Jansen station master has no signal.",
    "Call Laura Weber stadium office on Monday.",
    "The technician Paul Durand bridge inspector left a note.",
    "Ask Lena Fischer gallery owner about the invoice.",
]


# Names typed in lower case after a cue, and a single first name after a family word ([[...]] marks the name).
# UNCASED is what tasks.data.pii_uncased was written and then fixed against: its first 12, then 30 written after
# and measured once (26 of 30), whose cue misses ("thanks in advance,", "üdvözlettel:", "ask for") were then fixed.
# UNCASED_HELDOUT was written after that fix and measured once, never tuned on (its names Faker's lists lack,
# "jeroen", "ruud", "mathieu", and the cues "it's ... here" and "bien à vous" are left missed).
UNCASED = [
    ("en_US", "my name is [[john smith]] and my internet is down"),
    ("en_US", "hi this is [[maria gonzalez]], account holder"),
    ("en_GB", "i am [[peter]]"),
    ("en_GB", "regards\n[[john]]"),
    ("en_US", "thanks, [[anna]]"),
    ("de_DE", "mein name ist [[thomas müller]]"),
    ("fr_FR", "je m'appelle [[jean dupont]]"),
    ("en_GB", "my son [[Liam]] needs a SIM"),
    ("en_US", "my daughter [[Emma]]'s phone is broken"),
    ("nl_NL", "mijn naam is [[jan de vries]]"),
    ("hu_HU", "a nevem [[kovács éva]]"),
    ("hu_HU", "my name is [[nagy péter]]"),
    ("en_US", "hey, my name is [[jessica brown]], i can't log in"),
    ("en_US", "this is [[michael]] again about the router"),
    ("en_US", "cheers, [[david]]"),
    ("en_US", "can my husband [[Robert]] use my data?"),
    ("en_US", "i'm [[sarah miller]] and i want to cancel"),
    ("en_GB", "hiya, i'm [[charlotte]] from flat 2"),
    ("en_GB", "my neighbour [[Oliver]] gets my post"),
    ("en_GB", "kind regards, [[james wilson]]"),
    ("en_GB", "my wife [[emily]] has the other sim"),
    ("de_DE", "hallo, ich bin [[lukas]] und mein internet geht nicht"),
    ("de_DE", "meine tochter [[Sophie]] braucht eine neue sim"),
    ("de_DE", "viele grüße, [[stefan schmidt]]"),
    ("de_DE", "mein name ist [[julia wagner]], kundennummer folgt"),
    ("nl_NL", "hoi, ik ben [[daan]] en mijn wifi doet raar"),
    ("nl_NL", "mijn zoon [[Sem]] heeft een eigen abonnement nodig"),
    ("nl_NL", "groetjes, [[sanne bakker]]"),
    ("nl_NL", "mijn naam is [[lotte van dijk]]"),
    ("hu_HU", "szia, a nevem [[tóth anna]]"),
    ("hu_HU", "a fiam [[Bence]] telefonja nem működik"),
    ("hu_HU", "üdvözlettel: [[szabó lászló]]"),
    ("hu_HU", "köszönöm, [[katalin]]"),
    ("fr_FR", "bonjour, je suis [[camille martin]], j'ai un souci"),
    ("fr_FR", "mon mari [[Thomas]] n'a plus de réseau"),
    ("fr_FR", "cordialement, [[julien bernard]]"),
    ("fr_FR", "merci, [[léa]]"),
    ("fr_FR", "ma fille [[Chloé]] a perdu son téléphone"),
    ("de_DE", "My name is [[jörg]] and I am locked out"),
    ("en_US", "thanks in advance, [[marco rossi]]"),
    ("en_GB", "my colleague [[Priya]] set up the account"),
    ("en_US", "please ask for [[tom]] at the shop"),
]
UNCASED_HELDOUT = [
    ("en_US", "hello, my name is [[ashley johnson]] and my bill is wrong"),
    ("en_US", "it's [[kevin]] here, the modem is blinking red"),
    ("en_US", "my mom [[Linda]] is on my family plan"),
    ("en_US", "thank you in advance, [[jennifer davis]]"),
    ("en_US", "best wishes, [[brian]]"),
    ("en_GB", "hello, i'm [[thomas wright]], i moved house last week"),
    ("en_GB", "my brother [[Harry]] needs a new sim"),
    ("en_GB", "many thanks, [[sophie]]"),
    ("en_GB", "name is [[george evans]] if you need it"),
    ("en_GB", "regards,\n[[amelia clarke]]"),
    ("de_DE", "guten tag, mein name ist [[andreas becker]]"),
    ("de_DE", "mein sohn [[Jonas]] hat sein handy verloren"),
    ("de_DE", "danke im voraus, [[katrin]]"),
    ("de_DE", "hi, ich heiße [[felix]] und habe eine frage"),
    ("de_DE", "gruß [[markus hoffmann]]"),
    ("nl_NL", "hallo, mijn naam is [[bram de jong]]"),
    ("nl_NL", "mijn vrouw [[Eva]] kan niet bellen"),
    ("nl_NL", "bedankt, [[jeroen]]"),
    ("nl_NL", "ik heet [[femke]] en ik wil opzeggen"),
    ("nl_NL", "met vriendelijke groet, [[ruud visser]]"),
    ("hu_HU", "jó napot, a nevem [[kiss gábor]]"),
    ("hu_HU", "a lányom [[Réka]] telefonja lemerült"),
    ("hu_HU", "köszönöm előre, [[zsófia]]"),
    ("hu_HU", "tisztelettel, [[horváth istván]]"),
    ("hu_HU", "nevem [[varga péter]], ügyfélszámom van"),
    ("fr_FR", "bonsoir, je m'appelle [[nicolas petit]]"),
    ("fr_FR", "ma femme [[Sophie]] n'a plus de réseau"),
    ("fr_FR", "merci d'avance, [[mathieu]]"),
    ("fr_FR", "je suis [[manon]] et ma box ne marche pas"),
    ("fr_FR", "bien à vous, [[pierre durand]]"),
]
# Written 2026-12-06 before the lower-case names took in the same languages' other countries' lists (nl_BE, fr_CA
# ...), measured once after (23 of 30 before, 24 after); its misses were: cues it lacks ("lg", "bonne
# journée", Hungarian "nóra vagyok"), "o'brien", "destiny" (an everyday word), "alfie". The cue misses and
# "o'brien" were then fixed (28 of 30, no longer blind).
UNCASED_LAST = [
    ("en_GB", "hiya, this is [[gemma]] from flat 2"),
    ("en_US", "thanks, [[tyler]]"),
    ("en_GB", "cheers, [[callum]]"),
    ("en_US", "my name is [[brandon lee]] and the app crashes"),
    ("en_GB", "kind regards, [[niamh o'brien]]"),
    ("en_US", "i'm [[destiny]]'s mom, she lost her phone"),
    ("de_DE", "viele grüße, [[lukas]]"),
    ("de_DE", "ich heiße [[jana becker]] und habe kein netz"),
    ("de_DE", "mein name ist [[florian]]"),
    ("de_DE", "lg [[sabine]]"),
    ("de_DE", "danke, [[timo]]"),
    ("nl_NL", "groetjes, [[sanne]]"),
    ("nl_NL", "mijn naam is [[thijs van dijk]]"),
    ("nl_NL", "ik heet [[femke]] en mijn bundel is op"),
    ("nl_NL", "bedankt, [[wouter]]"),
    ("nl_NL", "met vriendelijke groet, [[joost]]"),
    ("fr_FR", "je m'appelle [[camille]]"),
    ("fr_FR", "merci, [[théo]]"),
    ("fr_FR", "cordialement, [[julien moreau]]"),
    ("fr_FR", "mon nom est [[inès]]"),
    ("fr_FR", "bonne journée, [[baptiste]]"),
    ("hu_HU", "a nevem [[kiss dóra]]"),
    ("hu_HU", "köszönöm, [[bence]]"),
    ("hu_HU", "üdvözlettel, [[varga tamás]]"),
    ("hu_HU", "[[nóra]] vagyok, nincs térerő"),
    ("en_US", "ask for [[kayla]] at the front desk"),
    ("en_GB", "my son [[alfie]] needs a sim"),
    ("de_DE", "meine tochter [[mia]] braucht eine neue karte"),
    ("nl_NL", "mijn vrouw [[lotte]] belt morgen"),
    ("fr_FR", "ma femme [[océane]] a le même souci"),
]
# Names in capitals, as forms and signatures write them, and a form's "SURNAME, First" (2026-12-06): written after
# the change that reads them and before measuring it, measured once (19 of 20; the miss, "Mit freundlichen Grüßen",
# a cue the module lacked, was then added). Before the change: 0 of 20.
CAPS = [
    ("en_GB", "Account name: [[OLIVER BROWN]]"),
    ("en_US", "Thanks, [[EMILY DAVIS]]"),
    ("en_US", "MY NAME IS [[DANIEL WILSON]] AND MY PHONE IS BROKEN"),
    ("en_GB", "Kind regards,\n[[SOPHIE TAYLOR]]"),
    ("de_DE", "Mit freundlichen Grüßen\n[[KLAUS SCHNEIDER]]"),
    ("de_DE", "Mein Name ist [[PETRA WAGNER]]."),
    ("nl_NL", "Met vriendelijke groet, [[PIETER JANSEN]]"),
    ("nl_NL", "Mijn naam is [[ANNA DE BOER]]"),
    ("fr_FR", "Cordialement, [[MARIE DUBOIS]]"),
    ("fr_FR", "Je m'appelle [[LUC MARTIN]]"),
    ("hu_HU", "Üdvözlettel: [[NAGY ISTVÁN]]"),
    ("hu_HU", "A nevem [[SZABÓ KATALIN]]"),
    ("en_US", "Name: [[JOHNSON, Michael]]"),
    ("en_GB", "Contact: [[HUGHES, Sarah]]"),
    ("de_DE", "Name: [[MEYER, Stefan]]"),
    ("en_US", "This is [[JESSICA MILLER]] from apartment 4"),
    ("en_GB", "Signed: [[JAMES WRIGHT]]"),
    ("en_US", "account holder [[ROBERT MOORE]]"),
    ("nl_NL", "Groeten, [[SANNE VISSER]]"),
    ("fr_FR", "Merci, [[CLAIRE ROUX]]"),
]
CAPS_NEGATIVES = [
    "THIS IS UNACCEPTABLE, FIX MY INTERNET",
    "I AM SO ANGRY ABOUT THE BILL",
    "THANKS FOR NOTHING",
    "MY NAME IS ON THE CONTRACT, WHY CAN'T I CANCEL?",
    "REGARDS FROM A VERY UNHAPPY CUSTOMER",
    "Plan name: UNLIMITED MAX",
    "Name: FAMILY SHARE XL",
    "Contact: CUSTOMER SERVICE",
    "ICH BIN SEHR ENTTÄUSCHT",
    "MERCI, BONNE JOURNÉE",
]
UNCASED_NEGATIVES = [
    "my son will call you",
    "this is frank feedback",
    "i am fine thanks",
    "this is ridiculous",
    "i'm on the unlimited plan",
    "thanks, bye",
    "regards from berlin",
    "my wife is away",
    "ich bin seit 5 jahren kunde",
    "this is brown bread",
    "i am so tired of this router",
    "this is the third time i call",
    "thanks, that worked",
    "my son is 12 and needs a plan",
    "my wife and i share a contract",
    "i'm angry about the bill",
    "this is frankly unacceptable",
    "ich bin nicht zufrieden",
    "je suis très déçu",
    "ik ben klant sinds 2010",
    "a nevem alatt van a szerződés",
    "my daughter will pay the bill",
    "merci, bonne journée",
    "mein mann hat das handy verloren",
    "cheers, mate",
    "thanks in advance, really appreciated",
    "ask for a refund please",
    "speak to you soon",
    "my mom is on my plan too",
    "it's working now, thanks",
    "danke, alles gut",
    "merci d'avance pour votre aide",
    "mijn vrouw en ik delen een abonnement",
    "best wishes for the new year",
    "regards to the team",
    "köszönöm szépen a segítséget",
    "je suis client depuis 10 ans",
    # 2026-12-06, written with the cues "lg", "bonne journée", "bises", a dash after a sign-off and "... vagyok"
    "my lg tv is broken",
    "lg, bis morgen",
    "thanks - that worked",
    "cheers - mate",
    "elégedetlen vagyok a szolgáltatással",
    "nagyon mérges vagyok",
    "ügyfél vagyok 2010 óta",
    "bonne journée, à bientôt",
    "bises, et merci",
    "vg aus hamburg",
]

# Names from beyond the six locales' Faker lists, in the sentences people write them in (2026-12-06, stop 29).
# NAMES_WIDER was written first and read: it showed a name cut in two at a letter the rules did not know
# ("<NAME>ęczyszczykiewicz"), one first name after "my daughter" or "a guy called" missed unless Faker knew it, and
# romanised Chinese names ("Zhang Wei") scored as things; the rules and the name model were changed on it.
# NAMES_WIDER_HELDOUT and NAMES_WIDER_NEGATIVES were written before those changes and measured once after them
# (23 of 25; 3 of 10 look-alikes changed, each a capitalised word after a family word). NAMES_WIDER_NEGATIVES_MORE
# was then written and changed 7 of 20; since then a capitalised word after such a cue must be a first name of one
# of the name model's 54 locales or score as a name (22 of 25, "Ilvy" missed; 0 of 10; 3 of 20).
NAMES_WIDER = [
    ("en_US", "Hi, this is [[Priya Raghunathan]], my router keeps dropping the connection."),
    ("en_US", "Please call my husband [[Oluwaseun Adeyemi]] on the number on file."),
    ("en_US", "Account holder is [[Nguyen Thi Mai]], she moved last month."),
    ("en_GB", "I spoke to your colleague [[Mohammed Al-Farsi]] yesterday and he promised a refund."),
    ("en_GB", "My daughter [[Siobhan]] asked me to write on her behalf."),
    ("en_GB", "Regards, [[Wojciech Brzęczyszczykiewicz]]"),
    ("en_US", "Can [[Zhang Wei]] from your tech team call me back?"),
    ("en_GB", "The technician, a guy called [[Tariq]], never showed up."),
    ("en_US", "Dear support, my name is [[Aigerim Bekova]] and my SIM is blocked."),
    ("de_DE", "Bitte rufen Sie Frau [[Schmidt-Kowalczyk]] zurück."),
    ("fr_FR", "Je suis [[Mamadou Diallo]], client depuis 2019."),
    ("nl_NL", "Ik ben [[Fatima el Amrani]] en mijn factuur klopt niet."),
    ("hu_HU", "[[Kovácsné Nagy Erzsébet]] vagyok, a számlám hibás."),
    ("en_US", "cheers, [[kwame]]"),
    ("en_US", "thanks - [[rajesh kumar]]"),
    ("en_GB", "Send the invoice to [[Hiroshi Tanaka]] at the office."),
    ("en_GB", "My landlord Mr. [[Papadopoulos]] says the line is fine."),
    ("en_US", "The order was placed by [[Ana María López García]]."),
    ("en_GB", "Please cancel the contract of my late father, [[Giuseppe Russo]]."),
    ("en_US", "It was [[Svetlana Ivanova]] who activated the line."),
]
NAMES_WIDER_HELDOUT = [
    ("en_GB", "Yours truly, [[Grzegorz Świątek]]"),
    ("en_US", "The account was opened by [[Łukasz Żmuda]] in 2020."),
    ("en_GB", "Please note that [[Dragoș Lăcătușu]] is the new contact."),
    ("en_GB", "I called yesterday with my brother [[Eoghan]]."),
    ("en_GB", "My neighbour [[Thandiwe]] has the same problem."),
    ("en_GB", "A woman called [[Bronagh]] answered the phone."),
    ("en_US", "The engineer, a man named [[Vusumuzi]], left early."),
    ("en_US", "Could [[Liu Yifei]] from billing call me?"),
    ("en_US", "Contract holder: [[Tanaka Haruto]]"),
    ("en_US", "Please ask [[Huang Jiaming]] to send the letter again."),
    ("de_DE", "Meine Tochter [[Ilvy]] nutzt die zweite SIM."),
    ("nl_NL", "Mijn zoon [[Daan]] heeft een nieuw toestel."),
    ("fr_FR", "Ma fille [[Maëlys]] a perdu son téléphone."),
    ("nl_NL", "Ik ben [[Yasmina Bouzid]], klant sinds 2018."),
    ("nl_NL", "Groeten, [[Bram Kuipers]]"),
    ("de_DE", "Mit freundlichen Grüßen, [[Jürgen Dąbrowski]]"),
    ("hu_HU", "Üdvözlettel: [[Bíró Ágnes]]"),
    ("hu_HU", "Kérem, hívja vissza [[Fekete Zsoltot]]."),
    ("fr_FR", "J'ai eu au téléphone Mme [[Chloé Lefèvre-Dubois]]."),
    ("en_GB", "The bill is addressed to [[Ayşe Yılmaz]] but she moved."),
    ("en_GB", "Our tenant [[Ngozi Okonkwo]] needs a new router."),
    ("en_GB", "This is [[Siddharth Venkataraman]] from flat 4."),
    ("en_US", "Please add [[Chidinma Eze]] as an authorised user."),
    ("en_GB", "Spoke with your agent [[Kateřina Nováková]] on Monday."),
    ("en_GB", "regards, [[siobhan]]"),
]
NAMES_WIDER_NEGATIVES = [
    "My daughter Apple Watch stopped syncing.",
    "I have a plan called Young Magenta and an app called Signal.",
    "My husband Can't log in to Mein Konto.",
    "A guy called Customer Service never rang back.",
    "Mijn zoon Gebruikt nu de Family Share bundel.",
    "The file named Report Final is attached.",
    "Ik ben Vodafone klant sinds 2015.",
    "My colleague Bought a Galaxy Watch last week.",
    "Żabka sells top-up cards in Łódź Kaliska station.",
    "Ik ben Blij met de nieuwe Fritz Box.",
]
# Written at the end of 2026-12-06's changes (names beyond the lists, capitals, cues, greetings) and measured once:
# 23 of 30 (18 with the code of the day before), none of 15 look-alikes changed. Its misses are left for the next
# round: "CARLOS MENDOZA" after a dash, "Thanks again Farah", "Vertragsinhaber: Weiß, Hannelore", "op naam van
# mevrouw Yildiz", "O'Sullivan, Ciarán", "Xu Mingyue", and "dr." left before a Hungarian name (a title, counted).
NAMES_LAST = [
    ("en_GB", "Morning! [[Callum]] here again, the broadband dropped twice overnight."),
    ("en_US", "hey [[jordan]], thx for the help yesterday"),
    ("en_US", "Could you update the account to my wife's name, [[Keisha Robinson]]?"),
    ("en_GB", "Dear [[Imogen]], I still have no dial tone."),
    ("en_US", "The bill was sent to [[Mr. Takeshi Yamamoto]] by mistake."),
    ("en_GB", "Best, [[Rhiannon Pryce-Jones]]"),
    ("en_US", "RE: ticket 4471 - [[CARLOS MENDOZA]]"),
    ("en_GB", "Thanks again [[Farah]]!"),
    ("en_US", "I'm calling for my grandpa [[Harold]], he can't hear well."),
    ("en_GB", "Contract holder is [[Dr Olumide Bakare]]."),
    ("de_DE", "Hallo [[Jens]], das Modem blinkt wieder rot."),
    ("de_DE", "Mit besten Grüßen\n[[Friederike von Arnim]]"),
    ("de_DE", "Mein Mann [[Goran]] hat die Rechnung bezahlt."),
    ("de_DE", "Vertragsinhaber: [[Weiß, Hannelore]]"),
    ("de_DE", "Bitte schicken Sie die SIM an [[Frau Özlem Arslan]]."),
    ("nl_NL", "Hoi [[Mees]], de router doet het weer niet."),
    ("nl_NL", "Met vriendelijke groet,\n[[Ingrid Smits-van Leeuwen]]"),
    ("nl_NL", "De rekening staat op naam van [[mevrouw Yildiz]]."),
    ("nl_NL", "Mijn buurman [[Henk]] heeft hetzelfde probleem."),
    ("fr_FR", "Bonjour [[Anaïs]], la box ne marche toujours pas."),
    ("fr_FR", "Je vous écris de la part de mon père, [[Gérard Lemaire]]."),
    ("fr_FR", "Cordialement,\n[[Soraya Benali]]"),
    ("fr_FR", "Le contrat est au nom de [[M. Thibault Garnier]]."),
    ("fr_FR", "ma fille [[clémence]] a perdu sa carte sim"),
    ("hu_HU", "Szia [[Réka]], megint nincs net."),
    ("hu_HU", "Tisztelettel:\n[[dr. Horváth Zsuzsanna]]"),
    ("hu_HU", "[[Balogh Ferenc]] vagyok, a számlám kétszer jött."),
    ("hu_HU", "A férjem, [[Lakatos Gyula]] fizeti a számlát."),
    ("en_GB", 'From: "[[O\'Sullivan, Ciarán]]" <c.osullivan@eircom.net>'),
    ("en_US", "Please ask [[Xu Mingyue]] in your billing team to call me."),
]
NAMES_LAST_NEGATIVES = [
    "Hi team, the Galaxy S24 keeps dropping 5G.",
    "Dear Vodaline, your app is broken again.",
    "Thanks for nothing, the engineer never came.",
    "Hallo zusammen, ist das Netz in Köln gestört?",
    "Bonjour, la Freebox Pop ne s'allume plus.",
    "Hoi, werkt Wi-Fi Calling in België?",
    "Szia, a Telekom TV nem indul.",
    "Morning all, is there an outage in Manchester?",
    "My son Premier League pass stopped working.",
    "Best regards from the Netherlands",
    "Hi, Amazon Prime is not included in my plan?",
    "Dear Sir or Madam, I want to cancel.",
    "Thanks Vodaline team!",
    "Hello, the Windows Update broke my VPN.",
    "Beste klantenservice, mijn factuur klopt niet.",
]
NAMES_WIDER_NEGATIVES_MORE = [
    "My son Liverpool fan wants Sky Sports on his phone.",
    "My wife Uses the Family Share plan, is that OK?",
    "Our neighbour Wi-Fi is called Vodafone-7F2A and it interferes.",
    "A guy called from Customer Service and said my line is fine.",
    "A lady named in the letter is not me.",
    "My daughter Netflix account was hacked.",
    "Ich habe mit Ihrem Kollegen gesprochen, er heißt Support-Team.",
    "Meine Frau Hat das neue iPhone bestellt.",
    "Mijn man Belt morgen terug.",
    "Ma femme Orange client depuis 10 ans.",
    "The Windows Update broke my VPN. Windows is now very slow.",
    "I use Google Maps and Google Drive. Google says no signal.",
    "Apple Music stopped. Apple support sent me here.",
    "Premier League matches buffer. Premier League is the only reason I pay.",
    "My husband: he called yesterday.",
    "Someone named the router Mordor, can I rename it?",
    "A man called twice about a refund I never asked for.",
    "My colleague Ms. Office 365 licence expired.",
    "The technician called it a Fritz Box issue.",
    "Dear Sir or Madam, the bill for March is wrong.",
]

NAMES_NEXT = [  # written before the changes that followed NAMES_LAST, measured after each round of them (bench/pii.py)
    ("en_US", "I spoke to [[Brianna]] from your billing team and she said it was fixed."),
    ("en_GB", "Your technician, [[Gareth Llewellyn]], never turned up on Tuesday."),
    ("en_US", "From: [[Danielle Okafor]] <d.okafor@example.com>"),
    ("en_US", "[[Marcus Whitfield]] and I share the family plan, can we split it?"),
    ("en_GB", "cc [[Priyanka Sharma]] (she pays the bill)"),
    ("en_US", "Please put the router in [[Tomás Herrera]]'s name instead."),
    ("en_GB", "My ex-husband [[Declan Murphy]] still has access to the account."),
    ("en_US", "Ask for [[Wojciech Kowalczyk]] at the front desk when the courier arrives."),
    ("en_GB", "[10:42] [[Aoife Brennan]]: is the outage over yet?"),
    ("en_US", "per [[Stephanie Nguyen]]'s request, the line was suspended"),
    ("de_DE", "Ich habe gestern mit Ihrer Kollegin [[Frau Baumgartner]] telefoniert."),
    ("de_DE", "Der Anschluss läuft auf [[Mehmet Aydın]], meinen Mitbewohner."),
    ("de_DE", "Grüße aus Köln, [[Lukas]]"),
    ("de_DE", "Bitte schicken Sie die Rechnung an [[Herrn Dr. Wolfgang Pietsch]]."),
    ("de_DE", "Mein Vater, [[Reinhard Köhler]], ist im Krankenhaus und kann nicht anrufen."),
    ("nl_NL", "Ik heb gebeld met [[Sanne]] van de klantenservice."),
    ("nl_NL", "Het abonnement staat op naam van [[Bram van Dijk]]."),
    ("nl_NL", "Groetjes, [[Fleur]]"),
    ("nl_NL", "Mijn buurman [[Henk Jansen]] heeft hetzelfde probleem."),
    ("nl_NL", "[[Ingrid de Wit-Bos]] is de contracthouder."),
    ("hu_HU", "Tegnap beszéltem [[Kiss Gáborral]] az ügyfélszolgálaton."),
    ("hu_HU", "A számla [[Nagy Erzsébet]] nevére szól."),
    ("hu_HU", "Köszönöm, [[Réka]]"),
    ("hu_HU", "A szomszédom, [[Tóth Attila]] is panaszkodott."),
    ("fr_FR", "J'ai eu [[Camille]] au téléphone hier, elle m'a promis un rappel."),
    ("fr_FR", "La ligne est au nom de [[Mme Nathalie Lefèvre]]."),
    ("fr_FR", "Amitiés, [[Benoît]]"),
    ("fr_FR", "Mon colocataire [[Karim Benali]] utilise la même box."),
    ("fr_FR", "Merci à [[Jean-Baptiste Moreau]] pour son aide."),
    ("en_US", "hi its [[tyler]] again, still no signal at home"),
]

NAMES_NEXT_NEGATIVES = [  # look-alikes written with NAMES_NEXT
    "I spoke to someone from your billing team and they said it was fixed.",
    "Your Smart Home Hub never turned up on Tuesday.",
    "From: Vodaline Billing <billing@vodaline.example>",
    "Apple Music and Disney Plus are both on my plan, can we split it?",
    "cc Customer Care (they handle refunds)",
    "Please put the router in the Living Room instead.",
    "Ask for Parcel Collection at the front desk when the courier arrives.",
    "[10:42] Support Bot: is the outage over yet?",
    "Grüße aus Köln, Ihr Kunde",
    "Ich habe gestern mit Ihrer Hotline telefoniert.",
    "Groetjes, de familie",
    "Het abonnement staat op naam van het bedrijf.",
    "Köszönöm, Telekom",
    "Amitiés, un client fidèle",
    "La ligne est au nom de la Société Générale.",
]

NAMES_FINAL = [  # written after those rounds, measured once with the code before them and once after
    ("en_US", "Can you check why [[Jamal Washington]]'s phone is still barred?"),
    ("en_GB", "The parcel was signed for by [[Eleanor Whitaker]] but nobody here knows her."),
    ("en_US", "my mom [[linda]] is the account owner, can she call instead?"),
    ("en_GB", "Lovely service from [[Rhys]] at the Cardiff store today!"),
    ("en_US", "Hi, this is [[Dr. Anita Raghunathan]]'s office, we need a second line."),
    ("en_GB", "Please stop sending letters addressed to [[Mrs P. Cartwright]], she moved out."),
    ("en_US", "Transfer the number to [[Luis Alberto Fernández]] please."),
    ("en_GB", "Kind regards\n[[Tomasz]]"),
    ("en_US", "Is [[Kowalski]] from tech support working today?"),
    ("en_US", "Who is [[Bernadette Quinlan]]? She is listed as a user on my account."),
    ("de_DE", "Können Sie [[Jürgen Tietz]] bitte zurückrufen?"),
    ("de_DE", "Der Techniker, Herr [[Brandauer]], kam zwei Stunden zu spät."),
    ("de_DE", "Danke für die schnelle Hilfe!\n\n[[Anneliese Fuchs]]"),
    ("de_DE", "Ich schreibe im Auftrag von [[Hildegard Marquardt]], meiner Tante."),
    ("de_DE", "Servus, da ist nochmal der [[Sepp]] wegen dem Router."),
    ("nl_NL", "Kunt u [[Pieter-Jan Hendriks]] terugbellen op zijn mobiel?"),
    ("nl_NL", "De monteur, [[Mohamed el Idrissi]], heeft de kabel verkeerd aangesloten."),
    ("nl_NL", "Vriendelijke groeten,\n[[Marloes]]"),
    ("nl_NL", "Mijn schoonmoeder [[Gerda Vos]] wil ook een abonnement."),
    ("nl_NL", "Graag de factuur naar [[dhr. R. Mulder]] sturen."),
    ("hu_HU", "Kérem, hívják vissza [[Varga Bencét]] ezen a számon."),
    ("hu_HU", "Üdv,\n[[Kata]]"),
    ("hu_HU", "A szerelő, [[Farkas Imre]], nem jött ki."),
    ("hu_HU", "Az előfizetés [[Molnár Judit]] nevén van."),
    ("hu_HU", "Helló, [[Dani]] vagyok, nem megy a tévé."),
    ("fr_FR", "Pouvez-vous rappeler [[Hélène Rousseau]] avant midi ?"),
    ("fr_FR", "Le technicien, M. [[Bouchard]], n'est jamais venu."),
    ("fr_FR", "Bonne soirée,\n[[Quentin]]"),
    ("fr_FR", "Mon beau-frère [[Rachid Amrani]] a le même souci."),
    ("fr_FR", "c'est [[juliette]], je vous ai écrit hier pour la facture"),
]

NAMES_FINAL_NEGATIVES = [  # look-alikes written with NAMES_FINAL
    "Can you check why the Galaxy phone is still barred?",
    "The parcel was signed for by Reception but nobody here knows about it.",
    "Lovely service from the Cardiff store today!",
    "Transfer the number to the Business Account please.",
    "Kind regards\nThe Accounts Team",
    "Is Tech Support working today?",
    "Können Sie mich bitte zurückrufen?",
    "Danke für die schnelle Hilfe!\n\nIhr Kunde aus Bremen",
    "Servus, da ist nochmal der Router kaputt.",
    "Vriendelijke groeten,\nFamilie uit Utrecht",
    "Graag de factuur naar de Administratie sturen.",
    "Üdv,\nEgy elégedetlen ügyfél",
    "Bonne soirée,\nService Client",
    "Pouvez-vous rappeler avant midi ?",
    "Le technicien n'est jamais venu, Orange m'a menti.",
]

NAMES_AFTER = [  # written after the last change (a lone first name); measured once before the changes, once after
    ("en_US", "Could you let [[Marisol]] know her new SIM is on the way?"),
    ("en_GB", "The engineer said [[Callum Fraser]] would ring me today, he didn't."),
    ("en_US", "Please add [[Deshawn Carter]] as an authorised user."),
    ("en_GB", "My flatmate's name is [[Ottilie]] and she keeps using my hotspot."),
    ("en_US", "I want to remove [[Gregory]] from the family plan."),
    ("en_GB", "Ticket raised by [[Harriet Osei-Bonsu]] last week, still open."),
    ("en_US", "Send the contract to my lawyer, [[Rebecca Stein]]."),
    ("en_US", "Tell [[Dmitri]] the router he sold me is faulty."),
    ("en_GB", "Cheers for sorting it, [[Niamh]]!"),
    ("en_US", "Account in the name of [[Guadalupe Ortiz]], she passed away last month."),
    ("de_DE", "Bitte richten Sie [[Frau Dr. Sabine Lorenz]] aus, dass ich angerufen habe."),
    ("de_DE", "Können Sie [[Matthias]] Bescheid geben, dass der Router da ist?"),
    ("de_DE", "Der Vertrag läuft noch auf meine Ex-Frau [[Tanja Albrecht]]."),
    ("de_DE", "Beste Grüße\n[[Konstantin Vogel]]"),
    ("de_DE", "Ich möchte [[Emre]] als zweiten Nutzer eintragen."),
    ("nl_NL", "Kunt u [[Joost]] even terugbellen?"),
    ("nl_NL", "Mijn ex-vriendin [[Lotte Bakker]] heeft nog toegang tot mijn account."),
    ("nl_NL", "Met vriendelijke groet, [[W. van den Heuvel]]"),
    ("nl_NL", "Ik wil [[Noor]] toevoegen aan mijn bundel."),
    ("nl_NL", "Het contract is afgesloten door [[Khalid Bouzid]]."),
    ("hu_HU", "Kérem, szóljanak [[Eszternek]], hogy megjött a router."),
    ("hu_HU", "Az előfizető [[Papp Gergely]], én csak a fia vagyok."),
    ("hu_HU", "Üdvözlettel: [[Simon Dóra]]"),
    ("hu_HU", "A volt férjem, [[Vass Norbert]] még mindig a számlán van."),
    ("hu_HU", "Köszönöm a segítséget, [[Bálint]]!"),
    ("fr_FR", "Pouvez-vous prévenir [[Manon]] que sa carte SIM est arrivée ?"),
    ("fr_FR", "Je voudrais ajouter [[Théo Girard]] comme utilisateur."),
    ("fr_FR", "Mon ex-femme [[Sandrine Morel]] a encore accès au compte."),
    ("fr_FR", "Cordialement, [[Pierre-Yves Le Goff]]"),
    ("fr_FR", "C'est [[Inès]] qui paie la facture, pas moi."),
]

NAMES_AFTER_NEGATIVES = [  # look-alikes written with NAMES_AFTER
    "Could you let me know when the new SIM is on the way?",
    "Please add Disney Plus as an extra on my plan.",
    "I want to remove Netflix from the family plan.",
    "Send the contract to my lawyer, please.",
    "Cheers for sorting it, legend!",
    "Bitte richten Sie Ihrem Team aus, dass ich angerufen habe.",
    "Ich möchte Apple Music als Option eintragen.",
    "Kunt u mij even terugbellen?",
    "Ik wil Ziggo Sport toevoegen aan mijn bundel.",
    "Kérem, szóljanak a szerelőnek, hogy megjött a router.",
    "Köszönöm a segítséget, Telekom!",
    "Pouvez-vous prévenir le service technique ?",
    "Je voudrais ajouter Canal Plus comme option.",
    "We moved to Florence, Italy, and roaming fails.",
    "The signal is weak near Victoria Station in London.",
]

NAMES_CLOSING = [  # written after every change of the session; measured once before the changes, once after
    ("en_US", "Hey, it's [[Brandon]] from apartment 4, is the building's fibre down?"),
    ("en_GB", "Our nanny [[Agnieszka]] needs a SIM for the kids' tablet."),
    ("en_US", "I'm writing on behalf of my grandmother, [[Dolores Reyes]], who doesn't use email."),
    ("en_GB", "Spoke with [[Tariq]] on the phone, he promised a callback within 24h."),
    ("en_US", "The account holder [[Tyrone Jackson]] authorised me to make changes."),
    ("en_GB", "Cheers,\n[[Fergus McAllister]]"),
    ("en_US", "Please don't call [[Miguel]] about this, call me instead."),
    ("en_GB", "[[Priya Raman]] here, following up on case 88213."),
    ("en_US", "My daughter's phone is registered under [[Hailey Brooks]]."),
    ("en_US", "thanks [[kevin]] you were a great help"),
    ("de_DE", "Guten Tag, mein Name ist [[Ulrike Hoffmann-Berger]]."),
    ("de_DE", "Frau [[Yılmaz]] aus Ihrem Shop hat mir das Handy verkauft."),
    ("de_DE", "Könnte [[Niklas]] mich morgen früh anrufen?"),
    ("de_DE", "Viele Grüße\n[[Dr. Johannes Kleinert]]"),
    ("de_DE", "Der Zugang gehört meinem Sohn [[Finn]]."),
    ("nl_NL", "Goedemiddag, u spreekt met [[Annelies Verhoeven]]."),
    ("nl_NL", "Wilt u [[Thijs]] laten weten dat de storing voorbij is?"),
    ("nl_NL", "Het nummer is van mijn dochter [[Sara El Khatib]]."),
    ("nl_NL", "Groet,\n[[Ruud]]"),
    ("nl_NL", "Mevrouw [[Jansen-Kok]] heeft gisteren gebeld over de factuur."),
    ("hu_HU", "Jó napot, [[Szűcs Katalin]] vagyok, a netem nem működik."),
    ("hu_HU", "A lányom, [[Lili]] telefonja elveszett."),
    ("hu_HU", "Kérem, [[Horváth Péter]] nevére állítsák ki a számlát."),
    ("hu_HU", "Üdvözlettel:\n[[Kiss-Tóth Andrea]]"),
    ("hu_HU", "Beszéltem [[Gáborral]] a boltban, ő azt mondta, jó lesz."),
    ("fr_FR", "Bonjour, je suis [[Élodie Marchand]], cliente depuis 2015."),
    ("fr_FR", "Mon mari [[Olivier]] a appelé hier sans succès."),
    ("fr_FR", "Merci de contacter [[Mme Fatou Diop]] pour l'installation."),
    ("fr_FR", "Bien à vous,\n[[Grégoire de La Tour]]"),
    ("fr_FR", "Est-ce que [[Baptiste]] peut me rappeler ?"),
]
NAMES_CLOSING_NEGATIVES = [  # look-alikes written with NAMES_CLOSING
    "Hey, it's the tenant from apartment 4, is the fibre down?",
    "Our Nanny Cam needs a SIM for remote viewing.",
    "Please don't call the landline about this, call my mobile.",
    "The account holder authorised me to make changes.",
    "thanks guys you were a great help",
    "Guten Tag, mein Vertrag läuft bald aus.",
    "Könnte jemand mich morgen früh anrufen?",
    "Wilt u de monteur laten weten dat de storing voorbij is?",
    "Groet,\nde bewoners van nummer 12",
    "A lányom telefonja elveszett.",
    "Kérem, a cég nevére állítsák ki a számlát.",
    "Mon mari a appelé hier sans succès.",
    "Est-ce que Bouygues peut me rappeler ?",
    "The Jordan Valley tour had no roaming signal.",
    "Victoria and Albert Museum wifi is blocked.",
]

NAMES_FRESH = [  # written at the start of 2026-12-06's last session: 25 of 30 before its changes, 29 after
    ("en_US", "[10:42] [[Marcus Bell]]: my router keeps rebooting every hour"),
    ("en_GB", "Could you send the replacement SIM c/o [[Siobhan O'Neill]] at the same address?"),
    ("en_US", "It's for me, my wife [[Rachel]] and our two kids, so a family plan."),
    ("en_GB", "[[Hamish]]'s phone was stolen at the weekend, can you block it?"),
    ("en_US", "Customer name (as on ID): [[DeShawn Williams]]"),
    ("en_US", "I already told [[Jessica]] in chat that the modem lights are orange."),
    ("en_GB", "Regards, [[J. Whitfield]]"),
    ("en_US", "Bill addressed to [[Kowalski, Anna]] but I'm the one paying."),
    ("en_GB", "My partner ([[Oluwaseun Adeyemi]]) will collect the handset."),
    ("en_US", "This is [[Emily]]'s old number, she passed it on to me."),
    ("de_DE", "Die Rechnung geht bitte an [[Familie Brandt]]."),
    ("de_DE", "Mit freundlichen Grüßen [[Hans-Peter Wegener]]"),
    ("de_DE", "Ihr Techniker, Herr [[Özdemir]], war sehr freundlich."),
    ("de_DE", "Ich rufe im Auftrag von [[Sabine Krüger]] an, sie liegt im Krankenhaus."),
    ("de_DE", "Vertrag läuft auf meinen Vater, [[Wolfgang Richter]]."),
    ("nl_NL", "Mvg, [[Bram van der Linden]]"),
    ("nl_NL", "Kunt u de monteur vragen om [[Fleur]] te bellen als hij er is?"),
    ("nl_NL", "Ik ben de moeder van [[Daan de Boer]], het abonnement staat op zijn naam."),
    ("nl_NL", "Mw. [[Bakker]] van uw klantenservice zou me terugbellen."),
    ("nl_NL", "Namens mijn buurman [[Kees Smit]] stuur ik dit bericht."),
    ("hu_HU", "Tisztelt Ügyfélszolgálat! [[Nagyné Varga Erzsébet]] vagyok."),
    ("hu_HU", "A szerződés a férjem, [[Molnár Zoltán]] nevén van."),
    ("hu_HU", "Köszönöm a segítséget, [[Eszter]]!"),
    ("hu_HU", "Üdv,\n[[Balogh Dániel]]"),
    ("hu_HU", "[[Farkas Bence]] vagyok, új előfizetést szeretnék."),
    ("fr_FR", "Cordialement,\n[[Jean-Luc Moreau]]"),
    ("fr_FR", "Le contrat est au nom de ma mère, [[Françoise Lefèvre]]."),
    ("fr_FR", "M. [[Benali]] du magasin m'a dit d'appeler ce numéro."),
    ("fr_FR", "C'est [[Camille]], je vous ai écrit hier pour la box."),
    ("fr_FR", "Pouvez-vous rappeler [[Théo Girard]] au sujet de la résiliation ?"),
]
NAMES_FRESH_NEGATIVES = [  # look-alikes written with NAMES_FRESH
    "[10:42] System: router rebooted after firmware update",
    "Could you send the replacement SIM to the same address?",
    "It's for me, my wife and our two kids, so a family plan.",
    "Customer name (as on ID): same as account",
    "My partner (also a customer) will collect the handset.",
    "Die Rechnung geht bitte an die Firma.",
    "Ihr Techniker war sehr freundlich.",
    "Mvg, een tevreden klant",
    "Tisztelt Ügyfélszolgálat! Új előfizetést szeretnék.",
    "Le contrat est au nom de ma mère.",
    "Cordialement,\nLe service comptabilité",
    "I switched from Vodafone to Lyca Mobile in April.",
    "Grace period ends on Monday, will you extend it?",
    "Frank feedback: the Galaxy Note was a mistake.",
    "We stayed at Holiday Inn Express near Heathrow.",
]
NAMES_CHECK = [  # written after the changes NAMES_FRESH led: 27 of 30 before and after them; 30 after its own
    ("en_US", "Please update the billing contact to [[Lorenzo Russo]], he handles our office accounts now."),
    ("en_GB", "Morning! [[Imogen]] again, the engineer never showed up."),
    ("en_US", "Can I add my stepdad [[Raymond Ortiz]] to the plan?"),
    ("en_GB", "Ta, [[Gareth]]"),
    ("en_US", "The technician, [[Andre Baptiste]], left without fixing anything."),
    ("en_US", "Sim ordered for [[Zoe Nakamura]], please confirm delivery."),
    ("en_GB", "I rang yesterday and got through to [[Bethany]], lovely lady."),
    ("en_US", "From [[Connor Walsh]] (account 55129): still no dial tone."),
    ("en_GB", "Nephew's name is [[Callum Reid]], he's 16."),
    ("en_US", "xoxo [[Brittany]]"),
    ("de_DE", "Hallo, hier ist [[Katharina Vogel]] von der Hausverwaltung."),
    ("de_DE", "Bitte schicken Sie die SIM an meine Schwester [[Jana Lorenz]]."),
    ("de_DE", "Der Auftrag wurde von [[Herrn Schulze]] unterschrieben."),
    ("de_DE", "LG [[Tobi]]"),
    ("de_DE", "Ich habe das mit Ihrer Kollegin [[Frau Aydın]] besprochen."),
    ("nl_NL", "Hoi, met [[Jesse Mulder]], mijn internet valt steeds weg."),
    ("nl_NL", "Graag contact opnemen met mijn man, [[Willem Dekker]]."),
    ("nl_NL", "Groetjes van [[Lotte]]"),
    ("nl_NL", "De rekening staat nog op naam van wijlen [[Hendrik Jansen]]."),
    ("nl_NL", "Uw collega [[Mohammed]] heeft mij verkeerd geïnformeerd."),
    ("hu_HU", "Szia, [[Dóra]] vagyok, elfelejtettem a PIN kódot."),
    ("hu_HU", "A számla [[Tóth Gergely]] nevére szól."),
    ("hu_HU", "Kérem, hívják vissza a nagymamámat, [[Pap Jolánt]]."),
    ("hu_HU", "Köszi,\n[[Réka]]"),
    ("hu_HU", "Az ügyintéző, [[Lakatos Márk]] nem válaszolt."),
    ("fr_FR", "Salut, c'est [[Noémie Roux]], ma ligne est coupée."),
    ("fr_FR", "Je vous écris pour ma grand-mère, [[Simone Mercier]], qui est malentendante."),
    ("fr_FR", "Votre conseiller [[Karim]] m'avait promis un geste commercial."),
    ("fr_FR", "Bonne soirée,\n[[Antoine Faure]]"),
    ("fr_FR", "La box est au nom de mon colocataire [[Hugo Lambert]]."),
]
NAMES_CHECK_NEGATIVES = [  # look-alikes written with NAMES_CHECK
    "Please update the billing contact to our office manager.",
    "Morning! Again the engineer never showed up.",
    "Ta, see you Tuesday",
    "From Customer Care (ticket 55129): still no dial tone.",
    "xoxo from Paris",
    "Hallo, hier ist die Hausverwaltung.",
    "Der Auftrag wurde vom Vermieter unterschrieben.",
    "Groetjes van de hele familie",
    "Uw collega heeft mij verkeerd geïnformeerd.",
    "Az ügyintéző nem válaszolt.",
    "Votre conseiller m'avait promis un geste commercial.",
    "Bonne soirée,\nL'équipe technique",
    "I bought the Ray-Ban Meta glasses in your Dallas store.",
    "Is Amazon Kids+ included, or only Paramount Plus?",
    "My Rolex app shows Adelaide time instead of London.",
]

NAMES_SEALED = [  # written after every change of the session: 27 of 30 with the code before it and after
    ("en_US", "Hi, my husband [[Trevor]] set up the account but he's deployed overseas."),
    ("en_GB", "Please can [[Niamh Gallagher]] be added as a second contact?"),
    ("en_US", "Customer: [[Gloria Mendez]] | Acct 448120 | Issue: no signal"),
    ("en_GB", "Cheers for your help today [[Rhys]]!"),
    ("en_US", "I'm calling for my aunt [[Marguerite Dubois-Hale]], she's hard of hearing."),
    ("en_US", "The agent ([[Kyle]]) hung up on me twice."),
    ("en_GB", "Best wishes,\n[[Alasdair Ferguson]]\nSent from my iPad"),
    ("en_US", "[[Jasmine]] from your Dallas store told me the upgrade was free."),
    ("de_DE", "Grüße aus Hamburg\n[[Malte Petersen]]"),
    ("de_DE", "Meine Frau [[Svenja]] hat den Vertrag unterschrieben."),
    ("de_DE", "Ansprechpartner vor Ort ist [[Herr Dr. Albrecht Sommer]]."),
    ("de_DE", "Ich schreibe für meinen Opa, [[Günther Lange]], er hat kein Internet."),
    ("de_DE", "Danke [[Leonie]], jetzt klappt es!"),
    ("nl_NL", "Met vriendelijke groet,\n[[Joost Hendriks]]"),
    ("nl_NL", "Ik heb gisteren met [[Iris]] van de helpdesk gebeld."),
    ("nl_NL", "Het abonnement van mijn zus [[Femke de Graaf]] moet worden opgezegd."),
    ("nl_NL", "Bedankt [[Ahmed]], top geholpen!"),
    ("nl_NL", "Kunt u [[mevrouw Visser]] terugbellen?"),
    ("hu_HU", "Üdvözlettel: [[Vass Krisztina]]"),
    ("hu_HU", "A fiam, [[Ádám]] telefonját ellopták."),
    ("hu_HU", "[[Simon Levente]] vagyok, a routerem nem működik."),
    ("hu_HU", "Köszönöm, [[Zsófia]], nagyon kedves volt."),
    ("hu_HU", "Az előfizetés [[Papp Ildikó]] nevén van."),
    ("fr_FR", "Bonjour, c'est [[Mathilde Garnier]] à l'appareil."),
    ("fr_FR", "Mon fils [[Lucas]] a perdu sa carte SIM."),
    ("fr_FR", "Merci de rappeler [[M. Rousseau]] avant midi."),
    ("fr_FR", "Bien cordialement,\n[[Inès Chevalier]]"),
    ("fr_FR", "Le technicien, [[Yannick]], n'est jamais venu."),
    ("fr_FR", "J'écris de la part de [[Clémence Bertrand]], ma voisine."),
    ("en_US", "please transfer the line to my roommate [[Sofia Alvarez]]"),
]
NAMES_SEALED_NEGATIVES = [  # written with NAMES_SEALED: 2 changed before the session, none after
    "Hi, my husband set up the account but he's deployed overseas.",
    "Customer: new | Acct 448120 | Issue: no signal",
    "The agent (second one) hung up on me twice.",
    "Best wishes,\nSent from my iPad",
    "Grüße aus Hamburg und danke!",
    "Ansprechpartner vor Ort ist der Hausmeister.",
    "Met vriendelijke groet,\nTeam Klantenservice",
    "Bedankt voor de snelle hulp!",
    "Üdvözlettel: egy elégedett ügyfél",
    "Mon fils a perdu sa carte SIM.",
    "Bien cordialement,\nLa direction",
    "I watched Ted Lasso on the Apple TV app and it buffered.",
    "Does Max work on the Samsung Frame TV?",
    "My Victoria's Secret order email went to spam.",
    "The Kevin Hart special won't load on Netflix.",
]


NAMES_OPENING = [  # written at the start of 2026-12-06's evening session: 25 of 30 before its changes, 30 after
    ("en_US", "On behalf of [[Dolores Whitfield]], I'm asking you to stop the paper bills."),
    ("en_GB", "Attn: [[Callum McBride]], Accounts Payable"),
    ("en_US", "Surname, first name: [[Okafor, Chidi]]  Plan: Unlimited Plus"),
    ("en_GB", "My flatmate [[Priya]] keeps using my hotspot, can I put a password on it?"),
    ("en_US", "Transferred from Agent [[Marcus T.]] to billing, still waiting."),
    ("en_US", "@[[Brianna]] thanks for sorting the refund so fast"),
    ("en_GB", "The bill is in my late father's name, [[Desmond Achterberg]]."),
    ("en_US", "It was Officer [[Reyes]] who told me to report the stolen phone to you."),
    ("de_DE", "Vertragsinhaber: [[Kowalczyk, Marta]]"),
    ("de_DE", "Bitte rufen Sie meine Tochter [[Leonie]] zurück, sie kennt sich besser aus."),
    ("de_DE", "Ihr Kollege [[Herr Yilmaz]] hat mir die Gutschrift zugesagt."),
    ("de_DE", "Die Rechnung ging an [[Annegret Vogelsang]] statt an mich."),
    ("de_DE", "Mfg [[Torsten]]"),
    ("nl_NL", "De aansluiting staat op naam van [[Wilhelmina de Groot-Bakker]]."),
    ("nl_NL", "Mijn zoon [[Daan]] heeft per ongeluk een abonnement afgesloten."),
    ("nl_NL", "Groetjes, [[Sanne]]"),
    ("nl_NL", "Meneer [[Van Dijk]] van jullie winkel in Utrecht heeft me slecht geholpen."),
    ("nl_NL", "Kunnen jullie contact opnemen met [[Femke Jansen]] over de verhuizing?"),
    ("hu_HU", "A szerződés [[Kovácsné Nagy Ilona]] nevén van."),
    ("hu_HU", "Tisztelt Ügyfélszolgálat! [[Horváth Bence]] vagyok, előfizető."),
    ("hu_HU", "A fiam, [[Dávid]] elvesztette a telefonját."),
    ("hu_HU", "Kérem, [[Szabó Tamás]] úrral vegyék fel a kapcsolatot."),
    ("hu_HU", "Köszönöm: [[Réka]]"),
    ("fr_FR", "Le titulaire de la ligne est [[M. Benoît Lefebvre]]."),
    ("fr_FR", "Ma voisine [[Josiane]] reçoit mes factures par erreur."),
    ("fr_FR", "Bien à vous, [[Aurélie Marchand]]"),
    ("fr_FR", "J'ai eu [[Kévin]] au téléphone hier, il devait me rappeler."),
    ("fr_FR", "Merci de transmettre à [[Madame Roussel]], ma curatrice."),
    ("en_GB", "Can you confirm the SIM was posted to [[Mrs E. Thornbury]]?"),
    ("en_US", "Signed, [[Tyrone Washington Jr.]]"),
]
NAMES_OPENING_NEGATIVES = [  # look-alikes written with NAMES_OPENING
    "On behalf of the whole family, thanks for the quick fix.",
    "Attn: Accounts Payable, invoice 2291 attached",
    "Surname: (not given)  Plan: Unlimited Plus",
    "Transferred from billing to technical support, still waiting.",
    "@support thanks for sorting the refund so fast",
    "Vertragsinhaber: siehe Anlage",
    "Mfg und schönes Wochenende",
    "De aansluiting staat op naam van het bedrijf.",
    "Groetjes uit Den Haag",
    "Tisztelt Ügyfélszolgálat! Előfizető vagyok Debrecenben.",
    "Köszönöm szépen a gyors segítséget!",
    "Bien à vous, l'équipe Orange Business",
    "J'ai eu le service client au téléphone hier.",
    "I streamed Grey's Anatomy on Disney Plus and it kept buffering.",
    "My Samsung Galaxy Tab keeps dropping the Wi-Fi at Heathrow Terminal 5.",
]
NAMES_EVENING = [  # written after NAMES_OPENING's fixes: 28 of 30 before the session and after them, then 29
    ("en_US", "Please update the emergency contact to my brother [[Darnell Hughes]]."),
    ("en_GB", "Spoke with [[Siobhan]] on the phone this morning, she was lovely."),
    ("en_US", "Account name: [[Nguyen, Thanh]] (that's me)"),
    ("en_GB", "Ta very much,\n[[Gemma]]"),
    ("en_US", "The technician, [[Rafael Ortega]], never showed up."),
    ("en_US", "My mom [[Linda]] wants her own line on our family plan."),
    ("en_GB", "Re: complaint from [[Mr Oluwadamilare Adebayo]]"),
    ("de_DE", "Bitte schicken Sie die Unterlagen an [[Frau Dr. Katharina Brenner]]."),
    ("de_DE", "Mein Mann [[Uwe]] ruft morgen nochmal an."),
    ("de_DE", "Grüße,\n[[Heike Schulze-Borges]]"),
    ("de_DE", "Kundin: [[Wojcik, Agnieszka]]"),
    ("de_DE", "Ich habe gestern mit [[Herrn Demir]] aus Ihrer Filiale gesprochen."),
    ("nl_NL", "Mijn dochter [[Lotte]] gebruikt mijn oude telefoon."),
    ("nl_NL", "Met vriendelijke groet, [[Joris van den Heuvel]]"),
    ("nl_NL", "De monteur heette [[Mohamed]], hij was heel vriendelijk."),
    ("nl_NL", "Kunt u [[mevrouw Bos]] terugbellen over de factuur?"),
    ("nl_NL", "Namens [[Ingrid Dekker]] zeg ik het contract op."),
    ("hu_HU", "A feleségem, [[Erzsébet]] nevére szeretnék egy új SIM-et."),
    ("hu_HU", "Üdvözlettel:\n[[Farkas Gergely]]"),
    ("hu_HU", "Tegnap [[Molnár Krisztina]] ügyintézővel beszéltem."),
    ("hu_HU", "A bátyám, [[Zoltán]] fizeti a számlát."),
    ("hu_HU", "Kérem, hívják vissza [[Varga Pétert]]."),
    ("fr_FR", "Mon mari [[Thierry]] a reçu un SMS bizarre."),
    ("fr_FR", "Cordialement,\n[[Sandrine Mercier]]"),
    ("fr_FR", "Le technicien, [[M. Karim Haddad]], doit repasser jeudi."),
    ("fr_FR", "Pouvez-vous rappeler [[Madame Lemoine]] au sujet du devis ?"),
    ("fr_FR", "J'écris pour ma mère, [[Monique Girard]], qui n'a pas internet."),
    ("en_US", "cc: [[Patricia Okonkwo]], billing dept"),
    ("en_GB", "Nominated person: [[Fergus O'Malley]]"),
    ("en_US", "Xoxo [[Kayla]]"),
]
NAMES_EVENING_NEGATIVES = [  # look-alikes written with NAMES_EVENING: 2 changed before its fixes, none after
    "Please update the emergency contact to my brother's number.",
    "Spoke with customer services on the phone this morning.",
    "Account name: Family Plan (that's the one)",
    "Ta very much,\nThe Smiths' landlord",
    "Re: complaint from last Tuesday",
    "Bitte schicken Sie die Unterlagen an die Hausverwaltung.",
    "Grüße aus dem Schwarzwald",
    "De monteur heette anders, geloof ik.",
    "Met vriendelijke groet, Team Ziggo Zakelijk",
    "Üdvözlettel: a Magyar Telekom ügyfele",
    "Le technicien doit repasser jeudi.",
    "Cordialement,\nService Client Free",
    "cc: billing dept, legal dept",
    "My Apple Watch Series 9 lost its cellular connection in Hyde Park.",
    "We watched Stranger Things on Netflix and the Wi-Fi dropped.",
]
_TITLES = {  # titles and degrees Faker adds to names, in any case ("mevrouw", "dr."): not what identifies a person
    "Dr", "Mr", "Mrs", "Ms", "Mx", "Prof", "Univ", "Jr", "Sr", "PhD", "MD", "DDS", "DVM", "II", "III", "IV", "Sc",
    "Eng", "MBA", "Dipl", "Ing", "Mag", "MSc", "BSc", "Ba", "Ma", "Mme", "Mlle", "Dhr", "Mevr", "Frau", "Herr", "Herrn",
    "Mevrouw", "Meneer", "Madame", "Monsieur", "Mademoiselle", "Familie", "Famille",
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


def hand_written(chosen: str = "written") -> list[Message]:
    """One set of addresses as messages with their marked value: "written" (ADDRESSES), "heldout"
    (ADDRESSES_HELDOUT), "new" (ADDRESSES_NEW), "later" (ADDRESSES_LATER), "fresh" (ADDRESSES_FRESH), "sealed"
    (ADDRESSES_SEALED), "final" (ADDRESSES_FINAL), "opening" (ADDRESSES_OPENING), "evening" (ADDRESSES_EVENING) or
    "closing" (ADDRESSES_CLOSING); then every set's look-alikes."""
    rows = {"written": ADDRESSES, "heldout": ADDRESSES_HELDOUT, "new": ADDRESSES_NEW, "later": ADDRESSES_LATER,
            "fresh": ADDRESSES_FRESH, "sealed": ADDRESSES_SEALED, "final": ADDRESSES_FINAL,
            "opening": ADDRESSES_OPENING, "evening": ADDRESSES_EVENING, "closing": ADDRESSES_CLOSING}  # fmt: skip
    out = [marked(text, "ADDRESS", locale, i) for i, (locale, text) in enumerate(rows[chosen])]
    negatives = [*ADDRESS_NEGATIVES, *ADDRESS_NEW_NEGATIVES, *ADDRESS_LATER_NEGATIVES, *ADDRESS_FRESH_NEGATIVES,
                 *ADDRESS_SEALED_NEGATIVES, *ADDRESS_FINAL_NEGATIVES, *ADDRESS_OPENING_NEGATIVES,
                 *ADDRESS_EVENING_NEGATIVES, *ADDRESS_CLOSING_NEGATIVES]  # fmt: skip
    return out + [Message(text, [], "en", -1) for text in negatives]


def marked(text: str, kind: str, locale: str, index: int) -> Message:
    """A hand-written message whose one value of `kind` is marked [[...]], as the message without the marks."""
    import re

    value = re.search(r"\[\[(.*?)\]\]", text, re.S)
    if value is None:
        raise ValueError(f"no [[{kind.lower()}]] marked in {text!r}")
    return Message(text.replace("[[", "").replace("]]", ""), [(kind, value.group(1))], locale, index)


def uncased(heldout: bool = False, last: bool = False) -> list[Message]:
    """UNCASED (or UNCASED_HELDOUT, or UNCASED_LAST) as messages with their marked name, then UNCASED_NEGATIVES."""
    chosen = UNCASED_LAST if last else UNCASED_HELDOUT if heldout else UNCASED
    out = [marked(text, "NAME", locale, i) for i, (locale, text) in enumerate(chosen)]
    return out + [Message(text, [], "", -1) for text in UNCASED_NEGATIVES]


def wider(chosen: str = "wider") -> list[Message]:
    """One of the sets of names from beyond the lists, as messages with their marked name: "wider" (NAMES_WIDER),
    "heldout" (NAMES_WIDER_HELDOUT), "last" (NAMES_LAST), "next" (NAMES_NEXT), "final" (NAMES_FINAL), "after"
    (NAMES_AFTER), "closing" (NAMES_CLOSING), "fresh" (NAMES_FRESH), "check" (NAMES_CHECK), "sealed"
    (NAMES_SEALED), "opening" (NAMES_OPENING) or "evening" (NAMES_EVENING)."""
    sets = {"wider": NAMES_WIDER, "heldout": NAMES_WIDER_HELDOUT, "last": NAMES_LAST, "next": NAMES_NEXT,
            "final": NAMES_FINAL, "after": NAMES_AFTER, "closing": NAMES_CLOSING, "fresh": NAMES_FRESH,
            "check": NAMES_CHECK, "sealed": NAMES_SEALED, "opening": NAMES_OPENING,
            "evening": NAMES_EVENING}  # fmt: skip
    return [marked(text, "NAME", locale, i) for i, (locale, text) in enumerate(sets[chosen])]


# the sets written with their look-alikes
WRITTEN_APART = ("last", "next", "final", "after", "closing", "fresh", "check", "sealed", "opening", "evening")


def wider_negatives(chosen: str) -> list[str]:
    """The look-alikes written with one of WRITTEN_APART's sets ("last": NAMES_LAST_NEGATIVES ...)."""
    return {"last": NAMES_LAST_NEGATIVES, "next": NAMES_NEXT_NEGATIVES, "final": NAMES_FINAL_NEGATIVES,
            "after": NAMES_AFTER_NEGATIVES, "closing": NAMES_CLOSING_NEGATIVES, "fresh": NAMES_FRESH_NEGATIVES,
            "check": NAMES_CHECK_NEGATIVES, "sealed": NAMES_SEALED_NEGATIVES,
            "opening": NAMES_OPENING_NEGATIVES, "evening": NAMES_EVENING_NEGATIVES}[chosen]  # fmt: skip


def capitals() -> list[Message]:
    """CAPS as messages with their marked name, then CAPS_NEGATIVES."""
    out = [marked(text, "NAME", locale, i) for i, (locale, text) in enumerate(CAPS)]
    return out + [Message(text, [], "", -1) for text in CAPS_NEGATIVES]


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
        p
        for p in re.findall(r"\w{2,}", value)
        if p not in _TITLES and p.capitalize() not in _TITLES and not re.search(rf"\b{re.escape(p)}\b", rest)
    ]
    return not any(re.search(rf"(?<!\w){re.escape(p)}(?!\w)", scrubbed) for p in pieces)
