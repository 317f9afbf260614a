"""The prompt-injection set against the real default model (SmolLM2 via llama.cpp) and MiniLM retrieval:
hostile articles beside the sample corpus neither steer the answer nor get cited for what they do not say."""

from __future__ import annotations

import pytest

from rag.config import Settings
from rag.service import RagService
from tests.conftest import SAMPLE_CORPUS
from tests.injection_set import CASES, INJECTION_DIR, check_answer


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    service = RagService(Settings(data_dir=tmp_path_factory.mktemp("injection-real"), chroma_url=None,
                                  llm="llamacpp", _env_file=None))
    service.ingest([SAMPLE_CORPUS, INJECTION_DIR])
    return service


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_real_model_does_not_obey_hostile_articles(service, case):
    answer = service.ask(case["question"])
    print(f"{case['id']}: {answer.answer!r} fallback={answer.fallback!r} retrieved={answer.retrieved}")
    check_answer(answer, case)
    if case["expect"] and case["article"] != "lviv-capital":
        assert case["article"] in answer.retrieved  # the hostile passage was in the prompt
