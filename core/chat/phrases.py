"""What people say: the phrasings the rule-based parser (``core.chat.intents``) matches.

Each intent kind has alternatives tried in order; the first full match (case-insensitive) wins.
Named groups: ``n`` is the "#N" an item is referred to by, ``arg`` a topic, query, URL or time.
"""

from __future__ import annotations

_NUM = r"#?\s*(?P<n>\d{1,3})"
_OPT_NUM = rf"(?:\s*(?:(?:no\.?|number|item|insight)\s*)?{_NUM})?"
_THIS = r"(?:this|that|it|the\s+last\s+one|this\s+one|that\s+one)"
_PLEASE = r"(?:please\s+|pls\s+|can\s+you\s+|could\s+you\s+)?"
_SHOW = rf"{_PLEASE}(?:show\s+(?:me\s+)?|give\s+(?:me\s+)?|get\s+(?:me\s+)?|list\s+|find\s+)?"
_TOPIC = r"(?P<arg>[^\s].{0,80}?)"

_A = r"(?P<arg>.+)"
_URL = r"<?(?P<arg>\S+?)>?"

# (kind, alternatives) tried in order; the first full match wins.
RULE_TEXT: list[tuple[str, list[str]]] = [
    (
        "confirm",
        [
            r"yes(?:,?\s+(?:please|forget(?:\s+(?:me|us|everything|it\s+all))?|delete"
            r"(?:\s+(?:it|everything))?|i'?m\s+sure|do\s+it))?",
            r"y",
            r"confirm",
            r"i'?m\s+sure",
            r"/confirm",
        ],
    ),
    ("cancel", [r"/?cancel", r"never\s*mind", r"no", r"nope", r"abort"]),
    (
        "start",
        [
            r"/start(?:\s+\S+)?",
            r"start",
            r"hi",
            r"hello",
            r"hey",
            r"hallo",
            r"get\s+started",
            r"set\s*up",
        ],
    ),
    (
        "help",
        [
            r"/help",
            r"help(?:\s+me)?",
            r"\?",
            r"h",
            r"commands",
            r"menu",
            r"what\s+can\s+(?:you|i)\s+(?:do|say|ask)\??",
            r"how\s+does\s+this\s+work\??",
        ],
    ),
    (
        "brief",
        [
            r"/brief",
            rf"{_SHOW}(?:my\s+|the\s+|today'?s\s+|todays\s+|daily\s+|latest\s+)*"
            r"(?:brief(?:ing)?|digest|top\s*5|top\s+five|news|headlines)(?:\s+(?:for\s+)?today)?",
            r"what'?s\s+new(?:\s+today)?\??",
            r"today",
            r"anything\s+new(?:\s+today)?\??",
        ],
    ),
    (
        "related",
        [
            rf"/related{_OPT_NUM}",
            rf"{_SHOW}(?:more\s+|the\s+)?related(?:\s+insights?)?(?:\s+(?:to|for|of))?{_OPT_NUM}",
            rf"{_SHOW}(?:insights?\s+)?related\s+to\s+{_NUM}",
            rf"what(?:'s|\s+is)\s+related\s+to\s+{_NUM}\??",
            rf"what(?:'s|\s+is)\s+related\s+to\s+{_THIS}\??",
            rf"related\s+to\s+{_THIS}",
            rf"{_SHOW}similar(?:\s+insights?)?(?:\s+to)?{_OPT_NUM}",
            rf"{_SHOW}similar\s+to\s+{_THIS}",
        ],
    ),
    (
        "more_episode",
        [
            rf"/more{_OPT_NUM}",
            rf"{_SHOW}more\s+(?:from|of|in|on)\s+(?:this|that|the\s+same)\s+episode",
            rf"{_SHOW}more\s+from\s+(?:the\s+)?episode(?:\s+(?:of\s+)?{_NUM})?",
            rf"more\s+from\s+(?:the\s+episode\s+of\s+)?{_NUM}",
            r"what\s+else\s+(?:did|does)\s+(?:this|that)\s+episode\s+say\??",
        ],
    ),
    (
        "source",
        [
            rf"/source{_OPT_NUM}",
            rf"{_SHOW}(?:the\s+)?(?:source|link|origin)(?:\s+(?:of|for))?{_OPT_NUM}",
            rf"where\s+(?:is|was|does|did)\s+{_THIS}\s+(?:come\s+)?from\??",
            r"where\s+(?:is|was|does|did)\s+that\s+quote\s+(?:come\s+)?from\??",
            rf"where\s+(?:is|was|does|did)\s+{_NUM}\s+(?:come\s+)?from\??",
            r"where(?:'s|\s+is)\s+(?:this|that)\s+from\??",
            rf"where'?s\s+{_NUM}\s+from\??",
            r"which\s+(?:episode|show|podcast)\s+(?:is|was)\s+(?:this|that)(?:\s+from)?\??",
            rf"who\s+said\s+{_THIS}\??",
            rf"who\s+said\s+{_NUM}\??",
        ],
    ),
    (
        "topics",
        [
            r"/topics",
            rf"{_SHOW}(?:my\s+|all\s+|the\s+)?topics",
            r"what\s+topics(?:\s+(?:are\s+there|do\s+(?:i|you)\s+(?:follow|have|know)))?\??",
            r"which\s+topics\??",
        ],
    ),
    (
        "pause",
        [
            r"/pause",
            r"pause(?:\s+(?:briefs?|delivery|it))?",
            r"/stop",
            r"stop(?:\s+(?:sending|the\s+briefs?|briefs?|deliver(?:y|ies)))?",
            r"mute\s+(?:the\s+)?bot",
            r"take\s+a\s+break",
        ],
    ),
    (
        "resume",
        [
            r"/resume",
            r"resume(?:\s+(?:briefs?|delivery))?",
            r"unpause",
            r"start\s+again",
            r"restart(?:\s+briefs?)?",
            r"continue(?:\s+sending)?",
        ],
    ),
    (
        "forget",
        [
            r"/forget",
            r"forget(?:\s+(?:me|us|everything|this\s+chat|all))?",
            r"delete\s+(?:my|our|all)\s+(?:data|account|settings)",
            r"delete\s+me",
        ],
    ),
    (
        "unfollow",
        [rf"/unfollow\s+{_TOPIC}", rf"unfollow\s+{_TOPIC}", rf"stop\s+following\s+{_TOPIC}"],
    ),
    ("unmute", [rf"/unmute\s+{_TOPIC}", rf"unmute\s+{_TOPIC}"]),
    (
        "follow",
        [
            rf"/follow\s+{_TOPIC}",
            rf"follow\s+{_TOPIC}",
            rf"i(?:'m|\s+am)\s+interested\s+in\s+{_TOPIC}",
            rf"more\s+(?:about|on)\s+{_TOPIC}",
            rf"i\s+(?:like|love|care\s+about)\s+{_TOPIC}",
        ],
    ),
    (
        "mute",
        [
            rf"/mute\s+{_TOPIC}",
            rf"mute\s+{_TOPIC}",
            rf"hide\s+{_TOPIC}",
            rf"block\s+{_TOPIC}",
            rf"no\s+more\s+{_TOPIC}",
        ],
    ),
    (
        "up",
        [
            rf"(?:👍|\+1|/up|up|like|liked|good|great|useful|love|thumbs\s*up)\s*{_NUM}",
            rf"{_NUM}\s*(?:👍|\+1|is\s+(?:good|great|useful))",
            r"👍",
        ],
    ),
    (
        "down",
        [
            rf"(?:👎|-1|/down|down|dislike|disliked|bad|meh|useless|thumbs\s*down)\s*{_NUM}",
            rf"{_NUM}\s*(?:👎|-1|is\s+(?:bad|useless|boring))",
            rf"less\s+like\s+{_NUM}",
            r"👎",
        ],
    ),
    (
        "more_like",
        [
            rf"/more_?like{_OPT_NUM}",
            rf"more\s+like(?:\s+this)?{_OPT_NUM}",
            rf"more\s+like\s+{_THIS}",
            r"more\s+of\s+(?:this|that)(?:\s+kind)?",
        ],
    ),
    (
        "less_about",
        [
            rf"/less\s+{_TOPIC}",
            rf"less\s+(?:about|on|of)\s+{_TOPIC}",
            rf"fewer\s+(?:insights?\s+)?(?:about|on)\s+{_TOPIC}",
            rf"i\s+(?:don'?t|do\s+not)\s+care\s+about\s+{_TOPIC}",
        ],
    ),
    (
        "shows",
        [
            r"/shows",
            rf"{_SHOW}(?:my\s+|the\s+|all\s+)?(?:shows|podcasts|feeds)",
            r"(?:what|which)\s+(?:shows|podcasts)(?:\s+do\s+(?:you|i)\s+(?:follow|know|have))?\??",
        ],
    ),
    (
        "subscribe",
        [
            rf"/subscribe\s+{_URL}",
            rf"/add\s+{_URL}",
            rf"subscribe(?:\s+to)?\s+{_URL}",
            rf"add\s+(?:the\s+|a\s+|this\s+)?(?:feed|show|podcast)\s+{_URL}",
            r"<?(?P<arg>https?://\S+?)>?",
        ],
    ),
    (
        "timezone",
        [
            rf"/timezone\s+{_A}",
            rf"/tz\s+{_A}",
            rf"time\s*zone\s+(?:is\s+|to\s+)?{_A}",
            rf"tz\s+{_A}",
            rf"my\s+time\s*zone\s+is\s+{_A}",
            rf"set\s+(?:my\s+)?time\s*zone\s+to\s+{_A}",
            rf"i(?:'m|\s+am)\s+(?:in|based\s+in)\s+{_A}",
            r"(?P<arg>[A-Za-z]+/[A-Za-z_]+(?:/[A-Za-z_]+)?)",  # a bare IANA name: Europe/Berlin
            rf"i\s+live\s+in\s+{_A}",
        ],
    ),
    (
        "time",
        [
            rf"/time\s+{_A}",
            rf"(?:delivery\s+)?time\s+{_A}",
            rf"(?:send|deliver)\s+(?:(?:it|my\s+brief|the\s+brief)\s+)?(?:at|by)\s+{_A}",
            rf"set\s+(?:the\s+|my\s+)?(?:delivery\s+)?time\s+to\s+{_A}",
            # A bare time typed during onboarding: "08:00", "7:30am", "7 pm".
            r"(?P<arg>\d{1,2}[:.h]\d{2}\s*(?:am|pm)?|\d{1,2}\s*(?:am|pm))",
        ],
    ),
    ("compact", [r"/compact(?:\s+(?P<arg>on|off))?", r"compact(?:\s+(?P<arg>on|off))?"]),
    ("feed_reset", [r"/feed\s+reset", r"feed\s+reset", r"reset\s+(?:my\s+)?(?:the\s+)?feed"]),
    (
        "feed",
        [
            r"/feed",
            rf"{_SHOW}(?:my\s+)?(?:brief\s+|atom\s+|rss\s+)?feed(?:\s+url)?",
        ],
    ),
    (
        "show_item",
        [
            rf"{_SHOW}(?:item\s+|insight\s+|number\s+)?{_NUM}",
            rf"open\s+{_NUM}",
            rf"tell\s+me\s+more\s+about\s+{_NUM}",
            rf"what\s+about\s+{_NUM}\??",
        ],
    ),
]

# A command without its argument: the handler asks for it ("Which topic?").
BARE = {
    "/follow": "follow", "follow": "follow", "/mute": "mute", "mute": "mute",
    "/unfollow": "unfollow", "unfollow": "unfollow", "/unmute": "unmute", "unmute": "unmute",
    "/less": "less_about", "/subscribe": "subscribe", "subscribe": "subscribe",
    "/time": "time", "/timezone": "timezone", "timezone": "timezone", "/tz": "timezone",
    "/search": "search", "search": "search",
}  # fmt: skip

SEARCH_PATTERNS = [
    r"/search\s+(?P<arg>.+)",
    r"search(?:\s+for)?\s+(?P<arg>.+)",
    r"find\s+(?P<arg>.+)",
    r"look\s+(?:up|for)\s+(?P<arg>.+)",
    r"(?:is\s+there\s+)?anything\s+(?:about|on|regarding|re)\s+(?P<arg>.+)",
    r"any\s+(?:insights?|news|thing|mentions?)\s+(?:about|on|of|regarding)\s+(?P<arg>.+)",
    r"what\s+(?:did|do|does|have)\s+(?:they|people|anyone|someone|(?:the\s+)?(?:shows?|hosts?"
    r"|guests?|podcasts?|experts?))"
    r"(?:\s+\w+)?\s+(?:say|said|think|talk(?:ed)?)\s+(?:about|on|of)\s+(?P<arg>.+)",
    r"(?:who|what)\s+(?:talked|talks|said\s+something)\s+about\s+(?P<arg>.+)",
    r"tell\s+me\s+(?:more\s+)?about\s+(?P<arg>.+)",
    r"what\s+about\s+(?P<arg>.+)",
    r"(?:insights?|anything)\s+(?:on|about)\s+(?P<arg>.+)",
]
