"""How well HTML main-text and date extraction work on pages wrapped the way news sites wrap articles.

    python -m eval.html_extraction --benchmark ../shared/benchmarks/realtimeqa-2026/past_2026 [--limit N --seed S]

Article texts, titles and dates come from the benchmark's `*_gcs.jsonl` files at run time (nothing of
them is kept in this repository). Each article is wrapped in a page of made-up boilerplate generated
here (navigation, cookie banner, ads between paragraphs, newsletter box, related links, comments,
inline scripts, footer), in one of several layouts that real sites use, with its date placed in one of
the places real pages put it and distractor dates around it. Both extractors read the page:

- `handwritten`: the main-text code newsrag had before trafilatura (kept here as the baseline);
- `trafilatura`: what `rag.documents.html_to_parts` does now (trafilatura for the text, htmldate for the date).

Reported per extractor: token recall (share of the article's words that come back), precision (share
of the extracted words that are the article's), boilerplate share (1 - precision), the share of pages
that lose more than 10% of the article, how often each kind of boilerplate block leaks in whole, the
date accuracy against the benchmark's publish_date, and milliseconds per page.
"""

from __future__ import annotations

import argparse
import html as html_lib
import json
import random
import re
import statistics
import sys
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

from rag.documents import Article, build_article, fragment_text, html_to_parts

# --- made-up boilerplate ---------------------------------------------------------------------------

_SITE_WORDS = ["Meridian", "Harbor", "Lantern", "Summit", "Beacon", "Prairie", "Crescent", "Granite", "Orchard", "Falcon"]
_SITE_KINDS = ["Courier", "Gazette", "Dispatch", "Observer", "Herald", "Ledger", "Chronicle", "Tribune"]
_NAV = ["Home", "World", "Politics", "Business", "Tech", "Science", "Health", "Sports", "Opinion", "Culture",
        "Travel", "Weather", "Podcasts", "Video", "Markets", "Obituaries", "Puzzles", "Subscribe", "Sign in"]
_TEASER_SUBJECTS = ["Local bakery", "City council", "A retired pilot", "Volunteer firefighters", "The school board",
                    "A tiny museum", "Commuters", "Regional orchestra", "Night-shift nurses", "A beekeeping club"]
_TEASER_VERBS = ["unveils", "debates", "rescues", "celebrates", "rethinks", "postpones", "wins", "questions"]
_TEASER_OBJECTS = ["a plan for weekend markets", "the new bus timetable", "a stranded kayak", "its hundredth season",
                   "parking fees near the river", "a vintage tram", "the spelling bee trophy", "rules on leaf blowers"]
_COMMENTERS = ["riverwatcher", "J. Okafor", "mkpetersen", "SunnyDale88", "old_editor", "Priya R.", "tomasz_w"]
_COMMENTS = [
    "Thanks for covering this, nobody else seems to care about it.",
    "I read three versions of this and they all leave out the part that matters.",
    "Can someone explain why the numbers keep changing every week?",
    "My neighbour said the same thing at the block party last summer.",
    "This comment section is getting out of hand again, please stay civil.",
    "Great reporting as usual, keep it up folks.",
]
_ADS = [
    "Advertisement",
    "Sponsored: These comfortable walking shoes are selling out fast",
    "Sponsored: Homeowners are switching to this clever gutter trick",
    "Promoted: Compare travel insurance quotes in two minutes",
]
_COOKIE = ("We use cookies and similar technologies to personalise content, measure audiences and improve "
           "your experience. You can change your choices at any time in Privacy settings. Accept all Reject all")
_NEWSLETTER = "Get the morning briefing delivered to your inbox every weekday. Enter your email address Sign up"
_FOOTER = ["About us", "Contact", "Careers", "Advertise with us", "Terms of use", "Privacy policy", "Accessibility",
           "Corrections", "Site map"]
_SCRIPT = "window.dataLayer = window.dataLayer || []; function gtag(){dataLayer.push(arguments);} gtag('js', new Date());"
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"]

BLOCK_KINDS = ("nav", "cookie", "ad", "newsletter", "related", "comments", "footer", "script")


def _teaser(rng: random.Random) -> str:
    return f"{rng.choice(_TEASER_SUBJECTS)} {rng.choice(_TEASER_VERBS)} {rng.choice(_TEASER_OBJECTS)}"


def _long_date(day: date) -> str:
    return f"{_MONTHS[day.month - 1]} {day.day}, {day.year}"


def wrap_page(title: str, text: str, published: date | None, rng: random.Random) -> tuple[str, dict[str, list[str]]]:
    """An HTML page around one article, and the visible text of each boilerplate block by kind."""
    esc = html_lib.escape
    site = f"The {rng.choice(_SITE_WORDS)} {rng.choice(_SITE_KINDS)}"
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60] or "story"
    day = published or date(2025, 1, 1)
    url = f"https://www.{site.split()[1].lower()}{site.split()[2].lower()}.example/news/{slug}"
    if rng.random() < 0.3:  # many sites put the date in the URL
        url = f"https://www.{site.split()[1].lower()}.example/{day:%Y/%m/%d}/{slug}"
    later = day + timedelta(days=rng.randint(1, 20))
    blocks: dict[str, list[str]] = {kind: [] for kind in BLOCK_KINDS}

    nav_items = rng.sample(_NAV, rng.randint(7, 14))
    blocks["nav"].append(" ".join(nav_items))
    nav = "<ul>" + "".join(f'<li><a href="/{n.lower()}">{n}</a></li>' for n in nav_items) + "</ul>"
    cookie = f'<div id="cookie-consent" class="banner"><p>{_COOKIE}</p></div>'
    blocks["cookie"].append(_COOKIE)
    related_items = [_teaser(rng) for _ in range(rng.randint(3, 6))]
    related_dates = [later + timedelta(days=i) for i in range(len(related_items))]
    blocks["related"].append(" ".join(related_items))
    comments = [(rng.choice(_COMMENTERS), rng.choice(_COMMENTS), later + timedelta(days=i)) for i in range(rng.randint(2, 5))]
    blocks["comments"].extend(c[1] for c in comments)
    footer_items = rng.sample(_FOOTER, 6)
    footer_text = " ".join(footer_items) + f" © {later.year} {site}. All rights reserved."
    blocks["footer"].append(" ".join(footer_items))
    blocks["newsletter"].append(_NEWSLETTER)
    blocks["script"].append(_SCRIPT)

    # Where the date is: metadata of some kind, a <time> element, visible byline text, only the URL, or nowhere.
    placement = rng.choice(["meta", "jsonld", "time", "byline", "url", "none"])
    if placement == "url" and "/news/" in url:
        url = f"https://www.{site.split()[1].lower()}.example/{day:%Y/%m/%d}/{slug}"
    head = [f"<title>{esc(title)} | {esc(site)}</title>", '<meta charset="utf-8">',
            f'<meta property="og:site_name" content="{esc(site)}">', f'<link rel="canonical" href="{url}">',
            f"<script>{_SCRIPT}</script>", "<style>.ad-slot{min-height:250px}.banner{position:fixed}</style>"]
    if rng.random() < 0.7:
        head.append(f'<meta property="og:title" content="{esc(title)}">')
    if placement == "meta":
        head.append(f'<meta property="article:published_time" content="{day.isoformat()}T{rng.randint(0, 23):02d}:15:00Z">')
        head.append(f'<meta property="article:modified_time" content="{later.isoformat()}T08:00:00Z">')
    elif placement == "jsonld":
        head.append('<script type="application/ld+json">' + json.dumps(
            {"@context": "https://schema.org", "@type": "NewsArticle", "headline": title,
             "datePublished": f"{day.isoformat()}T10:00:00Z", "dateModified": f"{later.isoformat()}T09:00:00Z"}) + "</script>")
    byline_name = rng.choice(["By Staff Reporter", "By Lena Marsh", "By the Newsroom", "By A. Delgado"])
    if placement == "time":
        byline = f'<p class="byline">{byline_name} <time datetime="{day.isoformat()}T07:30:00">{_long_date(day)}</time></p>'
    elif placement == "byline":
        byline = f'<p class="byline">{byline_name}. Published {_long_date(day)}. Updated {_long_date(later)}.</p>'
    else:
        byline = f'<p class="byline">{byline_name}</p>'

    paragraphs = [p.strip() for p in re.split(r"\n\s*\n|\n", text) if p.strip()]
    body_parts = []
    for number, paragraph in enumerate(paragraphs):
        body_parts.append(f"<p>{esc(paragraph)}</p>")
        if number in (1, 5, 9) and rng.random() < 0.8:
            ad = rng.choice(_ADS)
            blocks["ad"].append(ad)
            body_parts.append(f'<div class="ad-slot" data-ad="inline"><span>{esc(ad)}</span></div>')
        if number == 3 and rng.random() < 0.5:
            body_parts.append(f'<script>loadWidget("inline-{number}");</script>')
        if number == 4 and rng.random() < 0.5:
            body_parts.append(f'<div class="newsletter-signup"><p>{_NEWSLETTER}</p></div>')
    story = f"<h1>{esc(title)}</h1>{byline}" + "".join(body_parts)
    comments_html = "".join(
        f'<div class="comment"><span class="author">{esc(who)}</span> <span class="when">{_long_date(when)}</span>'
        f"<p>{esc(said)}</p></div>" for who, said, when in comments
    )
    layout = rng.choice(["semantic", "divs", "teaser-articles"])
    if layout == "semantic":
        related = "<ul>" + "".join(f'<li><a href="/r/{i}">{esc(t)}</a></li>' for i, t in enumerate(related_items)) + "</ul>"
        body = (f"{cookie}<header><a href='/'>{esc(site)}</a><nav>{nav}</nav><p>{_long_date(later)}</p></header>"
                f"<main><article>{story}</article><aside><h2>More stories</h2>{related}</aside>"
                f'<section id="comments"><h2>Comments</h2>{comments_html}</section></main>'
                f"<footer><p>{footer_text}</p></footer>")
    elif layout == "divs":
        related = "".join(f'<div class="teaser"><a href="/r/{i}">{esc(t)}</a></div>' for i, t in enumerate(related_items))
        body = (f'{cookie}<div class="top-bar"><a href="/">{esc(site)}</a> {nav}</div>'
                f'<div id="content"><div class="story-body">{story}</div>'
                f'<div class="sidebar"><h3>Most read</h3>{related}</div>'
                f'<div class="comments"><h3>Reader comments</h3>{comments_html}</div></div>'
                f'<div class="site-footer">{footer_text}</div>')
    else:  # sites that mark up teaser cards as <article> too, before the story
        related = "".join(f'<article class="card"><a href="/r/{i}">{esc(t)}</a><time datetime="{d.isoformat()}">{_long_date(d)}</time></article>'
                          for i, (t, d) in enumerate(zip(related_items, related_dates)))
        body = (f"{cookie}<header><nav>{nav}</nav></header><div class='rail'>{related}</div>"
                f'<div class="article-wrapper"><div itemprop="articleBody">{story}</div></div>'
                f'<div id="disqus_thread">{comments_html}</div><footer>{footer_text}</footer>')
    page = f"<!DOCTYPE html><html lang='en'><head>{''.join(head)}</head><body>{body}<script>{_SCRIPT}</script></body></html>"
    return page, blocks


# --- the baseline: newsrag's hand-written main-text code before trafilatura --------------------------


def handwritten_parts(html: str) -> dict:
    """The old extractor: strip scripts, navigation and footers, take <article>/<main>/<body>, join its blocks."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "lxml")

    def meta(*names: str) -> str | None:
        for name in names:
            tag = soup.find("meta", attrs={"property": name}) or soup.find("meta", attrs={"name": name})
            if tag and tag.get("content"):
                return tag["content"].strip()
        return None

    title = meta("og:title", "twitter:title") or (soup.title.get_text(strip=True) if soup.title else None)
    published = meta("article:published_time", "datePublished", "pubdate", "date", "dc.date", "DC.date.issued")
    if not published:
        time_tag = soup.find("time", attrs={"datetime": True})
        published = time_tag["datetime"] if time_tag else None
    source = meta("og:site_name", "publisher", "application-name")
    canonical = soup.find("link", attrs={"rel": "canonical"})
    url = meta("og:url") or (canonical.get("href") if canonical else None)
    for tag in soup(["script", "style", "noscript", "template", "nav", "footer", "header", "aside", "form", "iframe", "svg"]):
        tag.decompose()
    root = soup.find("article") or soup.find("main") or soup.body or soup
    if not title:
        heading = root.find("h1")
        title = heading.get_text(" ", strip=True) if heading else None
    return {"text": fragment_text(str(root)), "title": title, "published": published, "source": source, "url": url}


EXTRACTORS = {"handwritten": handwritten_parts, "trafilatura": html_to_parts}


# --- scoring -----------------------------------------------------------------------------------------

_TOKEN = re.compile(r"\w+", re.UNICODE)


def tokens(text: str) -> Counter:
    return Counter(t.lower() for t in _TOKEN.findall(text))


def _normalised(text: str) -> str:
    return " ".join(t.lower() for t in _TOKEN.findall(text))


def score_page(gold: str, extracted: str, blocks: dict[str, list[str]]) -> dict:
    gold_tokens, got = tokens(gold), tokens(extracted)
    overlap = sum((gold_tokens & got).values())
    flat = _normalised(extracted)
    leaked = {kind: any(_normalised(b) in flat for b in texts if _normalised(b)) for kind, texts in blocks.items() if texts}
    return {
        "recall": overlap / max(1, sum(gold_tokens.values())),
        "precision": overlap / sum(got.values()) if got else 0.0,
        "leaked": leaked,
    }


def load_benchmark(folder: Path, limit: int | None, seed: int) -> list[dict]:
    """Distinct articles (by URL) with text from the benchmark's search results."""
    seen, rows = set(), []
    for path in sorted(folder.glob("*_gcs.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            for result in json.loads(line).get("search_result") or []:
                text, url = (result.get("text") or "").strip(), result.get("url")
                if len(text) < 300 or url in seen:
                    continue
                seen.add(url)
                published = None
                if result.get("publish_date"):
                    try:
                        published = date.fromisoformat(str(result["publish_date"])[:10].replace("/", "-"))
                    except ValueError:
                        published = None
                rows.append({"title": (result.get("title") or "").strip() or "Untitled", "text": text, "published": published})
    random.Random(seed).shuffle(rows)
    return rows[:limit] if limit else rows


def run(folder: Path, limit: int | None = None, seed: int = 0) -> dict:
    rows = load_benchmark(folder, limit, seed)
    rng = random.Random(seed)
    results = {name: {"recall": [], "precision": [], "lost": 0, "leaks": Counter(), "blocks": Counter(),
                      "date_right": 0, "date_wrong": 0, "date_none": 0, "dated": 0, "seconds": 0.0}
               for name in EXTRACTORS}
    for row in rows:
        page, blocks = wrap_page(row["title"], row["text"], row["published"], rng)
        for name, extract in EXTRACTORS.items():
            started = time.perf_counter()
            try:
                parts = extract(page)
                article: Article | None = build_article("page", parts.pop("text"), origin="eval",
                                                        **{k: v for k, v in parts.items() if v})
            except ValueError:
                article = None
            stats = results[name]
            stats["seconds"] += time.perf_counter() - started
            scored = score_page(row["text"], article.text if article else "", blocks)
            stats["recall"].append(scored["recall"])
            stats["precision"].append(scored["precision"])
            stats["lost"] += scored["recall"] < 0.9
            for kind, leaked in scored["leaked"].items():
                stats["blocks"][kind] += 1
                stats["leaks"][kind] += leaked
            if row["published"]:
                stats["dated"] += 1
                predicted = article.date if article else None
                if predicted is None:
                    stats["date_none"] += 1
                elif predicted == row["published"].isoformat():
                    stats["date_right"] += 1
                else:
                    stats["date_wrong"] += 1
    report = {"pages": len(rows), "seed": seed, "extractors": {}}
    for name, stats in results.items():
        recall, precision = statistics.mean(stats["recall"]), statistics.mean(stats["precision"])
        report["extractors"][name] = {
            "recall": round(recall, 3),
            "precision": round(precision, 3),
            "boilerplate_share": round(1 - precision, 3),
            "f1": round(2 * recall * precision / (recall + precision), 3) if recall + precision else 0.0,
            "pages_losing_over_10pct": round(stats["lost"] / len(rows), 3),
            "block_leak_rate": {k: round(stats["leaks"][k] / stats["blocks"][k], 3) for k in BLOCK_KINDS if stats["blocks"][k]},
            "date_accuracy": round(stats["date_right"] / max(1, stats["dated"]), 3),
            "date_wrong": round(stats["date_wrong"] / max(1, stats["dated"]), 3),
            "date_none": round(stats["date_none"] / max(1, stats["dated"]), 3),
            "ms_per_page": round(1000 * stats["seconds"] / len(rows), 1),
        }
    return report


def markdown_table(report: dict) -> str:
    lines = ["| extractor | token recall | precision | boilerplate share | pages losing >10% | date accuracy | wrong date | no date | ms/page |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, r in report["extractors"].items():
        lines.append(f"| {name} | {r['recall']:.3f} | {r['precision']:.3f} | {r['boilerplate_share']:.3f} | "
                     f"{r['pages_losing_over_10pct']:.3f} | {r['date_accuracy']:.3f} | {r['date_wrong']:.3f} | "
                     f"{r['date_none']:.3f} | {r['ms_per_page']:.1f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--benchmark", type=Path, required=True, help="folder with the RealTime QA *_gcs.jsonl files")
    parser.add_argument("--limit", type=int, default=None, help="at most this many articles (default: all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print the full report as JSON")
    args = parser.parse_args(argv)
    if not args.benchmark.is_dir() or not any(args.benchmark.glob("*_gcs.jsonl")):
        print(f"{args.benchmark} holds no *_gcs.jsonl files; point --benchmark at the RealTime QA past_2026 folder.",
              file=sys.stderr)
        return 2
    report = run(args.benchmark, args.limit, args.seed)
    print(json.dumps(report, indent=2) if args.json else markdown_table(report))
    if not args.json:
        for name, r in report["extractors"].items():
            print(f"{name} block leak rate: " + ", ".join(f"{k} {v:.2f}" for k, v in r["block_leak_rate"].items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
