"""Word-level helpers: tokens, stop words, sentence spans and tidying spoken text into prose."""

from __future__ import annotations

import re

_STOPWORDS_TEXT = """
    a about above after again against all also am an and any are aren't as at be because been
    before being below between both but by can can't cannot could couldn't did didn't do does
    doesn't doing don't down during each even ever every few for from further get gets getting
    go goes going gonna got gotta had hadn't has hasn't have haven't having he he'd he'll he's her
    here here's hers herself him himself his how how's i i'd i'll i'm i've if in into is isn't it
    it's its itself just kind kinda know let let's like lot lots make made many may maybe me might
    more most much must mustn't my myself need no nor not now of off oh ok okay on once one only
    or other ought our ours ourselves out over own pretty quite rather really right said same say
    says see shan't she she'd she'll she's should shouldn't so some something sort stuff such sure
    than that that's the their theirs them themselves then there there's these they they'd they'll
    they're they've thing things think this those though through to too totally uh um under until
    up upon us very wanna want was wasn't way we we'd we'll we're we've well were weren't what
    what's when when's where where's whether which while who who's whom why why's will with won't
    would wouldn't yeah yes yet you you'd you'll you're you've your yours yourself yourselves
    actually basically literally anyway anyways guess mean means okay alright hmm mhm cool awesome
    great good bit little big time times year years day days people person guy guys go going went
    come comes came back thanks thank take took put look looking talk talking talked tell told
    feel felt give gave keep kept start started use used using work working new old first last"""
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())

_WORD = re.compile(r"[a-z0-9][a-z0-9'+#.-]*[a-z0-9+#]|[a-z0-9]", re.IGNORECASE)
# A sentence ends at . ! ? (optionally followed by a closing quote or bracket) and whitespace.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]?\s+(?=[\"'(\[]?[A-Z0-9])")
_BRACKETED = re.compile(r"\s*\[[^\]]*\]\s*|\s*\((?:laughs?|laughter|silence|crosstalk)\)\s*", re.I)
# A stutter ("the the", "we, we"), but not grammar that repeats a word: "had had", "that that".
_REPEATS = re.compile(
    r"\b(?!(?:had|that|is|do|bye|no|very|so|far|long)\b)([A-Za-z]+(?:'[a-z]+)?)(?:,?\s+\1\b)+",
    re.IGNORECASE,
)
# Openers that carry nothing. Words that can also start a real clause ("Now is the time",
# "Well designed systems", "Like most teams", "Right answers") go only when a comma follows.
_LEADING = re.compile(
    r"^(?:(?:(?:and|but|so|yeah|yes|okay|ok|oh|um|uh|alright|and so|i mean|you know|i think|"
    r"i guess|i feel like|honestly|basically|actually)\b[,.]?|(?:well|right|now|look|like)[,.])"
    r"\s+)+",
    re.IGNORECASE,
)
# Fillers, except where the same words mean something: "do you know", "a kind of database",
# "what sort of team".
_FILLERS = re.compile(
    r",?\s*\b(?:(?<!\bdo )(?<!\bdid )(?<!\bif )(?<!n't )(?<!\bto )(?<!\bas )you know|"
    r"i mean(?! it\b)|um+|uh+|"
    r"(?<!\ba )(?<!\ban )(?<!\bwhat )(?<!\bthis )(?<!\bthat )(?<!\bthe )(?<!\bany )"
    r"(?<!\bsome )(?<!\bone )(?<!\bsame )(?:kind|sort) of|kinda|basically|literally|like,|"
    r"right\?)(?=[\s,.!?]|$),?",
    re.IGNORECASE,
)
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,.;:!?])")
_DOUBLE_PUNCT = re.compile(r"([,;:])\s*[,;:]+")


def words(text: str) -> list[str]:
    return [w.lower().strip(".") for w in _WORD.findall(text)]


def content_words(text: str) -> list[str]:
    """Words that carry meaning: not stop words, not bare numbers, at least three letters."""
    return [w for w in words(text) if len(w) > 2 and w not in STOPWORDS and not w.isdigit()]


def collapse(text: str) -> str:
    return " ".join(text.split())


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) character spans of the sentences of ``text``, end exclusive, trimmed."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        end = match.start() + len(match.group(0).rstrip())
        if text[start:end].strip():
            spans.append((start, end))
        start = match.end()
    if text[start:].strip():
        spans.append((start, len(text.rstrip())))
    return spans


def tidy(text: str) -> str:
    """Spoken words made readable: annotations, fillers, stutters and leading 'So, yeah' go."""
    text = _BRACKETED.sub(" ", text)
    text = _FILLERS.sub("", text)
    text = _REPEATS.sub(r"\1", text)
    text = collapse(text)
    text = _LEADING.sub("", text)
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", text)
    text = _DOUBLE_PUNCT.sub(r"\1", text).strip(" ,;:-")
    return text[:1].upper() + text[1:] if text else text


def as_sentence(text: str) -> str:
    """Tidied text ending with sentence punctuation."""
    text = tidy(text)
    if text and not re.search(r"[.!?…][\"')\]]*$", text):
        text += "."
    return text
