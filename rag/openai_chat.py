"""OpenAI chat-completions shapes for newsrag's answers: messages in, a completion or its chunks out."""

from __future__ import annotations

import json
import re
import time
import uuid

from rag.answer import Answer


def message_text(content) -> str:
    """OpenAI message content: a string or a list of {"type": "text", "text": ...} parts."""
    if isinstance(content, list):
        return " ".join(part.get("text", "") for part in content if isinstance(part, dict))
    return content or ""


def chat_turns(messages: list[tuple[str, object]]) -> list[dict]:
    """The conversation as newsrag's turns: user and assistant messages only (system prompts are not ours to follow)."""
    return [{"role": role, "content": message_text(content)} for role, content in messages if role in ("user", "assistant")]


class ChatReply:
    """One answer as an OpenAI chat completion, whole or as stream chunks; the citations, the abstention
    and the fallback ride along in extra fields."""

    def __init__(self, answer: Answer, model: str):
        self.answer = answer
        self.model = model
        self.id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        self.created = int(time.time())
        payload = answer.to_json()
        self.extra = {"citations": payload["citations"], "abstained": payload["abstained"], "fallback": payload["fallback"]}

    def completion(self) -> dict:
        return {
            "id": self.id, "object": "chat.completion", "created": self.created, "model": self.model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": self.answer.answer}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
            **self.extra,
        }

    def chunks(self):
        """Server-sent events of the verified answer, word by word. Only the verified answer is streamed: an
        OpenAI client shows the deltas as they come, and an unverified draft must not reach it."""
        base = {"id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model}

        def chunk(delta: dict, finish_reason: str | None = None, **extra) -> dict:
            body = {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}], **extra}
            return {"data": json.dumps(body, ensure_ascii=False)}

        yield chunk({"role": "assistant"})
        for piece in re.findall(r"\S+\s*", self.answer.answer):
            yield chunk({"content": piece})
        yield chunk({}, "stop", **self.extra)
        yield {"data": "[DONE]"}
