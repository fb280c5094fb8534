"""WordLlama (static embeddings shipped in the wheel) vs TF-IDF + LSA: quality and speed.

Quality: paraphrase pairs that share no content word, hidden among distractors. Every text is a
query; its partner should rank first among all other texts (recall@1, MRR).
Speed: model load (or LSA fit) time and embedding throughput on real transcript sentences.

    .venv/bin/python bench/embedders.py [--shared ../shared/data]

The last line printed is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.embeddings import LsaEmbedder, WordLlamaEmbedder  # noqa: E402
from core.insights.offline.text import content_words  # noqa: E402
from core.transcripts.parse import parse_transcript  # noqa: E402

PAIRS = [
    ("Our servers crashed overnight.", "The machines went down while we slept."),
    ("The startup ran out of money.", "The young company exhausted its funding."),
    ("Physicians recommend daily exercise.", "Doctors advise working out every day."),
    ("Buy cheap tickets early.", "Purchase inexpensive fares well in advance."),
    ("The car is very fast.", "That automobile is extremely quick."),
    ("Hiring senior engineers is expensive.", "Recruiting experienced developers costs a lot."),
    ("Customers hate surprise price increases.", "Buyers resent unexpected fee hikes."),
    ("Write tests before shipping code.", "Verify your software prior to release."),
    ("The database query was slow.", "Fetching records from storage took ages."),
    (
        "Remote teams need clear written communication.",
        "Distributed staff depend on explicit documentation.",
    ),
    ("Small businesses struggle with cash flow.", "Tiny firms often lack liquidity."),
    ("Attackers stole user passwords.", "Hackers exfiltrated account credentials."),
    ("Sleep improves memory.", "Resting well helps you remember things."),
    ("The meeting was cancelled.", "The gathering got called off."),
    (
        "Investors lost confidence in the founder.",
        "Backers stopped trusting the company's creator.",
    ),
    (
        "Our podcast audience doubled this year.",
        "Twice as many listeners tuned into the show in the last twelve months.",
    ),
    ("Open source maintainers burn out.", "Volunteers who look after public code get exhausted."),
    ("Electric vehicles are getting cheaper.", "Battery-powered cars keep dropping in cost."),
    ("The kernel panicked during boot.", "The operating system core crashed while starting up."),
    ("Interest rates rose sharply.", "Borrowing costs climbed steeply."),
    ("Children learn languages quickly.", "Kids pick up new tongues fast."),
    ("The recipe calls for fresh herbs.", "This dish requires newly picked basil and parsley."),
    ("Managers should praise good work.", "Bosses ought to recognise excellent results."),
    ("The airline delayed every flight.", "All departures of the carrier were postponed."),
    ("Users abandon slow websites.", "Visitors leave sluggish pages."),
    (
        "Machine learning models need lots of data.",
        "Statistical AI systems require huge training sets.",
    ),
    ("The storm knocked out power.", "The tempest caused an electricity outage."),
    ("Prices at the grocery store went up.", "Supermarket food became more costly."),
    ("He quit his job to start a company.", "He resigned from his position to found a business."),
    (
        "Logs help you debug production issues.",
        "Event records let engineers troubleshoot live incidents.",
    ),
]
DISTRACTORS = [
    "Penguins live in the southern hemisphere.",
    "She painted the fence bright yellow.",
    "The orchestra tuned before the concert.",
    "Our team won the regional chess tournament.",
    "The museum opens a new dinosaur exhibit in May.",
    "He plays guitar in a jazz trio on weekends.",
    "The river froze solid last winter.",
    "My grandmother knits scarves for the whole family.",
    "The novel is set in nineteenth-century Paris.",
    "Bees are essential pollinators for many crops.",
    "The stadium holds sixty thousand fans.",
    "We planted tomatoes along the garden wall.",
    "The telescope captured images of a distant galaxy.",
    "Marathon runners train for months.",
    "The bakery sells sourdough every morning.",
    "A new bridge will connect the two islands.",
    "The cat slept on the warm windowsill.",
    "The film won three awards at the festival.",
    "Volcanoes form where tectonic plates meet.",
    "The library extended its opening hours.",
]


def _stems(text: str) -> set[str]:
    return {w[:5] for w in content_words(text)}


def check_no_shared_words() -> list[int]:
    """Indices of pairs that share a content word (by 5-letter stem); reported, not hidden."""
    return [i for i, (a, b) in enumerate(PAIRS) if _stems(a) & _stems(b)]


def retrieval(vectors: np.ndarray, n_pairs: int) -> dict[str, float]:
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -np.inf)
    ranks = []
    for query in range(2 * n_pairs):
        partner = query + n_pairs if query < n_pairs else query - n_pairs
        ranks.append(int((sims[query] > sims[query, partner]).sum()) + 1)
    r = np.array(ranks)
    return {"recall_at_1": round(float((r == 1).mean()), 3), "mrr": round(float((1 / r).mean()), 3)}


def transcript_sentences(shared: Path) -> list[str]:
    sentences: list[str] = []
    for path in sorted((shared / "transcripts").iterdir()):
        for segment in parse_transcript(path.read_bytes(), url=path.name).segments:
            sentences += [s for s in re.split(r"(?<=[.!?])\s+", segment.text) if len(s) > 20]
    return sentences


def timed_embed(embed: object, texts: list[str]) -> tuple[np.ndarray, float]:
    start = time.perf_counter()
    vectors = embed(texts)  # type: ignore[operator]
    return vectors, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    args = parser.parse_args()
    texts = [a for a, _ in PAIRS] + [b for _, b in PAIRS] + DISTRACTORS
    corpus = transcript_sentences(args.shared)
    workload = (corpus * (10_000 // max(1, len(corpus)) + 1))[:10_000]
    results: dict[str, object] = {
        "pairs": len(PAIRS),
        "distractors": len(DISTRACTORS),
        "pairs_sharing_a_word": check_no_shared_words(),
        "speed_sentences": len(workload),
    }

    wordllama = WordLlamaEmbedder()
    _, load_s = timed_embed(wordllama.embed_sync, ["warm up"])
    vectors, _ = timed_embed(wordllama.embed_sync, texts)
    _, speed_s = timed_embed(wordllama.embed_sync, workload)
    results["wordllama"] = {
        **retrieval(vectors, len(PAIRS)),
        "load_s": round(load_s, 3),
        "embed_10k_s": round(speed_s, 3),
        "dim": 256,
    }

    import sklearn.decomposition  # noqa: F401  (import cost is not fitting cost)

    for label, fit_on in (("lsa_fit_on_eval", texts), ("lsa_fit_on_transcripts", corpus + texts)):
        lsa = LsaEmbedder(fit_on, dim=128)
        _, fit_s = timed_embed(lsa.embed_sync, ["warm up"])
        vectors, _ = timed_embed(lsa.embed_sync, texts)
        _, speed_s = timed_embed(lsa.embed_sync, workload)
        results[label] = {
            **retrieval(vectors, len(PAIRS)),
            "fit_s": round(fit_s, 3),
            "embed_10k_s": round(speed_s, 3),
            "corpus_texts": len(fit_on),
        }

    for key in ("wordllama", "lsa_fit_on_eval", "lsa_fit_on_transcripts"):
        print(f"{key:24} {results[key]}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
