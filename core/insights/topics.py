"""Topic tags: a controlled vocabulary first, then at most one name the passage is about."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping

from core.insights.topic_vocabulary import NEVER_KEY_PHRASES, PARENTS, VOCABULARY
from core.topics.normalise import normalise_topic

_GENERIC_TEXT = """
    already still better best worse nice bad happen happens happened write wrote written point
    points someone anyone everyone nobody somebody different probably trying whatever seeing
    seems seem able across actually almost always another around away whole enough everything
    anything nothing else fine hard easy true real sense question answer problem answers idea
    ideas stuff maybe part parts place kind sort wanna gonna gotta okay pretty interesting
    important certain sure lots plus less least further also often kinda sometimes case cases
    fact means mean reason reasons thought thoughts talk today tomorrow yesterday week weeks
    month months hour hours minute minutes second seconds level levels side sides show shows
    episode episodes guys folks world life work works thing things exactly especially
    basically totally definitely literally personally obviously never done whose sorry perhaps
    found mind build care pick weird strange deep long self bunch high push compare number
    significant possible tons period home open smarter human wins constant step break previous
    listen link usage spirit remember piece deal understand caught instructions account
    interest beautiful walk advice guilty productive files support words flow fast post site
    comfortable company text mister tech research stuff matter matters lesson problem
    everybody somewhere something anybody nowhere yeah okay kind cool crazy great awesome
    one two three four five six seven eight nine ten hundred thousand million billion
"""
GENERIC_WORDS = frozenset(_GENERIC_TEXT.split())
MAX_TAGS = 4
MAX_VOCABULARY_TAGS = 3
MIN_TAGS = 2
MIN_KEYWORD_WEIGHT = 0.15  # of a section's strongest word (0.5): a word the section is about
HEADLINE_WEIGHT = 3  # a tag named in the headline counts as three mentions in the passage

_TAG_OF_TERM = {term.lower(): tag for tag, terms in VOCABULARY.items() for term in terms}
# Longest term (in words) starting with each word: most words start none, so most are skipped.
_LONGEST_FROM: dict[str, int] = {}
for _term in _TAG_OF_TERM:
    _first, _n = _term.split()[0], len(_term.split())
    _LONGEST_FROM[_first] = max(_LONGEST_FROM.get(_first, 0), _n)
_TOKEN = re.compile(r"[A-Za-z0-9][\w+#'-]*[\w+#]|[A-Za-z0-9]")
# Capitalised words after a lower-case word or comma: names of people, products and places.
_PROPER = re.compile(r"(?<=[a-z0-9,] )((?:[A-Z][\w+#.-]*[\w+#])(?: [A-Z][\w+#.-]*[\w+#]){0,2})")
_OPENING_NAME = re.compile(r"(?:^|[.!?]\s+)([A-Z][\w+#.-]*[\w+#](?: [A-Z][\w+#.-]*[\w+#]){1,2})")
# Capitalised only because they open a sentence.
_OPENERS_TEXT = """what when where why how if in on at for our my your his her their one because so
    and but then also now well yes no this that these those there here some all every each most
    many any after before with without from to by as it its we you they he she the a an just
    even maybe okay yeah like actually"""
_OPENERS = frozenset(_OPENERS_TEXT.split())
_NOT_PROPER_TEXT = (
    "i i'm i've i'd i'll so and but the a an it it's this that there they we you he she"
)
_NOT_PROPER = frozenset(f"{_NOT_PROPER_TEXT} okay yeah oh well like yes no right hey".split())


def tag_counts(text: str) -> Counter[str]:
    """How often each vocabulary tag is mentioned in ``text``; the longest term wins."""
    tokens = list(_TOKEN.finditer(text))
    lowered = [t.group(0).lower() for t in tokens]
    counts: Counter[str] = Counter()
    i = 0
    while i < len(tokens):
        longest = _LONGEST_FROM.get(lowered[i], 0)
        for n in range(min(longest, len(tokens) - i), 0, -1):
            tag = _TAG_OF_TERM.get(" ".join(lowered[i : i + n]))
            if tag is not None:
                if not _in_name(text, tokens, i):
                    counts[tag] += 1
                i += n
                break
        else:
            i += 1
    return counts


def _in_name(text: str, tokens: list[re.Match[str]], i: int) -> bool:
    """ "Virtual Coffee", "Apple Health": a term inside a name is not the topic it names."""
    if i == 0 or not tokens[i].group(0)[:1].isupper():
        return False
    before = tokens[i - 1]
    if not before.group(0)[:1].isupper() or text[before.end() : tokens[i].start()] != " ":
        return False
    # The capitalised word before is part of a name unless it opens a sentence.
    return bool(re.search(r"[a-z0-9,;:]\s*$", text[max(0, before.start() - 3) : before.start()]))


def vocabulary_tags(
    text: str, headline: str = "", context: Counter[str] | None = None, focus: str = ""
) -> list[str]:
    """Vocabulary tags of a passage, most mentioned first, with broader parents when room.

    A tag counts when mentioned twice in ``text`` or once in ``headline``. When that leaves
    fewer than two, tags named once fill in when the quote (``focus``) names them or the
    ``context`` (the section's tag counts) keeps returning to them; an untagged passage takes
    the section's main tag.
    """
    counts = tag_counts(text)
    for tag, n in tag_counts(headline).items():
        counts[tag] += HEADLINE_WEIGHT * n
    tags = [t for t, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if n >= 2]
    tags = tags[:MAX_VOCABULARY_TAGS]
    if len(tags) < MIN_TAGS and context:
        near = tag_counts(f"{headline} {focus}")
        # A tag named once joins if the quote names it or the section keeps coming back to it.
        needed = 3 if not tags else 5
        fill = [t for t in counts if t not in tags and (near[t] > 0 or context[t] >= needed)]
        fill.sort(key=lambda t: (-near[t], -context[t], t))
        tags += fill[: MIN_TAGS - len(tags)]
        if not tags and context:
            tags.append(min(context, key=lambda t: (-context[t], t)))
    for tag in list(tags):
        parent = PARENTS.get(tag)
        if parent and parent not in tags and len(tags) < MAX_VOCABULARY_TAGS:
            tags.append(parent)
    return tags


def name_mentions(text: str) -> Counter[str]:
    """Names in the text: capitalised words mid-sentence, or two or more opening a sentence."""
    found = [m.group(1) for m in _PROPER.finditer(text)]
    found += [
        m.group(1)
        for m in _OPENING_NAME.finditer(text)
        if m.group(1).split()[0].lower() not in _NOT_PROPER | _OPENERS
    ]
    return Counter(n for n in found if n.lower() not in _NOT_PROPER)


def proper_names(text: str) -> list[str]:
    """Names in the passage ("Half Moon Bay", "CodePen"), most mentioned first."""
    names = name_mentions(text)
    return sorted(names, key=lambda n: (-names[n], -len(n), n))


def key_phrase(
    text: str, headline: str, taken: Iterable[str], people: frozenset[str]
) -> str | None:
    """At most one name the passage is about: in the headline, or mentioned twice."""
    taken_words = {w for t in taken for w in t.split()}
    names = name_mentions(f"{headline}. {text}")
    for raw in proper_names(f"{headline}. {text}"):
        tag = normalise_topic(raw)
        parts = set(tag.split())
        if names[raw] < 2 and raw not in headline:
            continue
        if (
            len(tag) < 3
            or parts <= taken_words
            or parts & people
            or parts & NEVER_KEY_PHRASES
            or parts <= GENERIC_WORDS
            or tag in _TAG_OF_TERM
        ):
            continue
        return tag
    return None


def key_words(words: Iterable[str], weight: Mapping[str, float]) -> list[str]:
    """Noun-like words the section is about, strongest first."""
    counts = Counter(w for w in words if _noun_like(w) and weight.get(w, 0) >= MIN_KEYWORD_WEIGHT)
    return sorted(counts, key=lambda w: (-(counts[w] * weight[w]), w))


def _noun_like(word: str) -> bool:
    # No tagger offline: drop the shapes of adverbs, participles and common non-nouns.
    return (
        len(word) > 3
        and not word.endswith(("ly", "ing", "ed"))
        and word not in GENERIC_WORDS
        and not any(ch.isdigit() for ch in word)
    )


def tags_for(
    text: str,
    words: Iterable[str],
    weight: Mapping[str, float],
    headline: str = "",
    people: frozenset[str] = frozenset(),
    context: Counter[str] | None = None,
    focus: str = "",
) -> list[str]:
    """Two to four tags: vocabulary tags of ``text``, then at most one name it is about.

    ``people`` are lower-case name parts of the episode's speakers: a host is not a topic.
    Only when nothing else applies does the section's strongest key word (from ``words``) stand
    in, so that an insight is never untagged.
    """
    tags = vocabulary_tags(text, headline, context, focus)
    name = key_phrase(text, headline, tags, people)
    if name is not None:
        tags.append(name)
    if not tags:
        tags = [w for w in key_words(words, weight) if w not in people][:1]
    return [normalise_topic(t) for t in tags][:MAX_TAGS]
