"""The HTML extraction benchmark's page builder and scorer (eval/html_extraction.py), on made-up text."""

from __future__ import annotations

import random
from datetime import date

from eval.html_extraction import BLOCK_KINDS, score_page, wrap_page

ARTICLE = ("The river authority opened the northern sluice on Thursday morning.\n\n"
           "Farmers downstream said the water reached their fields by noon.")


def test_wrapped_page_holds_the_article_and_every_kind_of_boilerplate():
    page, blocks = wrap_page("Sluice opened", ARTICLE, date(2026, 1, 8), random.Random(3))
    assert "northern sluice" in page and "reached their fields" in page
    assert {kind for kind, texts in blocks.items() if texts} >= set(BLOCK_KINDS) - {"ad"}


def test_score_counts_recall_precision_and_leaked_blocks():
    blocks = {"nav": ["Home World Sports"], "footer": ["About us Contact"]}
    perfect = score_page(ARTICLE, ARTICLE, blocks)
    assert perfect["recall"] == 1.0 and perfect["precision"] == 1.0 and not any(perfect["leaked"].values())
    noisy = score_page(ARTICLE, "Home World Sports\n" + ARTICLE.split("\n\n")[0], blocks)
    assert noisy["recall"] < 0.6 and noisy["precision"] < 1.0
    assert noisy["leaked"] == {"nav": True, "footer": False}
