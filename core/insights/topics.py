"""Topic tags: a controlled vocabulary first, then the passage's own key phrases, normalised."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping

# tag -> words or phrases that signal it (matched as whole words, case-insensitively).
VOCABULARY: dict[str, tuple[str, ...]] = {
    "ai": (
        "ai",
        "artificial intelligence",
        "machine learning",
        "llm",
        "llms",
        "gpt",
        "chatgpt",
        "neural",
        "deep learning",
        "model training",
        "inference",
        "openai",
        "copilot",
    ),
    "cloud": ("cloud", "aws", "azure", "gcp", "lambda", "ec2", "s3", "serverless", "kubernetes"),
    "databases": (
        "database",
        "databases",
        "sql",
        "postgres",
        "postgresql",
        "mysql",
        "sqlite",
        "dynamodb",
        "query",
        "queries",
        "schema",
    ),
    "security": (
        "security",
        "vulnerability",
        "exploit",
        "encryption",
        "auth",
        "authentication",
        "permissions",
        "iam",
        "attack",
        "attacker",
        "secrets",
    ),
    "observability": (
        "observability",
        "tracing",
        "dtrace",
        "monitoring",
        "metrics",
        "logging",
        "logs",
        "debugging",
        "debugger",
        "instrumentation",
        "profiling",
    ),
    "performance": (
        "performance",
        "latency",
        "throughput",
        "faster",
        "slow",
        "optimization",
        "benchmark",
        "scalability",
        "scale",
    ),
    "open source": (
        "open source",
        "open-source",
        "github",
        "maintainer",
        "maintainers",
        "contributors",
        "license",
        "licensing",
    ),
    "programming languages": (
        "rust",
        "python",
        "javascript",
        "typescript",
        "golang",
        "java",
        "c++",
        "compiler",
        "language",
        "languages",
    ),
    "web development": (
        "css",
        "html",
        "frontend",
        "front-end",
        "browser",
        "web",
        "react",
        "codepen",
        "website",
    ),
    "hardware": (
        "hardware",
        "cpu",
        "chip",
        "chips",
        "silicon",
        "server",
        "servers",
        "firmware",
        "rack",
        "datacenter",
        "data center",
    ),
    "operating systems": ("kernel", "operating system", "linux", "solaris", "illumos", "unix"),
    "careers": (
        "career",
        "careers",
        "job",
        "jobs",
        "hiring",
        "interview",
        "interviews",
        "bootcamp",
        "junior",
        "senior",
        "mentor",
        "mentorship",
        "resume",
    ),
    "startups": (
        "startup",
        "startups",
        "founder",
        "founders",
        "funding",
        "investors",
        "venture",
        "vc",
        "bootstrapped",
        "revenue",
    ),
    "business": (
        "business",
        "pricing",
        "customers",
        "customer",
        "sales",
        "market",
        "profit",
        "subscription",
        "subscriptions",
        "membership",
    ),
    "product": (
        "product",
        "products",
        "feature",
        "features",
        "users",
        "roadmap",
        "ux",
        "design",
        "designer",
    ),
    "leadership": (
        "leadership",
        "manager",
        "management",
        "team",
        "teams",
        "culture",
        "ceo",
        "cto",
        "organization",
    ),
    "community": ("community", "communities", "meetup", "conference", "volunteer", "belonging"),
    "learning": (
        "learning",
        "learn",
        "teaching",
        "education",
        "tutorial",
        "course",
        "beginner",
        "beginners",
    ),
    "software engineering": (
        "testing",
        "tests",
        "architecture",
        "refactoring",
        "code review",
        "technical debt",
        "deploy",
        "deployment",
        "ci",
        "devops",
    ),
    "podcasting": ("podcast", "podcasts", "podcasting", "episode", "episodes", "rss", "audio"),
    "productivity": (
        "productivity",
        "focus",
        "burnout",
        "motivation",
        "habits",
        "writer's block",
        "procrastination",
    ),
    "health": ("health", "mental health", "anxiety", "sleep", "exercise", "wellbeing"),
    "media": ("media", "journalism", "news", "newsletter", "content", "creator", "creators"),
}
ALIASES = {
    "k8s": "kubernetes",
    "ml": "machine learning",
    "js": "javascript",
    "ts": "typescript",
    "postgresql": "postgres",
    "open-source": "open source",
    "llms": "llm",
}
_GENERIC_WORDS_TEXT = """
    already still better best worse nice bad happen happens happened write wrote written
    point points someone anyone everyone nobody somebody different probably trying whatever
    seeing seems seem able across actually almost always another around away whole enough
    everything anything nothing else fine hard easy true real sense question answer problem
    answers idea ideas stuff maybe part parts place kind sort wanna gonna gotta okay pretty
    interesting important certain sure lots plus less least further also often kinda sometimes
    case cases fact means mean reason reasons thought thoughts talk today tomorrow yesterday
    week weeks month months hour hours minute minutes second seconds level levels side sides
    show shows episode episodes podcast guys folks world life work works world thing things
    exactly especially basically totally definitely literally personally obviously"""
GENERIC_WORDS = frozenset(_GENERIC_WORDS_TEXT.split())
MAX_VOCABULARY_TAGS = 3
MAX_KEY_PHRASES = 2

_NON_TAG = re.compile(r"[^a-z0-9+#.' ]+")
_PATTERNS = {
    tag: re.compile(r"(?<![\w-])(" + "|".join(re.escape(t) for t in terms) + r")(?![\w-])", re.I)
    for tag, terms in VOCABULARY.items()
}


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


def key_phrases(words: Iterable[str], weight: Mapping[str, float], limit: int) -> list[str]:
    """The passage's most distinctive noun-like words by the section-level weight given."""
    counts = Counter(w for w in words if _noun_like(w))
    ranked = sorted(counts, key=lambda w: (-(counts[w] * weight.get(w, 0.0)), w))
    return [w for w in ranked if weight.get(w, 0.0) > 0][:limit]


def _noun_like(word: str) -> bool:
    # No tagger offline: drop the shapes of adverbs, participles and common non-nouns.
    return (
        len(word) > 3
        and not word.endswith(("ly", "ing", "ed"))
        and word not in GENERIC_WORDS
        and not any(ch.isdigit() for ch in word)
    )


def tags_for(
    text: str, words: Iterable[str], weight: Mapping[str, float], headline: str = ""
) -> list[str]:
    tags: list[str] = []
    found = [*vocabulary_tags(text, headline), *key_phrases(words, weight, MAX_KEY_PHRASES + 2)]
    for tag in found:
        tag = normalise_topic(tag)
        if tag and tag not in tags and len(tags) < MAX_VOCABULARY_TAGS + MAX_KEY_PHRASES:
            tags.append(tag)
    return tags
