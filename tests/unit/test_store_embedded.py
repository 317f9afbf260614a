"""The store contract on embedded Chroma (PersistentClient in a temp folder)."""

import itertools

import pytest

from tests.store_contract import StoreContract
from vectorstore.chroma import ChromaStore

_names = itertools.count()


class TestEmbeddedStore(StoreContract):
    @pytest.fixture
    def make_store(self, tmp_path):
        def make(name=None, embedding_name="", reuse=None):
            if reuse is not None:
                return ChromaStore(path=reuse.path, name=reuse.name, embedding_name=embedding_name)
            return ChromaStore(path=tmp_path / f"chroma{next(_names)}", name=name or "test", embedding_name=embedding_name)

        return make
