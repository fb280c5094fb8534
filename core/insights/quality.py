"""The one quality gate every insight passes before it is stored, whichever engine wrote it.

An insight's headline must be one declarative claim a reader who never heard the episode can
understand: its own subject, no question, no talk about the show, no life story without a
lesson, no promotion, no greeting. No markup may reach a headline, body or quote, and the quote
must start and end at sentence boundaries. The offline engine applies the same rules while it
chooses sentences, so the gate mostly catches the LLM engine's slips; what it rejects is
counted (``Gate.rejected``) and shown in ``podbrief stats``.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from core.domain import InsightDraft, SegmentData
from core.insights.cues import (
    ADVICE,
    INTRO,
    LESSON,
    NUMBER,
    OUTRO,
    RESULT,
    SPONSOR,
    is_meta,
    stands_alone,
)

# Every reason a draft can be turned away, in the order they are checked.
REASONS = (
    "markup",
    "question",
    "greeting",
    "promotion",
    "meta_talk",
    "biography",
    "leans_on_context",
    "fragment",
    "quote_not_sentence_bounded",
)

MARKUP = re.compile(
    r"</?[A-Za-z][\w:-]*(?:\s[^<>]*)?/?>"  # tags
    r"|&(?:[A-Za-z]{2,8}|#\d{1,6}|#x[0-9A-Fa-f]{1,6});"  # entities
    r"|\*\*|__|(?<![\w*])\*(?=\S)[^*\n]{1,80}(?<=\S)\*(?![\w*])"  # Markdown emphasis
    r"|(?<![\w_])_(?=\S)[^_\n]{1,80}(?<=\S)_(?![\w_])"
    r"|\\[\[\]()*_#`<>{}|]"  # escaped brackets and the like
    r"|\]\((?:https?:|/|#)"  # a Markdown link's target
    r"|\[\s*\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?\s*\]"  # a bracketed timestamp
    r"|^\s*(?:#{1,6}\s|>\s|---\s*$)",  # heading, blockquote, front matter fence
    re.MULTILINE,
)
# Talk about the show itself rather than about the subject.
SHOW_TALK = re.compile(
    r"^\W*let(?:'s| us)\b|\b(?:let's (?:talk|dive|jump|get|move|start|turn|switch)|"
    r"(?:maybe )?now we (?:could|can|should) (?:talk|move|get)|"
    r"coming to (?:a|the|our|your) question|(?:a|the|our) (?:next|last|first) question|"
    r"today (?:we're|we are|i'm|i am) (?:going to|gonna)|"
    r"in (?:this|today's|the next|our next) (?:episode|talk|session|show)|this (?:talk|episode|"
    r"show) is (?:called|about)|we'll (?:talk|get|come back)|i'll come back to|"
    r"(?:before|after) the break|(?:a |that's a )?(?:very |really )?good point|"
    r"(?:listeners?|audience) (?:asked|question)|show of hands|"
    r"(?:we|i) (?:wanted|want) to (?:talk|ask|cover|give)|we have (?:about )?\w+ minutes)\b",
    re.IGNORECASE,
)
GREETING = re.compile(
    r"^\W*(?:hello|hi|hey|good (?:morning|afternoon|evening)|welcome|thanks(?: so much)? for|"
    r"thank you(?: so much)? for|great to (?:be|have)|glad to be|nice to (?:meet|see))\b",
    re.IGNORECASE,
)
PROMOTION = re.compile(
    r"\b(?:(?:i'm|i am|we're|we are) (?:really |very |so |super )?(?:excited|thrilled|proud) "
    r"(?:about|to (?:announce|share|launch))|what we(?:'re| are) building|we(?:'re| are) hiring|"
    r"check out (?:our|my)|(?:our|my) (?:new )?(?:book|course|product|startup|newsletter|"
    r"website) (?:is|comes|launches)|sign up (?:at|for)|buy (?:our|my)|link in (?:the )?bio)\b",
    re.IGNORECASE,
)
# A life story told in the first person: "I was a science teacher for nine years".
_FIRST_PERSON_STORY = re.compile(
    r"^\W*(?:(?:so|and|but|well|actually),?\s+)?(?:i|my|i'm|i've|i'd|me)\b(?!\s+(?:think|"
    r"believe|would (?:say|argue|recommend)|recommend|suggest|learned that|realized|found that))",
    re.IGNORECASE,
)
_WE_STORY = re.compile(
    r"^\W*(?:(?:so|and|but|well|then|one|two),?\s+)?(?:we|you) (?:just )?(?:had|started|did|went|"
    r"got|ran|tried|looked|were|was|remember|used to|moved|called|spent|built|began|decided|"
    r"wanted|thought|added|launched|hired|joined|came|typed|saw|said|made|created|wrote)\b",
    re.IGNORECASE,
)
# "there" as a place the reader cannot see: "took a minute or two there".
_DANGLING_THERE = re.compile(r"\bthere\s*$|\bthere,|\b(?:in|over|out|from) there\b", re.I)
_PRONOUNS = re.compile(r"\b(?:it|its|they|them|their)\b", re.IGNORECASE)
# "It" that stands for nothing: "it is worth", "it's hard to", "it takes", "make it".
_DUMMY_IT = re.compile(
    r"\bit(?:'s| is| was| will be| can be| would be| becomes)(?: (?:not|never|also|often|usually|"
    r"always|much|far|a lot|almost))? (?:\w+ )?(?:to|that|worth|when|if)\b|"
    r"\bit (?:takes|pays|helps|makes sense|depends)\b|\bmake it\b|\bit all\b",
    re.IGNORECASE,
)
# Speech that never became a sentence: "Cheetah was a, microprocessor", a dangling "if it had
# any", fillers left in, a list of names with no verb after it.
_FRAGMENT = re.compile(
    r"\b(?:a|an|the|of|to|in|on|for|with|and|or|but|was|is|are|if|that)\s*,|"
    r"\b(?:you know|i mean|kind of|sort of|like,|gonna|wanna|kinda)\b|"
    r"\b(?:if (?:it|they|you) (?:had|have|has|did|do|does|were|was) (?:any|some|one|it))\s*$|"
    r"^(?:say|so|and|but|because|which|though)\b|\b(\w+) \1\b|\.\.\.|--|"
    r"\b(?:in a way|or something|and stuff|and so on|or whatever|etc)\s*$|"
    r"\b(?:the|a|an) (?:we|you|they|i|he|she|it|we'll|we're|you're|is|are|was|were|and|but|or|"
    r"so|of|to)\b|^\d+ (?:was|is|were|are)\b|^to \w+,|, right,|^(?:maybe|perhaps)\b|"
    r"^(?:much|far|way|even|too|more|less) \w+er\b|^(?:much|far|way) (?:more|less|better|worse)\b|"
    r"^(?:a|an|the)\s[^,]{1,40},\s+(?:of|in|for|on|with|at)\b|"
    r"\b(?:was|were|is|are|doing|just|be|stuff|and|so) like\b|\blike\s*$|"
    r"\b(\w{3,}) (?:was|is|does|did|has) not,? \2\b|"
    r"\b(?:is|are|was|were|be|has|have|had|will|would|can|could|should|for|at|from|as|than|"
    r"very|more|most|your|our|their|my|its|this|these|those|the|a|an|of|to|and|or)\s*$",
    re.IGNORECASE,
)
# A clause needs a verb: an auxiliary or modal, or a word that reads as an inflected verb.
_AUXILIARY = re.compile(
    r"\b(?:is|are|was|were|be|been|being|am|has|have|had|do|does|did|can|could|will|would|"
    r"shall|should|must|may|might|need|needs|get|gets|got|make|makes|made|take|takes|took|"
    r"go|goes|went|keep|keeps|kept|let|lets)\b|'(?:re|ve|ll|d|m)\b|n't\b|"
    r"\b(?:it|that|there|he|she|what|who|this|here|everything|nothing|everyone)'s\b",
    re.IGNORECASE,
)
_INFLECTED = re.compile(r"(?<!\bthe )(?<!\ba )(?<!\ban )\b[a-z]{3,}(?:s|ed)\b")
# "Google Gemini Flash, 8B, which is ...": a noun phrase and a relative clause, no main verb.
_RELATIVE_ONLY = re.compile(r"^(?:[^,]{1,60},\s+){1,3}(?:which|who|where|whose)\b", re.IGNORECASE)
_IMPERATIVE = re.compile(
    r"^(?:always |never |don't |do not |just )?(?:use|make|keep|start|stop|avoid|add|treat|test|"
    r"measure|write|read|ask|check|find|build|embrace|give|put|pick|choose|try|spend|set|run|"
    r"ship|plan|focus|prefer|learn|tell|share|delete|remove|fix|look|think|invest|hire)\b",
    re.IGNORECASE,
)
_PLURAL = re.compile(
    r"(?i)(?!(?:this|was|is|has|does|its|his|hers|yours|ours|less|across|always|perhaps|"
    r"unless|thus|plus|bus|process|access|success|business|analysis|basis|status)$)"
    r"[a-z'-]+s$|(?:people|everyone|everybody|folks|children|men|women|data|teams?)$"
)
_CONTENT = re.compile(r"\b[A-Za-z][a-z'-]{3,}\b")
_SENTENCE_START = re.compile(r"^[\"'(\[¿¡]?[A-Z0-9]")
_SENTENCE_END = re.compile(r"[.!?…][\"')\]]*$")


def has_markup(text: str) -> bool:
    return bool(MARKUP.search(text))


def leans_on_context(headline: str) -> bool:
    """True when the headline needs the sentence before it: a pointing word with nothing
    to point at, or a pronoun before any noun it could stand for."""
    # "It is worth ...", "It takes ...": an "it" that stands for nothing leans on nothing.
    probe = "One" + headline[2:] if _DUMMY_IT.match(headline) else headline
    if not stands_alone(probe) or _DANGLING_THERE.search(headline):
        return True
    for match in _PRONOUNS.finditer(headline):
        if _DUMMY_IT.match(headline, match.start()) or (match.start() == 0 and probe != headline):
            continue
        before = _CONTENT.findall(headline[: match.start()])
        if len(before) < 2:  # nothing yet that "it" or "they" could stand for
            return True
        plural = match.group(0).lower() in ("they", "them", "their")
        if plural and not any(_PLURAL.match(w) for w in before):
            return True  # "Jeff had rewritten them": them who?
    return False


def is_biography(headline: str) -> bool:
    """A first-person story with no lesson, finding or recommendation in it."""
    story = _FIRST_PERSON_STORY.search(headline) or _WE_STORY.search(headline)
    if story is None:
        return False
    teaches = LESSON.search(headline) or ADVICE.search(headline)
    finding = RESULT.search(headline) and NUMBER.search(headline)
    return not (teaches or finding)


def is_show_talk(text: str) -> bool:
    return bool(SHOW_TALK.search(text) or is_meta(text) or INTRO.search(text) or
                OUTRO.search(text))  # fmt: skip


def is_promotion(text: str) -> bool:
    return bool(PROMOTION.search(text) or SPONSOR.search(text))


def headline_problem(headline: str) -> str | None:
    """The first reason a headline is not a standalone claim, or None when it is one."""
    text = headline.strip()
    if has_markup(text):
        return "markup"
    if "?" in text:
        return "question"
    if GREETING.search(text):
        return "greeting"
    if is_promotion(text):
        return "promotion"
    if is_show_talk(text):
        return "meta_talk"
    if is_biography(text):
        return "biography"
    if leans_on_context(text):
        return "leans_on_context"
    if _FRAGMENT.search(text) or text.count(",") >= 3 or not has_main_verb(text):
        return "fragment"
    if any(n >= 3 for n in Counter(re.findall(r"\b[A-Za-z]{4,}\b", text.lower())).values()):
        return "fragment"  # "Reuters was not Reuters does not, Reuters makes ...": a restart
    return None


def has_main_verb(text: str) -> bool:
    """Roughly: the headline is a clause, not a noun phrase ("The ability to stare at ...")."""
    if _RELATIVE_ONLY.search(text):
        return False
    if _IMPERATIVE.search(text) or _AUXILIARY.search(text):
        return True
    # Plurals in an opening phrase ("For managed instances, ...") are not verbs.
    clause = re.sub(r"^(?:in|for|on|at|with|by|from|of|about|across|among)\b[^,]{0,50},\s*", "",
                    text, flags=re.IGNORECASE)  # fmt: skip
    words = clause.split()
    return bool(_INFLECTED.search(" ".join(words[1:])))


def is_standalone_claim(headline: str) -> bool:
    return headline_problem(headline) is None


def quote_is_sentence_bounded(quote: str, transcript: str | None = None) -> bool:
    """The quote starts where a sentence starts and ends where one ends, never inside a word.

    Unpunctuated captions have no sentences to keep to: there the quote need only start and
    end at word boundaries of the transcript.
    """
    quote = " ".join(quote.split())
    if not quote:
        return False
    if transcript is not None:
        where = transcript.find(quote)
        if where < 0:
            return False
        before = transcript[where - 1] if where else " "
        after = transcript[where + len(quote)] if where + len(quote) < len(transcript) else " "
        if before.isalnum() or after.isalnum():
            return False  # cut inside a word
        if not _is_cased(transcript):
            return True
    return bool(_SENTENCE_START.match(quote) and _SENTENCE_END.search(quote))


def _is_cased(text: str) -> bool:
    sample = text[:4000]
    return any(c.isupper() for c in sample) and bool(re.search(r"[.!?]", sample))


def draft_problem(draft: InsightDraft, transcript: str | None = None) -> str | None:
    problem = headline_problem(draft.headline)
    if problem is not None:
        return problem
    if has_markup(draft.body) or has_markup(draft.quote):
        return "markup"
    if not quote_is_sentence_bounded(draft.quote, transcript):
        return "quote_not_sentence_bounded"
    return None


_WIDEN_CHARS = 400  # how far a quote may grow to reach the sentence it was cut from
_SENTENCE_BREAK = re.compile(r"[.!?…][\"')\]]*\s+(?=[\"'(\[¿¡]?[A-Z0-9])")


@dataclass(frozen=True, slots=True)
class _Run:
    """One speaker's contiguous segments joined, with each segment's offset in ``text``."""

    text: str
    first: int  # index of the run's first segment
    offsets: list[int]


def _runs(segments: Sequence[SegmentData]) -> list[_Run]:
    runs: list[_Run] = []
    parts: list[str] = []
    offsets: list[int] = []
    first = 0
    for i, segment in enumerate(segments):
        if parts and segment.speaker != segments[i - 1].speaker:
            runs.append(_Run(" ".join(parts), first, offsets))
            parts, offsets, first = [], [], i
        offsets.append(sum(len(p) + 1 for p in parts))
        parts.append(" ".join(segment.text.split()))
    if parts:
        runs.append(_Run(" ".join(parts), first, offsets))
    return runs


def widen_quote(draft: InsightDraft, segments: Sequence[SegmentData]) -> InsightDraft:
    """The draft with its quote grown, within its speaker's run, to whole sentences.

    A quote cut mid-sentence (or mid-word) by an engine becomes the sentences it came from,
    still verbatim, with the start and end times of the segments it now spans. A quote that
    is already whole, or cannot be found, is returned as it was.
    """
    quote = " ".join(draft.quote.split())
    for run in _runs(segments):
        where = run.text.find(quote)
        if where < 0:
            continue
        cased = _is_cased(run.text)
        start = _sentence_start(run.text, where) if cased else _word_start(run.text, where)
        end = where + len(quote)
        end = _sentence_end(run.text, end) if cased else _word_end(run.text, end)
        if (start, end) == (where, where + len(quote)):
            return draft
        first = run.first + _segment_at(run.offsets, start)
        last = run.first + _segment_at(run.offsets, end - 1)
        return replace(
            draft,
            quote=run.text[start:end],
            start_seconds=segments[first].start,
            end_seconds=max(segments[first].start, segments[last].end),
        )
    return draft


def _segment_at(offsets: list[int], position: int) -> int:
    return max(0, bisect_right(offsets, position) - 1)


def _sentence_start(text: str, where: int) -> int:
    if where == 0:
        return where
    just_after_a_break = _SENTENCE_BREAK.search(text[max(0, where - 3) : where + 1])
    if just_after_a_break and not text[where - 1].isalnum():
        return where
    floor = max(0, where - _WIDEN_CHARS)
    breaks = [m.end() for m in _SENTENCE_BREAK.finditer(text, floor, where + 1)]
    if breaks:
        return breaks[-1]
    return 0 if floor == 0 else _word_start(text, where)


def _sentence_end(text: str, end: int) -> int:
    if re.search(r"[.!?…][\"')\]]*$", text[:end]) and (end == len(text) or text[end].isspace()):
        return end
    match = _SENTENCE_BREAK.search(text, max(0, end - 1), min(len(text), end + _WIDEN_CHARS))
    if match is not None:
        return match.end() - len(match.group(0)) + len(match.group(0).rstrip())
    return len(text) if len(text) - end <= _WIDEN_CHARS else _word_end(text, end)


def _word_start(text: str, where: int) -> int:
    while where > 0 and text[where - 1].isalnum():
        where -= 1
    return where


def _word_end(text: str, end: int) -> int:
    while end < len(text) and text[end].isalnum():
        end += 1
    return end


@dataclass
class Gate:
    """The shared quality gate; ``rejected`` counts the drafts it turned away, by reason.

    Before judging, a quote cut inside a sentence is widened to the whole sentence (still the
    transcript's own words): that is a repair, not a rejection.
    """

    rejected: Counter[str] = field(default_factory=Counter)

    def admit(
        self, drafts: Sequence[InsightDraft], segments: Sequence[SegmentData]
    ) -> list[InsightDraft]:
        transcript = " ".join(" ".join(s.text.split()) for s in segments)
        kept: list[InsightDraft] = []
        for draft in drafts:
            tidy = replace(draft, headline=" ".join(draft.headline.split()).rstrip(" .;:,"))
            tidy = widen_quote(tidy, segments)
            problem = draft_problem(tidy, transcript)
            if problem is None:
                kept.append(tidy)
            else:
                self.rejected[problem] += 1
        return kept

    @property
    def total_rejected(self) -> int:
        return sum(self.rejected.values())
