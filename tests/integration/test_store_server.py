"""The store contract on a real Chroma server started on loopback."""

import itertools
import uuid

import pytest

from tests.store_contract import StoreContract
from vectorstore.chroma import ChromaStore, StoreUnavailable

_names = itertools.count()


class TestServerStore(StoreContract):
    @pytest.fixture
    def make_store(self, chroma_server):
        made = []

        def make(name=None, embedding_name="", reuse=None):
            name = reuse.name if reuse is not None else (name or f"t{uuid.uuid4().hex[:10]}")
            store = ChromaStore(url=chroma_server, name=name, embedding_name=embedding_name)
            made.append(store)
            return store

        yield make
        for store in made[:1]:
            store.drop()


def test_unreachable_server_gives_one_clear_sentence():
    from tests.integration.conftest import free_port

    store = ChromaStore(url=f"http://127.0.0.1:{free_port()}", name="nothing")
    with pytest.raises(StoreUnavailable, match="not reachable"):
        store.count_passages()
