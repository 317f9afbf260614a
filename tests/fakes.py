"""Test doubles that plug in where real backends do: the scripted chat model behind NEWSRAG_LLM=fake.

tests/conftest.py registers it, so every test (and every in-process CLI or API call a test makes) can
choose it through settings. A subprocess a test starts does not inherit the registration; no test runs
the fake backend in one.
"""

from __future__ import annotations

import re
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult


class FakeChatModel(BaseChatModel):
    """Deterministic stand-in for tests: scripted replies, or else the first sentence of passage [1].

    With `replies`, each call returns the next one (cycling), so tests can feed the chain any output
    a real model might produce, invented numbers included.
    """

    replies: list[str] = []
    calls: int = 0

    @property
    def _llm_type(self) -> str:
        return "newsrag-fake"

    def _reply(self, messages: list[BaseMessage]) -> str:
        self.calls += 1
        if self.replies:
            return self.replies[(self.calls - 1) % len(self.replies)]
        prompt = str(messages[-1].content)
        match = re.search(r"^\[1\][^\n]*?\)\s*(.+?[.!?])(?=\s|$)", prompt, re.MULTILINE)
        if "Standalone question:" in prompt:
            return prompt.split("Follow-up question:", 1)[1].split("\n", 1)[0].strip()
        return f"{match.group(1)} [1]" if match else "The archive does not say."

    def _generate(self, messages: list[BaseMessage], stop=None, run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=self._reply(messages)))])

    def _stream(self, messages: list[BaseMessage], stop=None, run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any):
        for piece in re.findall(r"\S+\s*", self._reply(messages)):
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=piece))
            if run_manager:
                run_manager.on_llm_new_token(piece, chunk=chunk)
            yield chunk


def register_fakes() -> None:
    """Make `fake` an LLM backend of this process."""
    from rag.llm import register_backend

    register_backend("fake", lambda settings: FakeChatModel())


class FakeClock:
    """time.perf_counter for a module under test: it moves only when a fake advances `now`, so measured
    rates are exact."""

    def __init__(self) -> None:
        self.now = 0.0

    def perf_counter(self) -> float:
        return self.now
