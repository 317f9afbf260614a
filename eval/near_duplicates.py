"""Measure story grouping (syndicated copies) on real article texts with synthetic syndication edits.

    python -m eval.near_duplicates --benchmark ../shared/benchmarks/realtimeqa-2026/past_2026 [--limit N --seed S]

The originals are the search results (`search_result[].text`) of RealTime QA `*_gcs.jsonl` files, read at
run time. Results whose sentences largely appear in an earlier result are left out, so the originals are
distinct articles; the results of one question are different articles on the same event from different
outlets, which must not be grouped. About half of the originals get one to three copies edited the way
syndication edits them: a new headline, a trimmed ending, a byline and dateline inserted, one sentence
changed. Each copy goes through the same cleaning as an ingested file, then everything is grouped in a
shuffled order by rag.stories.StoryIndex, as ingestion does. The questions are split in two halves: the
containment threshold is chosen on the first (best pairwise F1) and precision, recall and the grouping
cost per article are reported on the second.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import sys
import time
from collections import Counter
from pathlib import Path

from eval.feeds import jsonl_objects, outlet_of
from rag.config import DuplicatePolicy
from rag.documents import build_article
from rag.stories import StoryIndex, new_story_id
from rag.text import normalise, sentence_spans

GCS_SUFFIX = "_gcs.jsonl"
MIN_WORDS = 150
# An article sharing this share of its sentences with earlier ones is taken as a copy found in the wild
# and left out of the originals (the test set's truth would be wrong about it otherwise).
WILD_COPY_SHARE = 0.2
GRID = [round(0.30 + 0.025 * i, 3) for i in range(27)]  # containment thresholds tried: 0.30 .. 0.95

# Invented bylines and outlets for the edited copies (no benchmark text is stored here).
_OUTLETS = ["Northern Courier", "Valley Ledger", "Harbor Times", "Metro Daily", "Lakeside Post", "Capital Wire"]
_REPORTERS = ["Dana Whitfield", "Samir Okafor", "Lena Marsh", "Tomasz Rydel", "Ines Carvalho", "Owen Pratt"]
_CITIES = ["WASHINGTON", "NEW YORK", "LONDON", "CHICAGO", "PARIS", "TOKYO"]
_ROUGH_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def load_originals(folder: Path) -> tuple[list[dict], int]:
    """Distinct search-result articles with their question (event) and outlet, in file order, and how many
    results were left out as copies of earlier ones found in the wild."""
    originals, seen_texts, seen_sentences, wild = [], set(), set(), 0
    files = sorted(folder.glob(f"*{GCS_SUFFIX}"))
    if not files:
        raise ValueError(f"{folder} holds no *{GCS_SUFFIX} files; point --benchmark at a RealTime QA folder.")
    for path in files:
        for _, row in jsonl_objects(path):
            for result in row.get("search_result") or []:
                text = str(result.get("text") or "").strip()
                if len(text.split()) < MIN_WORDS or text in seen_texts:
                    continue
                seen_texts.add(text)
                sentences = {s for s in (" ".join(x.split()) for x in _ROUGH_SENTENCE.split(normalise(text))) if len(s) >= 30}
                if not sentences or len(sentences & seen_sentences) >= WILD_COPY_SHARE * len(sentences):
                    wild += bool(sentences)
                    continue
                seen_sentences |= sentences
                originals.append({"event": str(row.get("question_id")), "text": text,
                                  "title": str(result.get("title") or ""), "outlet": outlet_of(str(result.get("url") or ""))})
    return originals, wild


def syndicate(original: dict, rng: random.Random, donor: str) -> tuple[str, str]:
    """(title, text) of a syndicated copy: new headline, trimmed ending, byline and dateline, one sentence changed."""
    text = original["text"]
    spans = sentence_spans(text)
    keep = max(3, math.ceil(len(spans) * rng.uniform(0.5, 0.95)))
    spans = spans[:keep]
    outlet = rng.choice(_OUTLETS)
    # One sentence changed: reworded (words dropped, a number altered, an attribution added) or replaced.
    index = rng.randrange(1, len(spans)) if len(spans) > 1 else 0
    start, end = spans[index]
    sentence = text[start:end]
    if rng.random() < 0.5:
        donor_spans = sentence_spans(donor)
        a, b = rng.choice(donor_spans) if donor_spans else (0, 0)
        changed = donor[a:b]
    else:
        tokens = sentence.split()
        if len(tokens) > 6:
            del tokens[rng.randrange(len(tokens))]
        changed = re.sub(r"\d+", lambda m: str(int(m.group()) + 1), " ".join(tokens), count=1)
        changed = changed.rstrip(".") + f", {outlet} reported."
    body = text[: spans[0][0]] + text[spans[0][0] : start] + changed + text[end : spans[-1][1]]
    dateline = f"{rng.choice(_CITIES)} ({outlet}) — "
    byline = f"By {rng.choice(_REPORTERS)} | {outlet}"
    headline = " ".join(w.capitalize() for w in re.findall(r"[\w']+", text[spans[0][0]: spans[0][1]])[:9])
    lead = text[: spans[0][0]]
    copy = f"{byline}\n\n{lead}{dateline}{body[len(lead):]}\n\nThis story was distributed by {outlet}."
    if rng.random() < 0.5:
        copy = f"{headline}\n\n{copy}"
    return f"{headline} | {outlet}", copy


def build_test_set(originals: list[dict], rng: random.Random) -> list[dict]:
    """Originals and their copies: id, event, label (the original's index), text (cleaned as ingested)."""
    items = []
    for number, original in enumerate(originals):
        article = build_article(f"o{number}", original["text"], origin="eval", title=original["title"])
        items.append({"id": f"o{number}", "event": original["event"], "label": number, "text": article.text,
                      "hash": article.text_hash})
        if rng.random() < 0.5:
            for copy_number in range(rng.randint(1, 3)):
                donor = originals[rng.randrange(len(originals))]["text"]
                title, text = syndicate(original, rng, donor)
                article = build_article(f"o{number}c{copy_number}", text, origin="eval", title=title)
                items.append({"id": article.id, "event": original["event"], "label": number, "text": article.text,
                              "hash": article.text_hash})
    return items


def pairs(sizes) -> int:
    return sum(n * (n - 1) // 2 for n in sizes)


def pairwise_scores(items: list[dict], stories: dict[str, str]) -> dict:
    """Pairwise precision and recall of the predicted stories against the labels."""
    together = pairs(Counter((stories[i["id"]], i["label"]) for i in items).values())
    predicted = pairs(Counter(stories[i["id"]] for i in items).values())
    true = pairs(Counter(i["label"] for i in items).values())
    # Different articles on one event that were grouped (the false merges that matter most here).
    same_event = pairs(Counter((stories[i["id"]], i["event"]) for i in items).values()) - together
    precision = together / predicted if predicted else 1.0
    recall = together / true if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
            "true_pairs": true, "predicted_pairs": predicted, "same_event_pairs_grouped": same_event}


def group(items: list[dict], policy: DuplicatePolicy, signatures: dict | None = None) -> tuple[dict[str, str], list[float]]:
    """Stories for the items, grouped in their order as ingestion does, and the ms each article took
    (signature, LSH query and insert)."""
    index = StoryIndex(policy)
    costs = []
    for item in items:
        started = time.perf_counter()
        signature = signatures[item["id"]] if signatures else index.signature(item["text"])
        index.assign(item["id"], signature, new_story_id(item["hash"]))
        costs.append((time.perf_counter() - started) * 1000)
    return dict(index.story), costs


def run(benchmark: Path, limit: int | None, seed: int) -> dict:
    rng = random.Random(seed)
    originals, wild = load_originals(benchmark)
    events = sorted({o["event"] for o in originals})
    rng.shuffle(events)
    if limit:  # whole events, so that the same-event articles stay together
        chosen, total = set(), 0
        for event in events:
            if total >= limit:
                break
            chosen.add(event)
            total += sum(o["event"] == event for o in originals)
        originals = [o for o in originals if o["event"] in chosen]
        events = [e for e in events if e in chosen]
    items = build_test_set(originals, rng)
    rng.shuffle(items)
    calibration_events = set(events[: len(events) // 2])
    halves = {"calibration": [i for i in items if i["event"] in calibration_events],
              "report": [i for i in items if i["event"] not in calibration_events]}

    base = DuplicatePolicy()
    signer = StoryIndex(base)
    signatures = {i["id"]: signer.signature(i["text"]) for i in halves["calibration"]}
    grid = []
    for threshold in GRID:
        policy = base.model_copy(update={"containment": threshold})
        stories, _ = group(halves["calibration"], policy, signatures)
        grid.append({"containment": threshold, **pairwise_scores(halves["calibration"], stories)})
    best = max(g["f1"] for g in grid)
    plateau = [g["containment"] for g in grid if g["f1"] == best]
    chosen = plateau[len(plateau) // 2]  # the middle of the best thresholds: furthest from either edge

    policy = base.model_copy(update={"containment": chosen})
    stories, costs = group(halves["report"], policy)
    costs.sort()
    report = pairwise_scores(halves["report"], stories)
    return {
        "benchmark": str(benchmark), "seed": seed, "limit": limit,
        "originals": len(originals), "events": len(events), "wild_copies_left_out": wild,
        "articles": {name: len(half) for name, half in halves.items()},
        "copies": {name: sum(1 for i in half if "c" in i["id"][1:]) for name, half in halves.items()},
        "policy": {**policy.model_dump(exclude={"calibrated_on"})},
        "calibration": {"best_f1": best, "thresholds_at_best": plateau, "grid": grid},
        "report": {**report, "ms_per_article_mean": round(sum(costs) / len(costs), 3),
                   "ms_per_article_p95": round(costs[int(0.95 * (len(costs) - 1))], 3)},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--benchmark", type=Path, default=Path("../shared/benchmarks/realtimeqa-2026/past_2026"),
                        help="A folder of RealTime QA *_gcs.jsonl files.")
    parser.add_argument("--limit", type=int, default=None, help="Originals to sample (whole events); default all.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="Print the whole result, calibration grid included.")
    args = parser.parse_args(argv)
    try:
        result = run(args.benchmark, args.limit, args.seed)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    r, c = result["report"], result["calibration"]
    print(f"{result['originals']} distinct originals from {result['events']} events ({result['wild_copies_left_out']} "
          "search results left out as copies found in the wild); articles (with copies): "
          f"{result['articles']}, copies: {result['copies']}")
    print(f"calibration half: best F1 {c['best_f1']} at containment {c['thresholds_at_best']}; "
          f"chosen {result['policy']['containment']}")
    print(f"report half: precision {r['precision']}, recall {r['recall']}, F1 {r['f1']} "
          f"({r['predicted_pairs']} pairs grouped, {r['true_pairs']} true pairs, "
          f"{r['same_event_pairs_grouped']} same-event pairs of different articles grouped); "
          f"{r['ms_per_article_mean']} ms per article (p95 {r['ms_per_article_p95']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
