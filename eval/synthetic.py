"""Deterministic synthetic news corpora for throughput and scale benchmarks.

Article i takes sample article i mod 5, swaps its place and person names for others drawn from fixed
lists, scales its numbers, swaps common words for synonyms, adds one attributed sentence to each
paragraph, moves its date by i days and shuffles its paragraphs, all from a seeded random generator:
the same (seed, count) always gives the same files. Without the synonyms and the added sentences, a
paragraph with no name or number came back word for word in a fifth of all articles (a 100k-passage
store held only 42k distinct passages), which no news archive looks like and which skews HNSW recall.
"""

from __future__ import annotations

import argparse
import random
import re
from datetime import date, timedelta
from pathlib import Path

from rag.documents import load_file

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "ukraine-2022"

_PLACES = ["Sievierodonetsk", "Lysychansk", "Toretsk", "Kharkiv", "Mariupol", "Pokrovsk", "Kramatorsk",
           "Slovyansk", "Vuhledar", "Kherson", "Luhansk", "Donetsk"]
_NEW_PLACES = ["Avdiivka", "Bakhmut", "Chasiv Yar", "Kupiansk", "Izium", "Lyman", "Siversk", "Kostiantynivka",
               "Orikhiv", "Robotyne", "Velyka Novosilka", "Huliaipole", "Marinka", "Soledar", "Druzhkivka",
               "Myrnohrad", "Selydove", "Kurakhove", "Zaporizhzhia", "Nikopol", "Enerhodar", "Sumy", "Okhtyrka"]
_PEOPLE = ["Haidai", "Gaidai", "Stryuk", "Pasechnik", "Filashkin", "Syniehubov", "Miroshnik", "Kotz"]
_NEW_PEOPLE = ["Kovalenko", "Bondarenko", "Tkachenko", "Kravchenko", "Oliinyk", "Shevchuk", "Polishchuk",
               "Lysenko", "Marchenko", "Savchenko", "Rudenko", "Moroz", "Pavlenko", "Levchenko"]


NEW_PEOPLE = tuple(_NEW_PEOPLE)  # names no sample article holds: a sentence with one is only in a synthetic article


_SYNONYMS = {
    "forces": ["troops", "units", "soldiers", "forces"],
    "said": ["said", "told reporters", "stated", "noted"],
    "city": ["city", "town", "municipality"],
    "fighting": ["fighting", "combat", "clashes", "battles"],
    "attack": ["attack", "assault", "offensive", "strike"],
    "residents": ["residents", "civilians", "locals", "inhabitants"],
    "region": ["region", "province", "oblast", "area"],
    "officials": ["officials", "authorities", "administrators"],
    "shelling": ["shelling", "bombardment", "artillery fire"],
    "Russian": ["Russian", "Moscow's"],
    "Ukrainian": ["Ukrainian", "Kyiv's"],
    "war": ["war", "conflict", "invasion"],
    "control": ["control", "hold", "command"],
    "key": ["key", "crucial", "important", "strategic"],
}
_ROLES = ["a local official", "a volunteer medic", "a military spokesperson", "a regional police chief",
          "a humanitarian worker", "a shopkeeper", "a school director", "an energy engineer", "a priest",
          "a railway worker", "a city council member", "a journalist", "a nurse", "a retired miner"]
_REMARKS = ["the situation had changed little since {day}", "{n} families had left since {day}",
            "power had been cut for {n} hours on {day}", "convoys had reached the area on {day}",
            "about {n} people sheltered in basements on {day}", "repairs began on {day} but stopped after {n} hours",
            "the shelling eased on {day} for the first time in {n} days", "{n} volunteers arrived on {day}"]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def _vary_words(text: str, rng: random.Random) -> str:
    for word, options in _SYNONYMS.items():
        choice = rng.choice(options)
        text = re.sub(rf"\b{word}\b", choice, text)
    return text


def _attributed_sentence(rng: random.Random) -> str:
    remark = rng.choice(_REMARKS).format(day=rng.choice(_DAYS), n=rng.randrange(2, 400))
    return f"{rng.choice(_NEW_PEOPLE)}, {rng.choice(_ROLES)} in {rng.choice(_NEW_PLACES)}, said {remark}."


def synthetic_articles(count: int, seed: int = 0):
    """Yield (file name, text) pairs for `count` synthetic articles."""
    samples = [next(load_file(path)) for path in sorted(SAMPLE.glob("*.txt"))]
    rng = random.Random(seed)
    start = date(2022, 3, 1)
    for i in range(count):
        base = samples[i % len(samples)]
        text = base.text
        for place in _PLACES:
            text = text.replace(place, rng.choice(_NEW_PLACES))
        for person in _PEOPLE:
            text = text.replace(person, rng.choice(_NEW_PEOPLE))
        factor = rng.choice([2, 3, 5, 7])
        text = re.sub(r"\b\d{1,3}\b", lambda m: str(int(m.group()) * factor), text)
        text = _vary_words(text, rng)
        paragraphs = [f"{paragraph} {_attributed_sentence(rng)}" for paragraph in text.split("\n\n")]
        rng.shuffle(paragraphs)
        day = start + timedelta(days=i % 900)
        yield f"syn{seed:02d}-{i:06d}.txt", f" date {day.isoformat()} " + "\n\n".join(paragraphs)


def write_corpus(folder: Path, count: int, seed: int = 0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in synthetic_articles(count, seed):
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description="Write a synthetic news corpus.")
    parser.add_argument("folder", type=Path)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    write_corpus(args.folder, args.count, args.seed)
    print(f"wrote {args.count} articles to {args.folder}")


if __name__ == "__main__":
    main()
