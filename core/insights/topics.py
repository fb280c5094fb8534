"""Topic tags: a controlled vocabulary first, then the passage's own key phrases, normalised."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping

# tag -> comma-separated words or phrases that signal it (whole words, any case).
_VOCABULARY_TEXT = {
    "ai": "ai, artificial intelligence, machine learning, llm, llms, gpt, chatgpt, neural, "
    "deep learning, model training, inference, openai, copilot, chatbot, agents",
    "cloud": "cloud, aws, azure, gcp, lambda, ec2, s3, serverless, kubernetes, fargate, ecs",
    "databases": "database, databases, sql, postgres, postgresql, mysql, sqlite, dynamodb, schema",
    "security": "security, vulnerability, exploit, encryption, authentication, permissions, iam, "
    "attack, attacker, attackers, privacy, passwords",
    "observability": "observability, tracing, dtrace, monitoring, metrics, logging, logs, "
    "debugging, debugger, instrumentation, profiling, probes",
    "performance": "performance, latency, throughput, optimization, benchmark, scalability",
    "open source": "open source, open-source, github, maintainer, maintainers, contributors, "
    "license, licensing, hacktoberfest, pull request, pull requests",
    "programming languages": "rust, python, javascript, typescript, golang, java, c++, compiler, "
    "programming language, ruby",
    "web development": "css, html, frontend, front-end, backend, browser, react, codepen, "
    "website, websites, web design, wordpress",
    "hardware": "hardware, cpu, cpus, chip, chips, silicon, firmware, rack, datacenter, "
    "data center, gpus, gpu, microprocessor",
    "operating systems": "kernel, operating system, linux, solaris, illumos, unix",
    "careers": "career, careers, job, jobs, hiring, interview, interviews, bootcamp, junior, "
    "senior, mentor, mentorship, resume",
    "startups": "startup, startups, founder, founders, funding, investors, venture, vc, "
    "bootstrapped",
    "business": "business, pricing, customers, sales, market, profit, revenue, subscription, "
    "subscriptions, advertising, saas, acquisition",
    "product": "product, products, roadmap, ux, product design, designer, user experience",
    "leadership": "leadership, manager, management, culture, ceo, cto, organization",
    "community": "community, communities, meetup, conference, conferences, volunteer, belonging",
    "learning": "learning, teaching, education, tutorial, course, beginner, beginners, school",
    "software engineering": "testing, unit tests, architecture, refactoring, code review, "
    "technical debt, deployment, devops, software engineering, software engineer",
    "podcasting": "podcast, podcasts, podcasting, podcaster, rss, audio, listeners",
    "productivity": "productivity, focus, burnout, motivation, habits, writer's block, "
    "procrastination",
    "health": "health, mental health, anxiety, sleep, exercise, wellbeing, panic attacks",
    "media": "media, journalism, news, creator, creators, film, films, music",
    "transport": "self-driving, autonomous, waymo, uber, cybertruck, tesla, cars, vehicles",
}
VOCABULARY: dict[str, tuple[str, ...]] = {
    tag: tuple(t.strip() for t in terms.split(",")) for tag, terms in _VOCABULARY_TEXT.items()
}
ALIASES = {
    "k8s": "kubernetes",
    "ml": "machine learning",
    "js": "javascript",
    "ts": "typescript",
    "postgresql": "postgres",
    "llms": "llm",
}
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
MAX_VOCABULARY_TAGS = 3
MAX_KEY_PHRASES = 2
MIN_KEYWORD_WEIGHT = 0.15  # of a section's strongest word (0.5): a word the section is about

_NON_TAG = re.compile(r"[^a-z0-9+#.' ]+")
_PATTERNS = {
    tag: re.compile(r"(?<![\w-])(" + "|".join(re.escape(t) for t in terms) + r")(?![\w-])", re.I)
    for tag, terms in VOCABULARY.items()
}
# Capitalised words after a lower-case word or comma: names of people, products and places.
_PROPER = re.compile(r"(?<=[a-z0-9,] )((?:[A-Z][\w+#.-]*[\w+#])(?: [A-Z][\w+#.-]*[\w+#]){0,2})")
_NOT_PROPER_TEXT = (
    "i i'm i've i'd i'll so and but the a an it it's this that there they we you he she"
)
_NOT_PROPER = frozenset(f"{_NOT_PROPER_TEXT} okay yeah oh well like yes no right hey".split())


def normalise_topic(raw: str) -> str:
    """Lower-case, accents folded, punctuation to spaces, known aliases resolved."""
    text = unicodedata.normalize("NFKD", raw).encode("ascii", "ignore").decode().lower()
    text = " ".join(_NON_TAG.sub(" ", text.replace("-", " ")).split()).strip(".' ")
    return ALIASES.get(text, text)


def vocabulary_tags(text: str, headline: str = "") -> list[str]:
    """Controlled-vocabulary tags mentioned twice, or once in the headline; most mentioned first."""
    counts = Counter({tag: len(p.findall(text)) for tag, p in _PATTERNS.items()})
    for tag, pattern in _PATTERNS.items():
        counts[tag] += 2 if pattern.search(headline) else 0
    ranked = [tag for tag, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if n >= 2]
    return ranked[:MAX_VOCABULARY_TAGS]


def proper_names(text: str) -> list[str]:
    """Names in the passage ("Half Moon Bay", "CodePen"), most mentioned first."""
    names = Counter(
        m.group(1) for m in _PROPER.finditer(text) if m.group(1).lower() not in _NOT_PROPER
    )
    return sorted(names, key=lambda n: (-names[n], -len(n), n))


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
) -> list[str]:
    """Vocabulary tags of ``text``, then its names, then the section's key ``words``.

    ``people`` are lower-case name parts of the episode's speakers: a host is not a topic.
    """
    tags = [normalise_topic(t) for t in vocabulary_tags(text, headline)]
    phrases: list[str] = []
    for raw in [*proper_names(f"{headline}. {text}"), *key_words(words, weight)]:
        tag = normalise_topic(raw)
        taken = " ".join([*tags, *phrases]).split()
        parts = set(tag.split())
        if tag and tag not in GENERIC_WORDS and not parts <= set(taken) and not parts <= people:
            phrases.append(tag)
        if len(phrases) == MAX_KEY_PHRASES:
            break
    return tags + phrases
