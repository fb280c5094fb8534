"""schema.org JSON-LD for each page (rendered with Jinja's ``tojson``, which escapes ``<``)."""

from __future__ import annotations

from typing import Any

from core.web.pages import EpisodeDetail, InsightDetail, InsightSummary, ShowDetail
from core.web.urls import PageUrls

CONTEXT = "https://schema.org"


def _date(summary: InsightSummary) -> dict[str, str]:
    when = summary.published_at
    return {"datePublished": when.date().isoformat()} if when is not None else {}


def insight_ld(detail: InsightDetail, urls: PageUrls, description: str) -> dict[str, Any]:
    s = detail.summary
    quotation: dict[str, Any] = {"@type": "Quotation", "text": detail.quote}
    if detail.speaker:
        quotation["creator"] = {"@type": "Person", "name": detail.speaker}
    return {
        "@context": CONTEXT,
        "@type": "Article",
        "headline": s.headline[:110],
        "description": description,
        "articleBody": s.body,
        "url": urls.insight(s.id),
        "mainEntityOfPage": urls.insight(s.id),
        "dateCreated": detail.created_at.isoformat(),
        **_date(s),
        "keywords": list(detail.topics),
        "citation": quotation,
        "isBasedOn": {
            "@type": "PodcastEpisode",
            "name": s.episode_title,
            "url": urls.episode(s.episode_id),
            "partOfSeries": {
                "@type": "PodcastSeries",
                "name": s.show_title,
                "url": urls.show(s.show_id),
            },
        },
    }


def episode_ld(detail: EpisodeDetail, urls: PageUrls) -> dict[str, Any]:
    out: dict[str, Any] = {
        "@context": CONTEXT,
        "@type": "PodcastEpisode",
        "name": detail.title,
        "url": urls.episode(detail.id),
        "partOfSeries": {"@type": "PodcastSeries", "name": detail.show_title,
                         "url": urls.show(detail.show_id)},
    }  # fmt: skip
    if detail.published_at is not None:
        out["datePublished"] = detail.published_at.date().isoformat()
    return out


def show_ld(detail: ShowDetail, urls: PageUrls) -> dict[str, Any]:
    return {
        "@context": CONTEXT,
        "@type": "PodcastSeries",
        "name": detail.title,
        "url": urls.show(detail.id),
        **({"webFeed": detail.link} if detail.link else {}),
    }


def list_ld(name: str, url: str, items: list[InsightSummary], urls: PageUrls) -> dict[str, Any]:
    return {
        "@context": CONTEXT,
        "@type": "CollectionPage",
        "name": name,
        "url": url,
        "mainEntity": {
            "@type": "ItemList",
            "itemListElement": [
                {
                    "@type": "ListItem",
                    "position": n,
                    "url": urls.insight(item.id),
                    "name": item.headline,
                }
                for n, item in enumerate(items, start=1)
            ],
        },
    }


def website_ld(urls: PageUrls) -> dict[str, Any]:
    return {
        "@context": CONTEXT,
        "@type": "WebSite",
        "name": "podbrief",
        "url": urls.home(),
        "potentialAction": {
            "@type": "SearchAction",
            "target": urls.search("{search_term_string}").replace(
                "%7Bsearch_term_string%7D", "{search_term_string}"
            ),
            "query-input": "required name=search_term_string",
        },
    }
