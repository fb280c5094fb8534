"""Headlines that state one self-contained claim in at most 90 characters.

A headline is the speaker's own sentence, or a clause of it that stands alone, with discourse
markers and framing ("Honestly,", "The lesson is that") dropped and spoken numbers as digits.
It is never cut mid-clause: a sentence with no short enough clause gives no headline, and the
extractor tries another sentence.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from core.insights.cues import is_meta, stands_alone
from core.insights.offline.numbers import with_digits
from core.insights.offline.text import content_words, tidy

HEADLINE_MAX = 90
MIN_WORDS = 5

# Framing before the claim itself ("The lesson is that ...", "I'd tell founders: ...").
_FRAME = re.compile(
    r"^(?:(?:honestly|frankly|actually|basically|obviously|of course|in fact|to be fair|"
    r"interestingly(?: enough)?|in general|generally speaking|realistically|in that sense|"
    r"(?:more |most )?importantly|crucially|notably|essentially|"
    r"I (?:guess|suppose)|you know what|at least for me|in my opinion|"
    r"at the end of the day|in my experience|for me|again|also|then|ultimately|"
    r"and|but|so|yeah|okay|and so|but also|I mean|you know|"
    r"(?:look|listen|now|really|well|right|first|second|third)(?=[,:])|"
    r"(?:I|we)(?: think| believe| feel| guess| suspect| would say|'d say| would argue|'d argue)"
    r"(?! to\b)"
    r"(?: that)?|I'm (?:convinced|sure|pretty sure)(?: that)?|"
    r"(?:it )?turns out(?: that)?|as it turns out|"
    r"the (?:lesson|takeaway|point|key|trick|secret|insight|reality|truth|headline|bottom line|"
    r"big lesson|main lesson|real lesson|surprise) (?:here |for us |now )?(?:is|was)(?: that)?|"
    r"what (?:we|I) (?:saw|found|learned|noticed|realized|discovered)(?: is| was)(?: that)?|"
    r"(?:we|I) (?:looked at the data and )?(?:found|saw|learned|noticed|realized|discovered) "
    r"that|one thing (?:we|I) (?:learned|noticed|found)(?: is| was)(?: that)?|"
    r"(?:my|our) (?:recommendation|advice|rule|rule of thumb|default|policy)(?: now)? "
    r"(?:is|would be)(?: to| that)?|I'd (?:tell|say to) [\w ]{0,30}?(?:founders|people|teams|"
    r"everyone|anyone|listeners|managers|leaders|engineers)|"
    r"(?:step|number|point|rule|lesson) (?:one|two|three|four|five|\d)|(?:one|two|three)(?=,)|"
    r"firstly|secondly|finally|"
    r"(?:after that|since then|from then on),? (?:we|I) (?:set|made|have|adopted) (?:a |an )?"
    r"(?:hard |simple |new )?(?:rule|policy))[,:]?\s+)+",
    re.IGNORECASE,
)
# Clause boundaries where the rest of a sentence may be dropped: the part before stays whole.
_CLAUSE_END = re.compile(
    r"(?:[;:]|\s[—–-]+|,(?= (?:and|which|because|so|where|although|though|while|plus|even|"
    r"whereas|since|unless|until|as long as|above which|after|before|ideally|usually|often|"
    r"especially|including|instead|rather|with|without|like|depending|regardless|roughly|"
    r"about|around|almost|mostly|then|or|at least|if|when|for example|say|from|in|on|by)\b))\s",
    re.IGNORECASE,
)
_BARE_CLAUSE_END = re.compile(r"\s(?=(?:and|but|because|so|which|where|when|if|or)\s)", re.I)
# Cased speech that runs on: cut before a bare conjunction, but never before "if" or "unless",
# whose condition the claim needs.
_RUN_ON_CUT = re.compile(r"\s(?=(?:but|because|so|which|where|when)\s)", re.I)
# A short opening phrase before a comma ("In one company, ", "For a typical healthy adult, ").
_OPENING_PHRASE = re.compile(
    r"^(?:in|at|for|on|over|during|within|across|among|after|in our|on average|today|nowadays|"
    r"these days)\b[^,]{0,40},\s+",
    re.IGNORECASE,
)
# "In rider miles per day": a prepositional phrase with no clause after it.
_PREPOSITION_START = re.compile(r"^(?:in|on|at|for|of|with|by|from|to|within|about)\b", re.I)
# Pieces of speech that are not sentences: "Boring because ...", "Came server-side includes".
_FRAGMENT = re.compile(
    r"^(?:\w+ because|more of an?|knowing that|came|comes|went|goes|number \w+|step \w+|"
    r"(?:the|a|an) (?:not|and|but|or|of|to|is|was|that))\b",
    re.I,
)
# A speaker correcting themselves: the same two words twice ("everything we ... everything we").
_SELF_REPAIR = re.compile(r"\b(\w+ \w+)\b.{1,40}?\b\1\b", re.IGNORECASE)
# Softeners a headline can lose, except where they carry meaning: after a negation ("not
# really", "not just"), inside fixed phrases ("to the very least", "the very first", "very few").
_SOFTENERS = re.compile(
    r"(?<!\bnot )(?<!n't )(?<!\bnever )(?<!\bthe )(?<!\bno )"
    r"\b(?:simply|really|actually|just|basically|genuinely|truly|obviously|honestly|certainly|"
    r"definitely|literally|quite|pretty much|very(?! (?:least|most|best|worst|first|last|end|"
    r"beginning|same|few|little|top|bottom|idea|thing|moment|start)\b)),?\s+"
    r"(?!(?:not|no|never)\b)",
    re.IGNORECASE,
)
# A time adjunct at the end ("within a quarter") may go when nothing else makes the length.
_TIME_TAIL = re.compile(
    r"\s+(?:within|after|over|during|in|for) (?:about |roughly |around |just )?(?:a|an|the|"
    r"one|two|three|four|five|six|seven|eight|nine|ten|\d+|several|a few|the next|the first) "
    r"(?:\w+ )?(?:seconds?|minutes?|hours?|days?|weeks?|months?|quarters?|years?|nights?)$",
    re.IGNORECASE,
)
_STUTTER = re.compile(r"\b(?!(?:had|that|is|do|very|so|far|long|\d+)\b)(\w+)(?: \1\b)+")
_WEAK_END = re.compile(
    r"[\s,;:—–-]+$|\s+(?:and|but|or|so|the|a|an|of|to|that|which|with)$",
    re.I,
)


_LABELS_TEXT = """is was are were rule rules lesson advice takeaway tip trick point recommendation
    policy example bug answer thing problem reason result fix difference mistake catch default"""
_LABELS = frozenset(_LABELS_TEXT.split())


def strip_framing(text: str) -> str:
    stripped = _FRAME.sub("", tidy(text)).strip(" ,;:")
    return stripped or text


def headline_from(
    text: str, *, cased: bool = True, accept: Callable[[str], bool] | None = None
) -> str | None:
    """The first of the sentence's candidate headlines that reads as a claim on its own
    (and that ``accept``, the shared quality gate's rules, lets through).

    In a ``cased`` transcript a sentence starting in lower case is a piece cut mid-sentence.
    """
    if text.rstrip().endswith("?") or is_meta(text) or (cased and text[:1].islower()):
        return None
    for candidate in candidates(text, cased=cased):
        if _acceptable(candidate) and (accept is None or accept(candidate)):
            return candidate
    return None


def candidates(text: str, *, cased: bool = True) -> list[str]:
    """The sentence, then the same with less of it, longest first; each ≤ 90 characters.

    Captions without punctuation have no commas to cut at: a conjunction stands in for one.
    """
    clause_end = _CLAUSE_END if cased else _BARE_CLAUSE_END
    base = _finish(strip_framing(text))
    forms = [base, *_after_colon(base), *_after_but(base)]
    for form in list(forms):
        opened = _OPENING_PHRASE.sub("", form)
        if opened != form:
            forms.append(_finish(opened))
    shorter: list[str] = []
    for form in forms:
        shorter.extend(_finish(form[: m.start()]) for m in clause_end.finditer(form))
    # Speech runs clauses together without commas: as a last resort cut before a bare
    # "because", "if", "so"... too (the part before still has to stand alone).
    barer = [
        _finish(form[: m.start()])
        for form in forms
        for m in _RUN_ON_CUT.finditer(form)
        if cased and m.start() > 20
    ]
    out: list[str] = []
    ordered = sorted(shorter, key=len, reverse=True) + sorted(barer, key=len, reverse=True)
    for form in [*forms, *ordered]:
        softer = _finish(_SOFTENERS.sub("", form))
        for variant in (form, softer, _finish(_TIME_TAIL.sub("", softer))):
            if len(variant) <= HEADLINE_MAX and variant not in out:
                out.append(variant)
    return out


def _after_colon(text: str) -> list[str]:
    """ "Our rule now is: put the feature ..." gives "Put the feature ...".

    Only after a label or a frame: after a full clause ("The fix was clustering: ...") the
    clause is the claim and the rest an elaboration.
    """
    head, colon, tail = text.partition(": ")
    words = head.split()
    if not colon or len(words) > 8:
        return []
    if len(words) > 5 and words[-1].lower() not in _LABELS:
        return []
    return [_finish(tail)]


def _after_but(text: str) -> list[str]:
    """ "Fully async sounds great, but overlap matters more" : the point follows the "but"."""
    _, but, tail = text.partition(", but ")
    if not but:
        _, but, tail = text.partition(" but ")
    return [_finish(strip_framing(tail))] if but and len(tail.split()) >= MIN_WORDS else []


def _finish(text: str) -> str:
    text = _STUTTER.sub(r"\1", with_digits(text.strip()))
    previous = None
    while previous != text:
        previous, text = text, _WEAK_END.sub("", text.rstrip(".!?;:, "))
        if text.count('"') % 2:
            text = text.strip('"')  # a quotation cut open at one end
    return text[:1].upper() + text[1:]


def _acceptable(text: str) -> bool:
    return (
        len(text.split()) >= MIN_WORDS
        and not _FRAGMENT.match(text)
        and not _SELF_REPAIR.search(text)
        and not (_PREPOSITION_START.match(text) and "," not in text)
        and len(content_words(text)) + len(re.findall(r"\b\d", text)) >= 3
        and stands_alone(text)
        and "?" not in text
    )
