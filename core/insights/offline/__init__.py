"""The offline insight engine: sections, claims, filters and extractive writing."""

from core.insights.offline.extractor import ExtractorLimits, OfflineInsightExtractor

__all__ = ["ExtractorLimits", "OfflineInsightExtractor"]
