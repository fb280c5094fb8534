"""All tables. Importing this package registers every model on ``Base.metadata``."""

from core.models.base import Base, utcnow
from core.models.delivery import Delivery, DeliveryAttempt, RateSlot
from core.models.email import AppSecret, BriefFeed, EmailSubscription, SignupAttempt
from core.models.feeds import Episode, Feed, TranscriptLink
from core.models.insights import Insight, InsightEmbedding, InsightTopic, RelatedEdge
from core.models.llm import ExtractionCache, LlmCall
from core.models.messages import SentMessage
from core.models.transcripts import Segment, Transcript
from core.models.users import (
    Brief,
    BriefItem,
    ChatContext,
    Feedback,
    ShowSubscription,
    TopicPreference,
    User,
)

__all__ = [
    "AppSecret",
    "Base",
    "Brief",
    "BriefFeed",
    "BriefItem",
    "ChatContext",
    "Delivery",
    "DeliveryAttempt",
    "EmailSubscription",
    "Episode",
    "ExtractionCache",
    "Feed",
    "Feedback",
    "Insight",
    "InsightEmbedding",
    "InsightTopic",
    "LlmCall",
    "RateSlot",
    "RelatedEdge",
    "Segment",
    "SentMessage",
    "ShowSubscription",
    "SignupAttempt",
    "TopicPreference",
    "Transcript",
    "TranscriptLink",
    "User",
    "utcnow",
]
