"""A word-for-word English gloss of what a message asks of the assistant, in the other languages the guard reads.

MiniLM is English, and SmolLM2's token embeddings carry little of an override across languages: with every
multilingual attack held out of training, the classifier caught about one in ten. A reader who knows the words
"ignoriere", "vorherigen" and "Anweisungen" reads "ignore previous instructions", so `features.reveal` appends the
gloss, as it appends a decoded base64 payload, and the classifier reads it as it reads English. Only the words a
request to an assistant is made of are glossed (what to ignore or reveal, rules and prompts, "from now on", "you
are now"), in German, French, Dutch, Hungarian, Spanish and Italian; a text with fewer than two of them is left as
it is. The words were listed from the languages, not copied from the corpus's templates (docs/guardrails.md).
"""

from __future__ import annotations

import re

# Several words in one: matched first, case-insensitively, on word boundaries.
_PHRASES = {
    # German
    "von nun an": "from now on", "ab jetzt": "from now on", "ab sofort": "from now on", "du bist jetzt": "you are now",
    "du bist nun": "you are now", "tu so als": "pretend", "ohne einschränkungen": "without restrictions",
    "ohne beschränkungen": "without restrictions", "ohne regeln": "without rules", "ohne filter": "without filter",
    # French
    "à partir de maintenant": "from now on", "désormais": "from now on", "dorénavant": "from now on",
    "tu es maintenant": "you are now", "vous êtes maintenant": "you are now", "fais comme si": "pretend",
    "faites comme si": "pretend", "mot de passe": "password", "sans restrictions": "without restrictions",
    "sans limites": "without limits", "sans règles": "without rules", "mode développeur": "developer mode",
    # Dutch
    "vanaf nu": "from now on", "je bent nu": "you are now", "u bent nu": "you are now", "doe alsof": "pretend",
    "zonder beperkingen": "without restrictions", "zonder regels": "without rules", "laat zien": "show",
    # Hungarian
    "hagyd figyelmen kívül": "ignore", "hagyja figyelmen kívül": "ignore", "figyelmen kívül": "ignore",
    "mostantól": "from now on", "mostantól fogva": "from now on", "mostantól kezdve": "from now on",
    "már nem érvényesek": "are no longer valid", "nem érvényesek": "are not valid", "tegyél úgy": "pretend",
    "korlátozások nélkül": "without restrictions", "szabályok nélkül": "without rules",
    "ügyfelek adatait": "customer data",
    # Spanish
    "a partir de ahora": "from now on", "desde ahora": "from now on", "ahora eres": "you are now",
    "haz como si": "pretend", "finge que": "pretend that", "sin restricciones": "without restrictions",
    "sin límites": "without limits", "sin reglas": "without rules", "modo desarrollador": "developer mode",
    # Italian
    "d'ora in poi": "from now on", "da ora in poi": "from now on", "da adesso": "from now on",
    "ora sei": "you are now", "adesso sei": "you are now", "fai finta": "pretend",
    "senza restrizioni": "without restrictions",
    "senza limiti": "without limits", "senza regole": "without rules",
    "modalità sviluppatore": "developer mode",
}  # fmt: skip
_WORDS = {
    # German
    "ignoriere": "ignore", "ignorier": "ignore", "ignorieren": "ignore", "ignoriert": "ignore", "vergiss": "forget",
    "vergessen": "forget", "vergesst": "forget", "missachte": "disregard", "missachten": "disregard",
    "überspringe": "skip", "vorherigen": "previous", "vorherige": "previous",
    "bisherigen": "previous", "vorigen": "previous", "früheren": "earlier", "obigen": "above", "anweisungen":
    "instructions", "anweisung": "instruction", "befehle": "commands", "regeln": "rules", "richtlinien":
    "guidelines", "vorgaben": "rules", "systemprompt": "system prompt", "systemnachricht": "system message",
    "zeige": "show", "zeig": "show", "gib": "give", "verrate": "reveal", "verrat": "reveal", "enthülle": "reveal",
    "sag": "say", "sage": "say", "schreibe": "write", "schreib": "write", "wiederhole": "repeat", "passwort":
    "password", "kennwort": "password", "geheim": "secret", "geheimen": "secret", "vertraulich": "confidential",
    "entwicklermodus": "developer mode", "kostenlos": "free", "unbegrenzt": "unlimited", "aktiviere": "activate",
    "aufgabe": "task", "kundendaten": "customer data", "kunden": "customers",
    # French
    "ignorez": "ignore", "oublie": "forget", "oubliez": "forget", "consignes": "instructions",
    "règles": "rules", "directives": "guidelines", "précédentes": "previous",
    "précédents": "previous", "antérieures": "earlier", "système": "system", "révèle": "reveal", "révélez":
    "reveal", "montre": "show", "montrez": "show", "affiche": "display", "affichez": "display", "donne": "give",
    "donnez": "give", "dis": "say", "dites": "say", "écris": "write", "écrivez": "write", "répète": "repeat",
    "confidentiel": "confidential", "gratuit": "free", "illimité": "unlimited", "activez": "activate",
    "tâche": "task", "clients": "customers",
    # Dutch
    "negeer": "ignore", "negeren": "ignore", "vergeet": "forget", "vorige": "previous", "eerdere": "earlier",
    "instructies": "instructions", "regels": "rules", "richtlijnen": "guidelines", "opdrachten": "instructions",
    "systeem": "system", "systeemprompt": "system prompt", "toon": "show", "geef": "give", "zeg": "say",
    "schrijf": "write", "herhaal": "repeat", "wachtwoord": "password", "vertrouwelijk": "confidential",
    "ontwikkelaarsmodus": "developer mode", "onbeperkt": "unlimited", "activeer": "activate", "taak": "task",
    "klanten": "customers",
    # Hungarian
    "felejtsd": "forget", "felejts": "forget", "korábbi": "previous", "előző": "previous",
    "utasítás": "instruction", "utasításaid": "your instructions", "utasításaidat": "your instructions",
    "szabály": "rule", "szabályaid": "your rules", "rendszer": "system", "mondd": "say", "írd": "write",
    "írj": "write", "mutasd": "show", "ismételd": "repeat", "titkos": "secret", "bizalmas": "confidential",
    "ingyenes": "free", "korlátlan": "unlimited", "aktiváld": "activate", "feladat": "task",
    # Spanish
    "ignora": "ignore", "ignorad": "ignore", "olvida": "forget", "olvide": "forget",
    "instrucciones": "instructions", "reglas": "rules", "normas": "rules",
    "directrices": "guidelines", "anteriores": "previous", "previas": "previous", "sistema": "system",
    "revela": "reveal", "muestra": "show", "muéstrame": "show me", "dame": "give me",
    "escribe": "write", "repite": "repeat", "contraseña": "password", "secreto": "secret", "confidencial":
    "confidential", "gratuito": "free", "ilimitado": "unlimited", "activa": "activate", "tarea": "task",
    "clientes": "customers",
    # Italian
    "ignorate": "ignore", "dimentica": "forget", "dimenticate": "forget", "istruzioni": "instructions",
    "regole": "rules", "precedenti": "previous", "rivela": "reveal", "mostra": "show",
    "mostrami": "show me", "dammi": "give me", "dimmi": "tell me", "scrivi": "write", "ripeti": "repeat",
    "segreto": "secret", "riservato": "confidential", "illimitato": "unlimited", "attiva": "activate",
    "compito": "task", "clienti": "customers",
}  # fmt: skip
# Pronouns, possessives and words that are also English ("dime"; Hungarian "add", give): glossed with the
# rest, never counted.
_FUNCTION = {
    "ich": "I", "mir": "me", "mich": "me", "du": "you", "dir": "you", "dich": "you", "mein": "my", "meine": "my",
    "meinen": "my", "dein": "your", "deine": "your", "deinen": "your", "deiner": "your", "und": "and", "mit": "with",
    "je": "I", "moi": "me", "tu": "you", "vous": "you", "te": "you", "mon": "my", "ma": "my", "mes": "my",
    "ton": "your", "ta": "your", "tes": "your", "votre": "your", "vos": "your", "et": "and", "ik": "I", "mij": "me",
    "jij": "you", "jou": "you", "mijn": "my", "jouw": "your", "uw": "your", "en": "and", "én": "I", "nekem": "me",
    "neked": "you", "és": "and", "yo": "I", "tú": "you", "mí": "me", "tus": "your", "y": "and",
    "alle": "all", "alles": "everything", "toutes": "all", "tous": "all", "összes": "all", "minden": "every",
    "todas": "all", "todos": "all", "tutte": "all", "tutti": "all", "dime": "tell me", "add": "give", "io": "I",
    "mi": "me", "ti": "you", "tuo": "your", "tua": "your",
    "tuoi": "your", "tue": "your", "e": "and",
}  # fmt: skip
# Hungarian adds its endings to the word ("utasítást", "jelszavát"): these count by their stem (the words above
# that read otherwise, "your instructions", come first).
_STEMS = (
    ("rendszerüzenet", "system message"), ("rendszerprompt", "system prompt"), ("utasítás", "instructions"),
    ("szabály", "rules"), ("jelszó", "password"), ("jelszav", "password"), ("ügyfelek", "customers"),
)  # fmt: skip
_PHRASE = re.compile(
    r"(?<!\w)(?:" + "|".join(re.escape(p) for p in sorted(_PHRASES, key=len, reverse=True)) + r")(?!\w)", re.IGNORECASE
)
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
MIN_WORDS = 2


def gloss(text: str) -> str | None:
    """The text with each known word in English, when at least MIN_WORDS of them changed; otherwise None."""
    changed = 0

    def phrase(m: re.Match[str]) -> str:
        nonlocal changed
        english = _PHRASES.get(m.group().lower())  # None where a letter matched only case-insensitively ("ſ")
        changed += english is not None
        return english or m.group()

    def word(m: re.Match[str]) -> str:
        nonlocal changed
        lower = m.group().lower()
        english = _WORDS.get(lower) or next((en for stem, en in _STEMS if lower.startswith(stem)), None)
        if english is None or english == lower:
            return _FUNCTION.get(lower, m.group())
        changed += 1
        return english

    glossed = _WORD.sub(word, _PHRASE.sub(phrase, text))
    return glossed if changed >= MIN_WORDS else None
