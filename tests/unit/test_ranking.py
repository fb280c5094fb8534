"""Ranking is pure: candidate rows and a profile in, the chosen rows out."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import numpy as np

from core.brief.rank import CandidateRow, Candidates, Ranker, base_scores, rank, topic_weights
from core.people.users import UserProfile

NOW = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)


def row(
    id: int,
    score: float,
    *,
    episode: int | None = None,
    feed: int = 1,
    topics: tuple[str, ...] = (),
    age_h: float = 1.0,
    group: int | None = None,
    older: bool = False,
) -> CandidateRow:
    return CandidateRow(
        id=id,
        episode_id=episode if episode is not None else 1000 + id,  # own episode by default
        feed_id=feed,
        score=score,
        created_at=NOW - timedelta(hours=age_h),
        topics=topics,
        group_id=group,
        is_older=older,
    )


def picked_ids(rows: list[CandidateRow], profile: UserProfile, k: int = 5) -> list[int]:
    return [rows[i].id for i in rank(Candidates.build(rows), profile, NOW, k)]


def test_new_user_gets_the_days_best_in_order() -> None:
    rows = [row(i, score=i / 10) for i in range(1, 10)]
    assert picked_ids(rows, UserProfile(user_id=1)) == [9, 8, 7, 6, 5]


def test_followed_topic_beats_a_better_scored_unrelated_insight() -> None:
    rows = [row(1, 0.9, topics=("crypto",)), row(2, 0.3, topics=("pricing", "saas"))]
    fan = UserProfile(user_id=1, followed_topics=frozenset({"pricing"}))
    assert picked_ids(rows, fan, k=1) == [2]
    assert picked_ids(rows, UserProfile(user_id=2), k=1) == [1]


def test_followed_show_lifts_its_insights() -> None:
    rows = [row(1, 0.9, feed=7), row(2, 0.5, feed=8)]
    assert picked_ids(rows, UserProfile(user_id=1, followed_feeds=frozenset({8})), k=1) == [2]


def test_muted_topic_never_appears_even_if_that_leaves_fewer_than_five() -> None:
    rows = [row(i, 1.0 - i / 100, topics=("crypto",)) for i in range(1, 8)]
    rows.append(row(50, 0.1, topics=("health",)))
    muted = UserProfile(user_id=1, muted_topics=frozenset({"crypto"}))
    assert picked_ids(rows, muted) == [50]


def test_less_about_pushes_down_but_does_not_remove() -> None:
    rows = [row(1, 0.9, topics=("crypto",)), row(2, 0.5, topics=("health",))]
    less = UserProfile(user_id=1, less_about_topics=frozenset({"crypto"}))
    assert picked_ids(rows, less) == [2, 1]


def test_no_two_from_one_episode_while_other_episodes_exist() -> None:
    same = [row(i, 0.9 - i / 100, episode=1) for i in range(1, 7)]
    others = [row(10 + i, 0.2 - i / 100, episode=10 + i) for i in range(4)]
    picks = picked_ids(same + others, UserProfile(user_id=1))
    episodes = [r.episode_id for r in same + others if r.id in picks]
    assert len(picks) == 5 and len(set(episodes)) == 5
    assert picks[0] == 1  # the best still leads


def test_one_episode_fills_the_brief_when_there_is_no_alternative() -> None:
    rows = [row(i, 0.9 - i / 100, episode=1) for i in range(1, 7)]
    assert picked_ids(rows, UserProfile(user_id=1)) == [1, 2, 3, 4, 5]


def test_near_duplicates_of_one_group_are_never_both_picked() -> None:
    rows = [row(1, 0.9, group=1), row(2, 0.89, group=1), row(3, 0.1)]
    assert picked_ids(rows, UserProfile(user_id=1)) == [1, 3]


def test_already_received_insights_and_their_duplicates_are_excluded() -> None:
    rows = [row(1, 0.9), row(2, 0.8, group=5), row(3, 0.7), row(4, 0.1)]
    seen = UserProfile(user_id=1, received_ids=frozenset({1}), received_groups=frozenset({1, 5}))
    assert picked_ids(rows, seen) == [3, 4]


def test_fresher_wins_between_equal_scores_relative_to_now() -> None:
    rows = [row(1, 0.5, age_h=40), row(2, 0.5, age_h=2), row(3, 0.5, age_h=20)]
    assert picked_ids(rows, UserProfile(user_id=1)) == [2, 3, 1]
    c = Candidates.build(rows)
    today, in_two_days = base_scores(c, NOW), base_scores(c, NOW + timedelta(days=2))
    assert (in_two_days < today).all()  # freshness decays as `now` moves on
    assert in_two_days[1] - 1.0 < (today[1] - 1.0) / 3  # a 24 h half-life: two days, a quarter


def test_new_insights_come_before_older_fill_whatever_their_score() -> None:
    rows = [row(1, 0.1), row(2, 0.9, older=True, age_h=72), row(3, 0.2)]
    assert picked_ids(rows, UserProfile(user_id=1)) == [3, 1, 2]


def test_more_like_lifts_related_neighbours_and_liked_topics() -> None:
    rows = [row(1, 0.9), row(2, 0.5), row(3, 0.6, topics=("pricing",))]
    assert picked_ids(rows, UserProfile(user_id=1, similar_to_liked={2: 0.9}), k=1) == [2]
    assert picked_ids(rows, UserProfile(user_id=1, liked_topics={"pricing": 3}), k=1) == [3]
    weights = topic_weights(
        UserProfile(user_id=1, liked_topics={"x": 50}, disliked_topics={"y": 1})
    )
    assert weights["x"] < 1.0 and weights["y"] < 0  # likes are capped; dislikes subtract


def test_similar_topics_are_spread_out_by_mmr() -> None:
    rows = [
        row(1, 0.9, topics=("ai", "chip")),
        row(2, 0.88, topics=("ai", "chip")),
        row(3, 0.8, topics=("gardening",)),
    ]
    assert picked_ids(rows, UserProfile(user_id=1), k=2) == [1, 3]


def test_empty_candidates_give_an_empty_brief() -> None:
    assert rank(Candidates.build([]), UserProfile(user_id=1), NOW) == []


def test_large_sets_pick_the_same_first_item_as_brute_force() -> None:
    rnd = random.Random(7)
    topics = [f"t{i}" for i in range(40)]
    rows = [
        row(
            i,
            rnd.random(),
            episode=i // 4,
            feed=i % 30,
            topics=tuple(rnd.sample(topics, 3)),
            age_h=rnd.uniform(0, 48),
        )
        for i in range(3000)
    ]
    c = Candidates.build(rows)
    ranker = Ranker(c, NOW)
    for user in range(50):
        profile = UserProfile(
            user_id=user,
            followed_topics=frozenset(rnd.sample(topics, 2)),
            muted_topics=frozenset(rnd.sample(topics, 3)),
            less_about_topics=frozenset(rnd.sample(topics, 1)),
            followed_feeds=frozenset(rnd.sample(range(30), 2)),
            received_ids=frozenset(rnd.sample(range(3000), 300)),
        )
        personal, excluded = ranker._personal(profile)
        total = np.where(excluded, -np.inf, ranker.base + personal)
        picks = ranker.pick(profile)
        assert picks[0] == int(np.argmax(total))
        assert not excluded[picks].any()
        assert len({rows[i].episode_id for i in picks}) == 5
