"""The naive baseline: the plain LangChain tutorial chain over the same passages and the same model.

Dense retrieval only (Chroma.from_documents, top 4), one prompt, the raw model output as the answer:
no hybrid search, no evidence check, no citation verification, no abstention logic.
"""

from __future__ import annotations

import uuid

from langchain_chroma import Chroma
from langchain_core.documents import Document
from langchain_core.output_parsers import StrOutputParser

from prompts import load_prompt
from rag.llm import make_llm
from rag.service import RagService


class NaiveChain:
    """The tutorial chain over the service's passages. `embeddings` and `llm` default to the service's own
    (the eval compares like with like); the performance benchmark passes the tutorial's own instead."""

    def __init__(self, service: RagService, backend: str | None = None, *, embeddings=None, llm=None):
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        documents = [
            Document(page_content=record["text"], metadata={"article_id": record["metadata"]["article_id"]})
            for page in service.store.iter_passages()
            for record in page
        ]
        client = chromadb.EphemeralClient(settings=ChromaSettings(anonymized_telemetry=False))
        self.store = Chroma.from_documents(documents, embedding=embeddings or service.embeddings, client=client,
                                           collection_name=f"naive-{uuid.uuid4().hex[:8]}")
        self.retriever = self.store.as_retriever(search_kwargs={"k": 4})
        llm = llm or make_llm(service.settings, backend)
        self.chain = load_prompt("naive") | llm | StrOutputParser()

    def _inputs(self, question: str) -> tuple[dict, list[Document]]:
        docs = self.retriever.invoke(question)
        return {"context": "\n\n".join(doc.page_content for doc in docs), "question": question}, docs

    def ask(self, question: str) -> tuple[str, list[Document]]:
        inputs, docs = self._inputs(question)
        return self.chain.invoke(inputs).strip(), docs

    def stream(self, question: str):
        """The answer's text chunks as the model writes them."""
        yield from self.chain.stream(self._inputs(question)[0])
