"""Prompt templates, kept as data files and loaded into LangChain chat prompt templates.

A file holds a system part and a human part separated by a line `---human---`; `{name}` fields are
template variables.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from langchain_core.prompts import ChatPromptTemplate

PROMPTS = Path(__file__).resolve().parent
SEPARATOR = "---human---"


@lru_cache(maxsize=None)
def load_prompt(name: str) -> ChatPromptTemplate:
    """The chat prompt in prompts/<name>.txt."""
    path = PROMPTS / f"{name}.txt"
    system, sep, human = path.read_text(encoding="utf-8").partition(SEPARATOR)
    if not sep:
        raise ValueError(f"{path} has no '{SEPARATOR}' line between the system and human parts.")
    return ChatPromptTemplate.from_messages([("system", system.strip()), ("human", human.strip())])
