"""The sample corpus's Sievierodonetsk briefing with the real embedding model (issue 6's bar)."""

from __future__ import annotations

import re

from rag.config import Settings
from rag.service import RagService
from tests.conftest import SAMPLE_CORPUS


def test_battle_for_sievierodonetsk(tmp_path):
    service = RagService(Settings(data_dir=tmp_path, chroma_url=None, _env_file=None))
    service.ingest([SAMPLE_CORPUS])
    briefing = service.brief("Battle for Sievierodonetsk")
    timeline = briefing.timeline
    regained = [i for i, e in enumerate(timeline) if re.search(r"recaptur|pushed them back", e["text"])]
    withdrawn = [i for i, e in enumerate(timeline) if re.search(r"withdraw|retreat|pull out", e["text"]) and e["date"] >= "2022-06-20"]
    assert regained and withdrawn and min(regained) < max(withdrawn)
    assert timeline[min(regained)]["date"] < "2022-06-10" <= timeline[max(withdrawn)]["date"]
    speakers = " ".join(v["speaker"] + " " + v["role"] for v in briefing.voices)
    assert re.search(r"Haidai|Gaidai", speakers) and "Stryuk" in speakers
    assert len({s["article_id"] for s in briefing.sources}) >= 3
    data = briefing.to_json()
    items = data["summary"] + data["key_points"] + data["timeline"] + data["voices"]
    items += [side for d in data["disagreements"] for side in d["sides"]]
    for item in items:
        assert item["citations"], item
        for citation in item["citations"]:
            assert citation["quote"] in service.article(citation["article_id"])["text"]
