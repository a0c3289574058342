"""Deterministic urgent-symptom detection for the balloon kyphoplasty assistant.

Patients who write to the assistant are often elderly, with osteoporosis or cancer,
and some of them will have just had a spinal procedure. A handful of symptoms must
never be answered with an FAQ answer: they need 999 / A&E or NHS 111 now. This module
finds them with explicit, reviewable rules so that the result does not depend on a
statistical classifier's confidence. It has no Rasa imports; the Rasa component
(nlp/urgent_component.py) and policy (nlp/urgent_policy.py) call it.

How it works, in four steps:

1. ``normalise_text``: lower-case, Unicode NFKC, remove zero-width/format characters,
   straighten quotes, collapse letters repeated three or more times, and fix a small
   explicit table of misspellings and apostrophe-less contractions.
2. Concept matching: a spaCy ``Matcher`` (LEMMA / LOWER patterns) tags *concepts* such
   as LEG ("legs", "feet"), NUMB ("numbness", "pins and needles", "can't feel"),
   BLADDER ("bladder", "wee"), LOSS_CONTROL ("lost control"), FEVER, CHEST, ...
3. Category rules combine concepts: a single concept ("incontinent", "coughing up
   blood", "can't breathe") or two concepts within a few tokens of each other in the
   same sentence ("legs" + "numb", "bladder" + "lost control", "chest" + "tight").
4. Cue filters, from a second ``Matcher``, drop a candidate that is not a report of a
   present symptom: negated ("no numbness"), hypothetical or informational ("will my
   legs feel numb?", "can kyphoplasty cause incontinence?", "is fever a side effect?"),
   resolved or long-standing ("had chest pain last year", "for years"). A present
   report in the same clause wins over a hypothetical cue: "is it normal that my legs
   have gone numb?", "I can't wee since this morning, is that normal?" still fire.

A missed emergency is far worse than an unnecessary safety message, so the filters
are deliberately narrow: when in doubt, the rules fire.
"""
from __future__ import annotations

import functools
import itertools
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Set, Tuple

from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc

# --------------------------------------------------------------------------------------
# Public data
# --------------------------------------------------------------------------------------

EMERGENCY = "emergency"  # call 999 or go to A&E now
URGENT = "urgent"  # call NHS 111 now

# Why two levels:
# - emergency: possible cauda equina or spinal cord compression (bladder/bowel, saddle
#   numbness, new leg weakness or numbness - decompression within hours decides whether
#   function returns), possible cement or clot embolism, heart attack or pulmonary
#   embolism (chest pain, breathlessness, coughing blood), and stroke (time-critical
#   treatment). These are 999 / A&E.
# - urgent: fever with back pain or after the procedure (possible infection, e.g.
#   discitis or a wound infection) and pain that painkillers do not control (possible
#   new fracture or inadequate pain relief) need same-day assessment but are not
#   immediately life-threatening on their own; NHS 111 triages them and escalates to
#   999 if needed. This matches the wording of utter_urgent_care in domain.yml.
CATEGORY_LEVELS: Dict[str, str] = {
    "bladder_bowel": EMERGENCY,
    "saddle_numbness": EMERGENCY,
    "leg_weakness_numbness": EMERGENCY,
    "chest_breathing": EMERGENCY,
    "stroke": EMERGENCY,
    "fever_back_pain": URGENT,
    "uncontrolled_pain": URGENT,
}
CATEGORIES: Tuple[str, ...] = tuple(CATEGORY_LEVELS)

MODEL_ENV_VAR = "KYPHO_SPACY_MODEL"
DEFAULT_MODEL_PATH = Path(__file__).resolve().parent.parent / "build/spacy/en_kyphoplasty"


@dataclass(frozen=True)
class UrgentFinding:
    category: str
    level: str  # "emergency" (999/A&E) or "urgent" (NHS 111)
    matched: str  # the (normalised) words that triggered the finding


# --------------------------------------------------------------------------------------
# 1. Normalisation
# --------------------------------------------------------------------------------------

# Characters mapped before matching: typographic quotes and dashes from phones.
CHAR_MAP = {
    "\u2018": "'", "\u2019": "'", "\u201b": "'", "\u2032": "'", "`": "'", "\u00b4": "'",
    "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-",
}

# Whole-word misspellings and variants seen in patient messages (after lower-casing).
# Keep this table small and explicit: each entry is a word that patients type for a
# symptom word, or a contraction typed without its apostrophe.
WORD_FIXES = {
    # numbness
    "numbess": "numbness", "numbnes": "numbness", "numness": "numbness",
    "numbeness": "numbness", "numbniss": "numbness", "numd": "numb", "numbe": "numb",
    "tingleing": "tingling", "tinglin": "tingling", "tingeling": "tingling",
    "paralized": "paralysed", "paralyzed": "paralysed", "paralysed": "paralysed",
    # bladder and bowel
    "blader": "bladder", "bladda": "bladder", "bladdar": "bladder", "bladdder": "bladder",
    "bowl": "bowel", "bowls": "bowels", "bowles": "bowels", "bowells": "bowels",
    "incontinance": "incontinence", "incontenance": "incontinence",
    "incontinant": "incontinent", "incontenent": "incontinent",
    "weeing": "weeing", "weing": "weeing", "wee-ing": "weeing",  # lemma lookup: wee
    "urin": "urine", "urinate": "urinate",
    # fever
    "temprature": "temperature", "temperture": "temperature", "tempreture": "temperature",
    "temparature": "temperature", "temperatur": "temperature", "tempature": "temperature",
    "feaver": "fever", "fevor": "fever", "fevar": "fever", "fevre": "fever",
    "shiverin": "shivering", "shivvering": "shivering",
    # pain
    "unbearible": "unbearable", "unberable": "unbearable", "unbareable": "unbearable",
    "unbearabel": "unbearable", "excrutiating": "excruciating", "excruciting": "excruciating",
    "excrusiating": "excruciating", "agonny": "agony", "paink": "pain",
    "painkiller": "painkiller", "painkilers": "painkillers", "painkilller": "painkiller",
    # chest and breathing ("breath" -> "breathe" is handled in context below)
    "breathin": "breathing", "breating": "breathing", "brething": "breathing",
    "breth": "breath", "breathles": "breathless", "chesst": "chest",
    # stroke
    "stoke": "stroke", "strok": "stroke", "slured": "slurred", "slurrd": "slurred",
    "droopin": "drooping", "drooped": "drooped",
    # apostrophe-less contractions
    "cant": "can't", "carnt": "can't", "cannot": "can't", "couldnt": "couldn't",
    "wont": "won't", "dont": "don't", "doesnt": "doesn't", "didnt": "didn't",
    "isnt": "isn't", "arent": "aren't", "wasnt": "wasn't", "werent": "weren't",
    "havent": "haven't", "hasnt": "hasn't", "hadnt": "hadn't", "wouldnt": "wouldn't",
    "shouldnt": "shouldn't", "aint": "ain't", "im": "i'm", "ive": "i've",
    "theyre": "they're", "whats": "what's", "thats": "that's", "theres": "there's",
    "hes": "he's", "shes": "she's",
}

# Multi-word fixes (regular expressions on the lower-cased text).
PHRASE_FIXES: Sequence[Tuple[str, str]] = (
    # "breath" (noun) typed for "breathe" (verb) after an ability or effort word.
    (r"\b(can't|can not|couldn't|hardly|barely|to|unable to)\s+breath\b", r"\1 breathe"),
    (r"\bpins\s*(?:&|n|'n'|'n|n'|an)\s*needles\b", "pins and needles"),
    (r"\bpain\s*-?\s*killers?\b", lambda m: "painkillers" if m.group(0).endswith("s") else "painkiller"),
    (r"\bten out of ten\b|\b10 out of 10\b", "10/10"),
    (r"\bback\s*ache\b", "backache"),
)

_FORMAT_CHARS = re.compile(r"[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
_REPEAT_RUN = re.compile(r"([a-z])\1{2,}")
_WORD = re.compile(r"[a-z]+(?:[-'][a-z]+)*")


def _collapse_repeats(word: str, is_known_word: Optional[Callable[[str], bool]]) -> str:
    """'numbbbb' -> 'numb', 'feeeel' -> 'feel', 'stilll' -> 'still'.

    English has no letter three times in a row, so a run of three or more is always
    emphasis. It becomes two letters; if that is not a known word but one letter is
    ("numbb" / "numb"), one letter is used. Without a word list, two letters are kept.
    """
    if not _REPEAT_RUN.search(word):
        return word
    two = _REPEAT_RUN.sub(r"\1\1", word)
    if is_known_word is None or is_known_word(two):
        return two
    one = _REPEAT_RUN.sub(r"\1", word)
    return one if is_known_word(one) else two


def normalise_text(text: str, is_known_word: Optional[Callable[[str], bool]] = None) -> str:
    """Normalises a user message before matching (see the tables above)."""
    text = unicodedata.normalize("NFKC", text or "")
    text = "".join(CHAR_MAP.get(ch, ch) for ch in text)
    # Zero-width and other invisible format characters (category Cf), e.g. from copy-paste.
    text = _FORMAT_CHARS.sub("", text)
    # ... and lone surrogates (Cs), which JSON can carry but spaCy cannot hash.
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cf", "Cs"))
    text = text.lower()
    # A line break ends a sentence, as a full stop does.
    text = re.sub(r"\s*[\r\n]+\s*", ". ", text.strip())
    text = re.sub(r"[ \t\u00a0]+", " ", text)
    text = _WORD.sub(
        lambda m: WORD_FIXES.get(
            _collapse_repeats(m.group(0), is_known_word),
            _collapse_repeats(m.group(0), is_known_word),
        ),
        text,
    )
    for pattern, replacement in PHRASE_FIXES:
        text = re.sub(pattern, replacement, text)
    return text


# --------------------------------------------------------------------------------------
# 2. Concept patterns
# --------------------------------------------------------------------------------------
# A tiny pattern language, expanded into spaCy Matcher patterns:
#   word|word   one token whose LEMMA is one of these words (or their lemmas)
#   =word       an alternative matched on the LOWER text instead (when lemmas mislead:
#               the lookup table lemmatises "worse"/"worst" as "wrong", "does" as "doe")
#   ~regex      one token whose LOWER text matches the regular expression
#   x?          the token is optional;  _?  any one optional token
#   @MACRO      one of several token sequences (MACROS below)

MACROS: Dict[str, Sequence[str]] = {
    # Inability: can't / cannot / couldn't / unable to / not able to / can hardly.
    "CANT": ("ca|can not =i|=he|=she|=we|=they?", "unable to", "not be? able to",
             "ca|can hardly|barely"),
    "POSS": ("my|his|her|their|our|both|the|your|one|left|right",),
    "SELF": ("=myself|himself|herself|themselves|yourself|ourselves",),
}

CONCEPT_PATTERNS: Dict[str, Sequence[str]] = {
    # --- body parts -------------------------------------------------------------------
    "LEG": ("leg|foot|=feet|thigh|knee|=calf|=calves|ankle|toe|shin", "lower body|half|limb"),
    "ARM": ("=arm|arms",),
    "FACE": ("face|mouth|smile", "=cheek|eyelid"),
    "SADDLE": (
        "bottom|bum|backside|buttock|=butt|=arse|anus|rectum|groin|crotch|saddle",
        "back passage", "genital|=genitals|vagina|penis|scrotum|testicle|perineum|=perineal",
        "=privates|=bits", "private part|area|bit", "down below|there", "inner thigh|leg",
        "between @POSS? leg", "=nether|undercarriage",
    ),
    "BLADDER": (
        "bladder|bowel|=bowels|urine|wee|pee|=weeing|poo|=poop|stool|toilet|loo|waterworks",
    ),
    "CHEST": ("chest",),
    # --- sensations and signs -----------------------------------------------------------
    "NUMB": (
        "numb|numbness|=numbed|tingle|tingling|tingly|=numbish", "pins and needles",
        "no feeling|sensation", "lose|lost|loss of? =all|=any|=the? feeling|sensation",
        "@CANT feel",
        "=dead", "not feel anything|a", "feel nothing", "like cotton wool",
    ),
    "WEAK": (
        "weak|weakness|=weaker|floppy|jelly|buckle|collapse|=paralysed|paralysis",
        "give|gave|giving way|out", "go|went|gone|going from under", "@CANT move|lift|raise|bend",
        "not work|working", "stop working", "not hold|support|carry|take @POSS? me|weight",
        "not hold|support|carry =me|=him|=her|=them|=us up",
        "no|lose|lost strength|power",
    ),
    "HEAVY": ("heavy|heaviness|=dead",),
    "PARALYSED": ("=paralysed|paralysis|paraplegic",),
    # Needs an acuteness cue in the same segment (see _acute): "I can't walk far" is not new.
    "CANT_WALK": ("@CANT walk|stand", "@CANT get up", "@CANT get out of bed"),
    "LOSS_CONTROL": (
        "lose|lost|losing|loss of? control", "no control", "@CANT control|hold", "out of control",
        "uncontrollable", "leak|leaking", "@CANT feel|tell when|if",
        "not know|notice|realise|=realize|feel when|if", "no urge|sensation",
        "without =me|=him|=her|=them|=my|=his? know|notice|realise|=realize|=realising|feel",
        "@CANT get|make it? to the toilet|loo in time", "not make it to the toilet|loo",
    ),
    "INCONTINENCE": (
        "incontinent|incontinence",
        "wet|wetting|soil|soiled|mess|messed|pee|wee|=pooed|=pooped|poo @SELF",
        "wet|wetting|pee|=peed|wee|=weed|soil|=soiled the|my bed",
        "wet|wetting|pee|=peed|wee|=weed @POSS pants|knickers|trousers",
    ),
    "ACCIDENT": ("accident",),
    "UNDERWEAR": ("pants|knickers|underwear|trousers|bed|pad|nappy|@SELF",),
    "RETENTION": (
        "@CANT pee|wee|urinate|piss", "@CANT pass urine|water", "@CANT empty @POSS? bladder",
        "@CANT do|have|go for a wee|pee", "not pee|=peed|=weed|urinate|urinated",
        "not pass|=passed urine|water", "not be for a wee|pee", "not have|do|pass a wee|pee",
        "not be to the toilet|loo for a wee|pee",
        "not manage|=managed|able to pass|do|have any|a? urine|water|wee|pee",
        "not pass|=passed any urine|water", "nothing come|=comes|=coming out",
        "nothing =will|=would come out",
        "no urine", "retention",
    ),
    "FEVER": (
        "fever|feverish|=fevers|shiver|shivering|shivery|=shivers|rigor|=rigors|chill|=chills",
        "high|raised|a temperature|temp", "temperature|temp of", "hot and cold",
        "temperature|temp be high|up|raised",
        # a number that is a fever in Celsius: "temp 38.5", "temperature is 39"
        "temperature|temp be|=at|=was|=reading? ~^(37[.,][89]|3[89]|4[0-2])([.,]\\d+)?(°c?|c)?$",
        "burning up", "shake|shaking uncontrollably", "uncontrollable shaking|shivering",
    ),
    "PAIN": (
        "pain|painful|ache|aching|achy|hurt|hurting|sore|agony|agonise|agonising|=agonizing",
        "=backache", "killing me",
    ),
    # Pain words that are severe on their own ("I'm in agony").
    "SEVERE_PAIN": ("agony|agonise|agonising|=agonizing|excruciating",),
    "SEVERE": (
        "unbearable|unbearably|excruciating|intolerable|unmanageable|uncontrolled|horrendous",
        "=worst", "horrific", "@CANT cope|bear|stand|handle", "@CANT take it|this|any|=anymore", "=10/10",
        "=screaming|crying|sobbing|howling|scream", "off the scale|chart|charts",
        "through the roof", "out of control",
    ),
    "PAINKILLER": (
        "painkiller|=painkillers|medication|meds|tablet|pill|morphine|oramorph|codeine",
        "codamol|=cocodamol|paracetamol|tramadol|ibuprofen|naproxen|oxycodone|oxynorm",
        "zomorph|fentanyl|patch|gabapentin|pregabalin|analgesia|analgesic",
        "pain relief|relief|killer", "=relief",
    ),
    # "no painkiller is touching it": the "no" belongs to the failure, not a negation.
    "PAINKILLER_FAIL": (
        "no|=none painkiller|=painkillers|tablet|medication|meds|pill be? help|helping|touch"
        "|touching|work|working|=works|=helps|=touches",
    ),
    "FAIL": (
        "not work|working|help|helping|touch|touching|do|doing", "do|=does|=did|doing nothing",
        "no effect|difference|good", "useless", "not enough", "not strong enough",
        "nothing work|working|help|helping|touch|touching|=works|=helps|=touches|be",
        "=even with|on", "=despite",
    ),
    "CHEST_SYMPTOM": (
        "pain|ache|hurt|hurting|sore|tight|tightness|pressure|crushing|crush|heavy",
        "heaviness|squeeze|squeezing|=agony",
    ),
    "BREATH": (
        "@CANT breathe", "@CANT catch|get @POSS? breath", "@CANT get enough air",
        "struggle|struggling|fight|fighting to|for breathe|breath|air",
        "difficulty|difficulties|trouble|problem|problems|difficult|hard breathing",
        "breathing difficulty|difficulties|trouble|problem|problems",
        "difficult|hard to breathe", "short|shortness of breath", "out of breath",
        "breathless|breathlessness|gasp|gasping",
        "breathe be|have|feel|seem|=getting|=becoming|=going? =gone|=become|=got|=been?"
        " =really|=very|=so|=quite|=too|=a? =bit|=little? bad|difficult|laboured|=labored"
        "|shallow|rapid|fast|noisy|funny|strange|hard|weird",
        "lip be|have|turn|=turning go? blue", "blue lip",
    ),
    "COUGH": ("cough|=coughing", "bring|=bringing up", "spit|=spitting|vomit|=vomiting up?"),
    "BLOOD": ("blood",),
    "BLOODY_SPUTUM": ("blood in @POSS phlegm|sputum|spit|mucus",),
    "HEART_ATTACK": ("heart attack",),
    "HAVING_ATTACK": ("be? having a heart attack", "be? having a mini? stroke"),
    "STROKE": ("stroke|=tia", "mini stroke", "=mini-stroke"),
    "FACE_SYMPTOM": (
        "droop|drooping|droopy|=drooped|drop|=dropped|=fallen|lopsided|wonky|crooked",
        "uneven|twisted|numb|weak|=paralysed|slip|=slipped", "one side",
    ),
    "ARM_SYMPTOM": ("@CANT lift|raise|move|use|feel", "not work|working"),
    "SLURRED": ("slur|slurred|slurring|slurry", "@CANT speak|talk @POSS? properly|clearly?",
                "@CANT get @POSS? word out", "@CANT find|say @POSS? word|=words",
                "struggle|=struggling to find|get|say @POSS? word|=words", "=gibberish|garbled",
                "talk|talking nonsense|rubbish", "not make|making sense", "make|making no sense"),
    "WORDS": ("word|speech",),
    "WORDS_WRONG": ("=wrong|jumbled|jumble|muddled|muddle|garbled|strange|funny|weird|slow",
                    "mixed up", "come|coming out wrong|funny|strange"),
    "CONFUSED": ("confused|confusion|disorientated|disoriented|delirious",),
    "DISORIENTED": ("not know where he|she|they|i|we", "not know who he|she|they|i|we|anyone",
                    "not recognise|recognize @POSS? me|us|anyone|anybody|family|wife|husband"),
}

# --------------------------------------------------------------------------------------
# 4. Cue patterns (same pattern language)
# --------------------------------------------------------------------------------------
CUE_PATTERNS: Dict[str, Sequence[str]] = {
    # Conditionals: only a time anchor for the present ("since yesterday") overrides them.
    "HYPO_STRONG": ("=if|whether|unless|suppose|supposing", "in case"),
    # Modals: "will my legs feel numb", "could I be paralysed". Clause-scoped.
    # (LOWER, not LEMMA: the lookup table lemmatises "could" as "can".)
    "HYPO_MODAL": ("=will|='ll|=would|=could|=might|=may|=shall|=should", "going to", "=gonna"),
    # Questions about information, risk, side effects, causes, worry.
    "HYPO_INFO": (
        "normal|common|usual|typical|expected|expect|rare|likely|likelihood|possible",
        "possibility|risk|risky|complication|chance|cause|=causing|danger|dangerous",
        "side =-? effect", "sign|symptom of",
        "=warning", "mean|=means", "look|watch out", "worry|=worried|scared|afraid",
        "frightened|concerned|nervous|fear|anxious", "explain|information|=info|leaflet",
        "tell me about", "=people|patients|anyone|someone|anybody|somebody|your",
        "happen|=happens|affect|prevent|avoid", "=generally|usually|typically",
    ),
    # Time anchors for a present report.
    "OVERRIDE_STRONG": (
        "=since|today|tonight|yesterday|overnight|suddenly|currently",
        "all of a sudden", "out of nowhere", "this morning|afternoon|evening|week",
        "last night", "right now", "at the moment", "just now", "this be new",
        "wake|=woke up", "~^\\d+$ hour|minute|day ago", "a|an|few|several|couple hour|minute|day ago",
        "a? few|couple of? hour|minute|day ago",
    ),
    # Signs of a present report after a hypothetical cue ("is it normal to STILL ...").
    "OVERRIDE_WEAK": ("=still|keep|keeps|kept|keeping|start|started|starting|=gone|=been|=got|=now",),
    # Extra acuteness words for "can't walk / can't stand".
    "ACUTE": ("=now|anymore|just|new|keep|=sudden", "any more", "at all"),
    # Past and resolved.
    "RESOLVED": (
        "last year|month|week", "=year|years|months ago", "in the past", "use to", "=used to",
        "=before", "=gone|=better now", "=cleared up",
        "before @POSS? op|operation|procedure|surgery|kyphoplasty|treatment",
        "=previously|survivor|resolved", "history of", "=went|=gone away",
        "=was|=were fine|ok|okay|nothing", "no longer", "~^(19|20)\\d\\d$",
    ),
    # Long-standing, habitual.
    "CHRONIC": (
        "for years|months|ages|decades", "for a long time", "for many|several years|months",
        "all @POSS life", "=always", "=long-standing|longstanding|chronic",
        "on|up|climbing the? stairs|hills", "when i exercise", "=exertion",
        "=sometimes|=occasionally|=already|dementia|=alzheimer's|=alzheimers|=alzheimer",
        # known long-term causes given as the explanation ("because of his prostate")
        "because of|with @POSS? =prostate|=diabetes|=ms|=parkinson's|=parkinsons|=neuropathy|=age",
        "old age",
    ),
}

# Interrogative or auxiliary words that, first in a clause, make it a question.
# ("why" is left out on purpose: "why can't I feel my legs?" presupposes the symptom.)
INTERROGATIVES = {
    "is", "are", "does", "do", "did", "can", "could", "will", "would", "should", "shall",
    "may", "might", "what", "what's", "how", "when", "which", "who", "has", "have", "any",
    "anyone", "isn't", "was",
}
# Skipped at the start of a clause before looking for an interrogative.
LEADING_FILLERS = {
    "so", "and", "ok", "okay", "please", "also", "hi", "hello", "hey", "sorry", "just", "um",
    "oh", "well", "right", "but", "then", "quick", "question", "q", "however", "although",
    "though", "anyway", "btw", "plus", "thanks", "thank", "you",
}
# Subjects after an inverted auxiliary in a question ("have you", "isn't it", "has my").
QUESTION_SUBJECTS = {"i", "you", "he", "she", "it", "we", "they", "this", "that", "there",
                     "my", "his", "her", "your", "our", "their", "the", "a", "an", "any",
                     "anyone", "anybody", "someone", "somebody", "people", "patients",
                     "everyone", "mum", "dad", "kyphoplasty"}
# "can you help", "could you tell me": requests to the bot, not hypothetical questions.
REQUEST_AUX = {"can", "could", "will", "would"}
REQUEST_VERBS = {"help", "please", "tell", "advise", "call", "ring", "send", "get", "check"}

# Negation: a negator before a symptom, separated only by these filler words, negates it.
NEGATORS = {"no", "not", "n't", "nt", "never", "without", "none", "nor", "neither"}
NEGATION_EXEMPT_NEXT = {"sure", "certain", "know", "think", "well", "good", "right", "great"}
NEGATION_FILLERS = {
    "any", "a", "an", "the", "some", "have", "has", "had", "got", "get", "getting", "been",
    "be", "is", "are", "was", "were", "am", "'m", "'s", "'ve", "'d", "do", "does", "did",
    "experienced", "experiencing", "having", "felt", "feel", "feeling", "noticed", "notice",
    "sign", "signs", "of", "real", "more", "other", "further", "new", "my", "his", "her",
    "their", "our", "such", "much", "really", "actually", "currently", "so", "far", "yet",
    "thankfully", "luckily", "fortunately", "at", "all", "like", "too", "very", "bad",
}

# Clause and segment boundaries.
SENTENCE_END = {".", "?", "!", ";", "...", "..", "?!", "!!", "??"}
CLAUSE_END = {",", "-", "--", ":", "(", ")", "/"}
SEGMENT_START = {"but", "however", "although", "though", "whereas", "also", "anyway", "btw",
                 "plus", "otherwise"}

# Subjects and present-tense verbs for a report ("my legs are", "I can't", "he has").
SUBJECT_PRONOUNS = {"i", "he", "she", "they", "we", "it", "this", "that", "mum", "dad",
                    "husband", "wife", "mother", "father", "partner", "son", "daughter"}
POSSESSIVES = {"my", "his", "her", "their", "our"}
PRESENT_VERBS = {"am", "'m", "is", "'s", "are", "'re", "have", "'ve", "has", "ca", "can't",
                 "can", "keep", "keeps", "feel", "feels", "got", "seem", "seems", "look",
                 "looks", "still", "just", "now", "suddenly", "really", "literally"}
INVERTING_AUX = {"will", "'ll", "would", "could", "can", "might", "may", "shall", "should",
                 "do", "does", "did", "is", "are", "was", "were", "has", "have", "had", "am"}

# Words that make a time-anchored sentence point back at a symptom in another sentence.
ANCHOR_BACK_REFERENCES = {"it", "it's", "this", "that", "they", "started", "began", "begun",
                          "been", "since"}

# Confusion is a stroke sign only when it is sudden/marked or about another person:
# "I'm confused about the difference" is not.
CONFUSION_INTENSIFIERS = {"suddenly", "sudden", "very", "really", "so", "totally",
                          "completely", "acutely", "extremely", "increasingly", "more"}
THIRD_PERSON = {"he", "she", "they", "mum", "dad", "husband", "wife", "mother", "father",
                "nan", "gran", "grandma", "grandad", "grandpa", "partner", "him", "her",
                "mum's", "dad's", "he's", "she's"}
CONFUSION_NOT_SYMPTOM_NEXT = {"about", "by", "with", "as", "over", "regarding", "re",
                              "which", "what", "why", "how", "between", "on", "whether"}
# After "can't stand", only these words keep the physical sense ("can't stand up").
STAND_NEXT = {"up", "on", "properly", "straight", "unaided", "without", "at", "and", "or",
              "anymore", "now", "today", "any", "by", "still", "upright", "alone"}
# "can't walk far" / "can't stand for long" are long-standing limitations.
WALK_LIMITS_NEXT = {"far", "long", "distances", "very", "much", "for", "fast", "quickly"}

# Context words that place a fever with back pain or after the procedure.
FEVER_BODY_LEMMAS = {"back", "spine", "spinal", "wound", "incision", "cut", "scar",
                     "vertebra", "fracture"}
FEVER_PROCEDURE_LEMMAS = {"operation", "op", "procedure", "kyphoplasty", "surgery",
                          "treatment", "cement", "hospital", "discharge", "home", "after",
                          "since"}
FUTURE_PROCEDURE_LEMMAS = {"next", "tomorrow", "upcoming", "cancel", "postpone", "booked",
                           "due", "before", "pre-op"}

# Category rules: (category, concept A, concept B or None, max gap in tokens).
PAIR_RULES: Sequence[Tuple[str, str, Optional[str], int]] = (
    ("bladder_bowel", "INCONTINENCE", None, 0),
    ("bladder_bowel", "RETENTION", None, 0),
    ("bladder_bowel", "BLADDER", "LOSS_CONTROL", 5),
    ("bladder_bowel", "BLADDER", "NUMB", 5),
    ("bladder_bowel", "ACCIDENT", "UNDERWEAR", 4),
    ("bladder_bowel", "BLADDER", "ACCIDENT", 1),  # "a bowel accident", "toilet accidents"
    ("saddle_numbness", "SADDLE", "NUMB", 6),
    ("leg_weakness_numbness", "LEG", "NUMB", 6),
    ("leg_weakness_numbness", "LEG", "WEAK", 6),
    ("leg_weakness_numbness", "PARALYSED", None, 0),
    ("leg_weakness_numbness", "CANT_WALK", None, 0),
    ("fever_back_pain", "FEVER", None, 0),
    ("uncontrolled_pain", "SEVERE_PAIN", None, 0),
    ("uncontrolled_pain", "PAIN", "SEVERE", 5),
    ("uncontrolled_pain", "PAINKILLER", "FAIL", 5),
    ("uncontrolled_pain", "PAINKILLER_FAIL", None, 0),
    ("chest_breathing", "CHEST", "CHEST_SYMPTOM", 4),
    ("chest_breathing", "BREATH", None, 0),
    ("chest_breathing", "COUGH", "BLOOD", 4),
    ("chest_breathing", "BLOODY_SPUTUM", None, 0),
    ("chest_breathing", "HEART_ATTACK", None, 0),
    ("stroke", "STROKE", None, 0),
    ("stroke", "FACE", "FACE_SYMPTOM", 5),
    ("stroke", "ARM", "WEAK", 6),
    ("stroke", "ARM", "NUMB", 6),
    ("stroke", "ARM", "HEAVY", 6),
    ("stroke", "ARM", "ARM_SYMPTOM", 4),
    ("stroke", "SLURRED", None, 0),
    ("stroke", "WORDS", "WORDS_WRONG", 4),
    ("stroke", "CONFUSED", None, 0),
    ("stroke", "DISORIENTED", None, 0),
)

# Concepts whose findings are reports even when asked as a question ("is he having a
# stroke?", "could she be having a heart attack?"): only info cues and negation drop them.
QUESTION_PROOF = {"HAVING_ATTACK"}

_LEVEL_ORDER = {EMERGENCY: 0, URGENT: 1}

Span = Tuple[int, int]


# --------------------------------------------------------------------------------------
# Pattern expansion
# --------------------------------------------------------------------------------------
def _expand_macros(spec: str) -> List[List[str]]:
    """Expands @MACROs into every alternative token sequence."""
    choices: List[List[List[str]]] = []
    for word in spec.split():
        optional = word.endswith("?") and len(word) > 1
        name = word[:-1] if optional else word
        if name.startswith("@"):
            alternatives = [alt.split() for alt in MACROS[name[1:]]]
            if optional:
                alternatives.append([])
            choices.append(alternatives)
        else:
            choices.append([[word]])
    return [list(itertools.chain.from_iterable(combo)) for combo in itertools.product(*choices)]


def _token_patterns(word: str, lemma_of: Callable[[str], str]) -> List[Dict]:
    """Matcher token dicts for one word of the pattern language (one per attribute:
    a Matcher token cannot OR across LEMMA and LOWER, so mixed words give two)."""
    optional = word.endswith("?") and len(word) > 1
    if optional:
        word = word[:-1]
    if word == "_":
        specs: List[Dict] = [{}]
    elif word.startswith("~"):
        specs = [{"LOWER": {"REGEX": word[1:]}}]
    else:
        alternatives = word.split("|")
        lowers = sorted(a[1:] for a in alternatives if a.startswith("="))
        plain = [a for a in alternatives if not a.startswith("=")]
        lemmas = sorted(set(plain) | {lemma_of(a) for a in plain})
        specs = ([{"LEMMA": {"IN": lemmas}}] if lemmas else []) + (
            [{"LOWER": {"IN": lowers}}] if lowers else [])
    if optional:
        specs = [dict(spec, OP="?") for spec in specs]
    return specs


def _build_matcher(nlp: Language, table: Dict[str, Sequence[str]]) -> Matcher:
    matcher = Matcher(nlp.vocab, validate=True)

    @functools.lru_cache(maxsize=None)
    def lemma_of(word: str) -> str:
        doc = nlp(word)
        return doc[0].lemma_ if len(doc) == 1 else word

    for label, specs in table.items():
        patterns = []
        for spec in specs:
            for tokens in _expand_macros(spec):
                per_token = [_token_patterns(t, lemma_of) for t in tokens]
                patterns.extend([list(combo) for combo in itertools.product(*per_token)])
        matcher.add(label, patterns)
    return matcher


# --------------------------------------------------------------------------------------
# The detector
# --------------------------------------------------------------------------------------
class _Structure:
    """Sentence, segment and clause ids of every token of a doc."""

    def __init__(self, doc: Doc) -> None:
        n = len(doc)
        self.sentence = [0] * n
        self.segment = [0] * n
        self.clause = [0] * n
        sent = seg = clause = 0
        boundary_before = False  # the previous token closed a sentence / clause
        for i, token in enumerate(doc):
            text = token.lower_
            is_break = text in SENTENCE_END or ("\n" in token.text)
            is_clause_break = text in CLAUSE_END
            starts_segment = text in SEGMENT_START or (
                text in {"and", "but"} and i + 1 < n and doc[i + 1].lower_ == "now"
            )
            if boundary_before:
                clause += 1
            if starts_segment and i > 0:
                seg += 1
                clause += 1
            self.sentence[i], self.segment[i], self.clause[i] = sent, seg, clause
            boundary_before = False
            if is_break:
                sent += 1
                seg += 1
                boundary_before = True
            elif is_clause_break:
                boundary_before = True
        self.n = n

    def first_of(self, ids: List[int], value: int) -> int:
        return ids.index(value)

    def last_of(self, ids: List[int], value: int) -> int:
        return self.n - 1 - ids[::-1].index(value)


class UrgentSymptomDetector:
    """Finds urgent symptoms in a message with explicit spaCy Matcher rules."""

    def __init__(self, nlp: Language) -> None:
        self.nlp = nlp
        self._concepts = _build_matcher(nlp, CONCEPT_PATTERNS)
        self._cues = _build_matcher(nlp, CUE_PATTERNS)
        self._known_word = self._make_word_check(nlp)

    # -- public API --------------------------------------------------------------------
    def detect_text(self, text: str) -> List[UrgentFinding]:
        """Normalises the text, runs the spaCy pipeline and returns the findings."""
        return self._detect_normalised(self.nlp(self.normalise(text)))

    def detect(self, doc: Doc) -> List[UrgentFinding]:
        """Findings for a spaCy Doc. The Doc's text is normalised first (re-parsed if it
        changes), so a Doc made from the raw message gives the same result as detect_text."""
        normalised = self.normalise(doc.text)
        if normalised != doc.text or not doc.has_annotation("LEMMA"):
            doc = self.nlp(normalised)
        return self._detect_normalised(doc)

    def normalise(self, text: str) -> str:
        return normalise_text(text, self._known_word)

    # -- internals ---------------------------------------------------------------------
    @staticmethod
    def _make_word_check(nlp: Language) -> Optional[Callable[[str], bool]]:
        try:
            table = nlp.get_pipe("lemmatizer").lookups.get_table("lemma_lookup")
        except Exception:  # a pipeline without a lookup lemmatizer: keep two letters
            return None
        from spacy.lang.en.stop_words import STOP_WORDS

        lemmas = set(table.values()) | set(STOP_WORDS)
        return lambda word: word in lemmas or word in table

    def _detect_normalised(self, doc: Doc) -> List[UrgentFinding]:
        if len(doc) == 0:
            return []
        structure = _Structure(doc)
        concepts = self._concept_spans(doc)
        cues = self._cue_spans(doc)
        lemmas = {t.lemma_ for t in doc} | {t.lower_ for t in doc}
        concept_tokens = {i for spans in concepts.values() for s, e in spans for i in range(s, e)}
        anchor_sentences = self._anchor_sentences(doc, structure, cues)

        found: Dict[str, Tuple[int, UrgentFinding]] = {}
        for category, first, second, gap in PAIR_RULES:
            if category in found:
                continue
            for start, end, anchor in self._candidates(doc, structure, concepts, first, second, gap):
                if first == "FEVER" and not self._fever_in_context(concepts, lemmas):
                    continue
                if first == "CANT_WALK" and not self._acute(structure, cues, start):
                    continue
                if not self._is_report(doc, structure, cues, concept_tokens, anchor,
                                       (start, end), anchor_sentences,
                                       question_proof=self._question_proof(concepts, start, end)):
                    continue
                finding = UrgentFinding(category, CATEGORY_LEVELS[category], doc[start:end].text)
                found[category] = (start, finding)
                break
        ordered = sorted(found.values(), key=lambda item: (_LEVEL_ORDER[item[1].level], item[0]))
        return [finding for _, finding in ordered]

    @staticmethod
    def _acute(structure: _Structure, cues: Dict[str, List[Span]], start: int) -> bool:
        """"Can't walk / stand" is urgent when it is new: a time anchor or an acuteness
        word ("suddenly", "now", "anymore", "at all") in the same segment."""
        segment = structure.segment[start]
        return any(structure.segment[s] == segment
                   for label in ("ACUTE", "OVERRIDE_STRONG") for s, _ in cues.get(label, []))

    @staticmethod
    def _fever_in_context(concepts: Dict[str, List[Span]], lemmas: Set[str]) -> bool:
        """A fever counts with pain or back/wound words, or after the procedure; a
        procedure that is still to come ("a temperature, should I cancel my op next
        week?") is not "after the procedure"."""
        if concepts.get("PAIN") or lemmas & FEVER_BODY_LEMMAS:
            return True
        return bool(lemmas & FEVER_PROCEDURE_LEMMAS) and not lemmas & FUTURE_PROCEDURE_LEMMAS

    def _concept_spans(self, doc: Doc) -> Dict[str, List[Span]]:
        spans: Dict[str, Set[Span]] = {}
        strings = self.nlp.vocab.strings
        for match_id, start, end in self._concepts(doc):
            label = strings[match_id]
            if not self._keep_concept(doc, label, start, end):
                continue
            spans.setdefault(label, set()).add((start, end))
        return {label: sorted(values) for label, values in spans.items()}

    @staticmethod
    def _keep_concept(doc: Doc, label: str, start: int, end: int) -> bool:
        after = doc[end].lower_ if end < len(doc) else ""
        before = [t.lower_ for t in doc[max(0, start - 4):start]]
        if label == "SADDLE" and doc[start].lower_ == "bottom":
            # "the bottom of my back", "at the bottom" are places, not the buttocks.
            return after != "of" and before[-2:] != ["at", "the"]
        if label == "SLURRED" and after in {"to", "with"}:
            return False  # "can't speak to anyone at the hospital"
        if label == "SLURRED" and after in {"of"}:
            return False  # "not making sense of the leaflet"
        if label == "CONFUSED":
            if after in CONFUSION_NOT_SYMPTOM_NEXT:
                return False
            return bool(set(before[-2:]) & CONFUSION_INTENSIFIERS or set(before) & THIRD_PERSON
                        or doc[start].lower_ == "confusion" and "sudden" in before)
        if label == "CANT_WALK":
            if doc[end - 1].lower_ == "stand" and after.isalpha() and after not in STAND_NEXT:
                return False  # "I can't stand hospitals / the waiting"
            return after not in WALK_LIMITS_NEXT
        if label == "SEVERE" and doc[end - 1].lower_ == "stand" and after in {"up", "for"}:
            return False  # "I can't stand up" is not "I can't stand the pain"
        if label == "BLADDER" and doc[start].lower_ == "wee" and after in {"bit", "while"}:
            return False  # Scottish "a wee bit"
        return True

    def _cue_spans(self, doc: Doc) -> Dict[str, List[Span]]:
        spans: Dict[str, Set[Span]] = {}
        strings = self.nlp.vocab.strings
        for match_id, start, end in self._cues(doc):
            label = strings[match_id]
            if label == "HYPO_MODAL" and end < len(doc) and doc[end].lemma_ == "not":
                continue  # "couldn't feel", "won't work": a statement, not a modal question
            if label == "HYPO_MODAL" and start > 0 and doc[start - 1].lower_ == "nothing":
                continue  # "nothing will come out"
            if label == "RESOLVED" and not self._resolved_cue_applies(doc, start, end):
                continue
            spans.setdefault(label, set()).add((start, end))
        return {label: sorted(values) for label, values in spans.items()}

    @staticmethod
    def _resolved_cue_applies(doc: Doc, start: int, end: int) -> bool:
        """'since last week' starts something that is still going on; 'wasn't there
        before' and 'never had that before' say the symptom is new."""
        if start > 0 and doc[start - 1].lower_ == "since":
            return False
        if doc[start:end].text == "before":
            if start > 0 and doc[start - 1].lower_ in {"than", "ever", "never"}:
                return False  # "hurts more than before" compares with the past
            return not any(_is_negator(doc, i) for i in range(max(0, start - 5), start))
        return True

    @staticmethod
    def _candidates(doc: Doc, structure: _Structure, concepts: Dict[str, List[Span]],
                    first: str, second: Optional[str], max_gap: int) -> Iterable[Tuple[int, int, Span]]:
        """(start, end, anchor) of each candidate; the anchor span decides cue scope."""
        if second is None:
            for span in concepts.get(first, []):
                yield span[0], span[1], span
            return
        pairs = []
        for a in concepts.get(first, []):
            for b in concepts.get(second, []):
                if a == b and first != second:
                    continue
                start, end = min(a[0], b[0]), max(a[1], b[1])
                gap = max(a[0], b[0]) - min(a[1], b[1])
                if gap > max_gap:
                    continue
                if structure.sentence[start] != structure.sentence[end - 1]:
                    continue
                inner = [i for i in range(start, end)
                         if not (a[0] <= i < a[1] or b[0] <= i < b[1])]
                if any(doc[i].lower_ in SEGMENT_START for i in inner):
                    continue
                if any(_is_negator(doc, i) for i in inner):
                    continue  # "my legs are not numb"
                pairs.append((gap, start, end))
        for _, start, end in sorted(pairs):
            yield start, end, (start, end)

    @staticmethod
    def _question_proof(concepts: Dict[str, List[Span]], start: int, end: int) -> bool:
        return any(s < end and start < e for label in QUESTION_PROOF
                   for s, e in concepts.get(label, []))

    def _anchor_sentences(self, doc: Doc, structure: _Structure,
                          cues: Dict[str, List[Span]]) -> Set[int]:
        """Sentences that report something happening now ("it started yesterday") and
        ask nothing hypothetical themselves."""
        anchored = {structure.sentence[s] for s, _ in cues.get("OVERRIDE_STRONG", [])}
        # Only sentences that point back at a symptom ("it started yesterday", "I haven't
        # been since this morning"), not "I had my operation yesterday".
        anchored = {sent for sent in anchored
                    if any(structure.sentence[i] == sent and doc[i].lower_ in ANCHOR_BACK_REFERENCES
                           for i in range(len(doc)))}
        hypothetical = {structure.sentence[s] for label in ("HYPO_STRONG", "HYPO_MODAL", "HYPO_INFO")
                        for s, _ in cues.get(label, [])}
        for i in range(len(doc)):
            if i == 0 or structure.clause[i] != structure.clause[i - 1]:
                if self._interrogative_at(doc, i):
                    hypothetical.add(structure.sentence[i])
        return anchored - hypothetical

    def _is_report(self, doc: Doc, structure: _Structure, cues: Dict[str, List[Span]],
                   concept_tokens: Set[int], anchor: Span, span: Span,
                   anchor_sentences: Set[int], question_proof: bool = False) -> bool:
        start, end = anchor
        clause_start = structure.first_of(structure.clause, structure.clause[start])
        clause_end = structure.last_of(structure.clause, structure.clause[end - 1]) + 1
        segment_start = structure.first_of(structure.segment, structure.segment[start])
        sentence = structure.sentence[start]

        def within(label: str, lo: int, hi: int) -> List[Span]:
            return [(s, e) for s, e in cues.get(label, []) if lo <= s and e <= hi]

        # Negation: "no numbness", "I don't have a fever", "no chest pain or breathing problems".
        if self._negated_before(doc, structure, concept_tokens, span[0]):
            return False
        # Past and resolved, or long-standing without a new time anchor.
        if within("RESOLVED", clause_start, clause_end):
            return False
        strong_override = bool(within("OVERRIDE_STRONG", clause_start, clause_end))
        if within("CHRONIC", clause_start, clause_end) and not strong_override:
            return False
        # Hypothetical, conditional and informational framing before the symptom.
        strong = within("HYPO_STRONG", segment_start, end)
        weak = within("HYPO_MODAL", clause_start, end) + within("HYPO_INFO", segment_start, end)
        interrogative = [(i, i + 1) for i in {clause_start, segment_start}
                         if self._interrogative_at(doc, i)]
        if question_proof:
            weak = within("HYPO_INFO", segment_start, end)
            interrogative = []
        if not (strong or weak or interrogative):
            return True
        if strong_override or (anchor_sentences - {sentence}):
            return True
        if strong:
            return False
        last_cue = max(s for s, _ in weak + interrogative)
        if within("OVERRIDE_WEAK", last_cue + 1, end):
            return True
        return self._subject_report(doc, last_cue + 1, end)

    def _interrogative_at(self, doc: Doc, i: int) -> bool:
        """Does the clause starting at token i open with a question word?"""
        n = len(doc)
        while i < n and (doc[i].lower_ in LEADING_FILLERS or doc[i].is_punct):
            i += 1
        if i >= n or doc[i].lower_ not in INTERROGATIVES:
            return False
        following = doc[i + 1].lower_ if i + 1 < n else ""
        if doc[i].lower_ in {"have", "has"} and following not in QUESTION_SUBJECTS:
            return False  # "haven't passed water since ...", "has gone numb": statements
        if doc[i].lower_ in INVERTING_AUX and doc[i + 1:i + 2].text and _is_negator(doc, i + 1):
            after = doc[i + 2].lower_ if i + 2 < n else ""
            if after not in QUESTION_SUBJECTS:
                return False  # "can't stop shaking", "isn't working": statements
        if doc[i].lower_ in REQUEST_AUX and i + 2 < n and doc[i + 1].lower_ == "you" \
                and doc[i + 2].lower_ in REQUEST_VERBS:
            return False  # "can you help, ..."
        return True

    @staticmethod
    def _subject_report(doc: Doc, lo: int, hi: int) -> bool:
        """A present-tense statement with a subject, not inverted by an auxiliary:
        "(is it normal that) my legs are ...", "I can't ...", "he has ..."."""
        for i in range(max(lo, 0), hi):
            word = doc[i].lower_
            if word in SUBJECT_PRONOUNS:
                verb_positions = [i + 1]
            elif word in POSSESSIVES:
                verb_positions = [i + 2, i + 3]
            else:
                continue
            if i > 0 and doc[i - 1].lower_ in INVERTING_AUX:
                continue  # "will my legs ...", "could I ..."
            if any(p < len(doc) and doc[p].lower_ in PRESENT_VERBS for p in verb_positions):
                return True
        return False

    @staticmethod
    def _negated_before(doc: Doc, structure: _Structure, concept_tokens: Set[int], start: int) -> bool:
        clause = structure.clause[start]
        coordinated = False
        i = start - 1
        while i >= 0 and structure.clause[i] == clause:
            word = doc[i].lower_
            if _is_negator(doc, i):
                return True
            if word in {"or", "nor"}:
                coordinated = True
            elif word in NEGATION_FILLERS or (coordinated and i in concept_tokens):
                pass
            else:
                return False
            i -= 1
        return False


def _is_negator(doc: Doc, i: int) -> bool:
    token = doc[i]
    if token.lower_ not in NEGATORS and token.lemma_ != "not":
        return False
    j = i + 1
    while j < len(doc) and doc[j].lower_ in {"too", "really", "quite", "that", "so"}:
        j += 1
    return not (j < len(doc) and doc[j].lower_ in NEGATION_EXEMPT_NEXT)


# --------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=4)
def _load_detector(path: str) -> UrgentSymptomDetector:
    import spacy

    return UrgentSymptomDetector(spacy.load(path))


def load_detector(model_path: Optional[str] = None) -> UrgentSymptomDetector:
    """The detector for a spaCy pipeline, loaded once per path and cached.

    Path: ``model_path`` if given, else the KYPHO_SPACY_MODEL environment variable,
    else the repo's build/spacy/en_kyphoplasty (relative to this file).
    """
    path = model_path or os.environ.get(MODEL_ENV_VAR) or str(DEFAULT_MODEL_PATH)
    return _load_detector(str(Path(path).expanduser().resolve()))


# Clears the cache of loaded detectors (tests, or after rebuilding the spaCy pipeline).
load_detector.cache_clear = _load_detector.cache_clear  # type: ignore[attr-defined]
