"""The embedding cache is checkpointed in chunks: a killed encode resumes from the finished chunks and ends with the
embeddings of an uninterrupted one."""

import numpy as np
import pytest

from st_hardneg.teachers import DenseTeacher
from st_hardneg.teachers.cache import EmbeddingCache
from tests.core.test_teachers import DOCS


class Interrupted(Exception):
    pass


def rows(start, stop):
    return np.arange(start, stop, dtype=np.float32)[:, None] * np.ones((1, 3), np.float32)


def test_a_killed_encode_resumes_from_the_finished_chunks(tmp_path):
    cache = EmbeddingCache(tmp_path)
    calls = []

    def dies_at_row_6(start, stop):
        if start >= 6:
            raise Interrupted
        calls.append((start, stop))
        return rows(start, stop)

    with pytest.raises(Interrupted):
        cache.get_or_compute("k", dies_at_row_6, num_rows=10, chunk_size=3)
    assert calls == [(0, 3), (3, 6)]
    assert not cache.path("k").exists()  # no complete matrix yet: nothing can read a partial one as done
    calls.clear()

    def counted(start, stop):
        calls.append((start, stop))
        return rows(start, stop)

    emb = cache.get_or_compute("k", counted, num_rows=10, chunk_size=3)
    assert calls == [(6, 9), (9, 10)]  # only the unfinished chunks
    np.testing.assert_array_equal(emb, rows(0, 10))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k.npy"]  # chunks joined, then removed
    calls.clear()
    np.testing.assert_array_equal(cache.get_or_compute("k", counted, num_rows=10, chunk_size=3), rows(0, 10))
    assert calls == []


def test_chunks_of_another_chunk_size_are_discarded(tmp_path):
    cache = EmbeddingCache(tmp_path)

    def dies(start, stop):
        if start >= 4:
            raise Interrupted
        return rows(start, stop)

    with pytest.raises(Interrupted):
        cache.get_or_compute("k", dies, num_rows=10, chunk_size=4)
    calls = []

    def counted(start, stop):
        calls.append((start, stop))
        return rows(start, stop)

    np.testing.assert_array_equal(cache.get_or_compute("k", counted, num_rows=10, chunk_size=5), rows(0, 10))
    assert calls == [(0, 5), (5, 10)]


def test_a_truncated_chunk_is_encoded_again(tmp_path):
    cache = EmbeddingCache(tmp_path)

    def dies(start, stop):
        if start >= 4:
            raise Interrupted
        return rows(start, stop)

    with pytest.raises(Interrupted):
        cache.get_or_compute("k", dies, num_rows=6, chunk_size=2)
    chunk = tmp_path / "k.chunks" / f"{2:012d}-{4:012d}.npy"
    chunk.write_bytes(chunk.read_bytes()[:40])  # damaged on disk after it was written
    calls = []

    def counted(start, stop):
        calls.append((start, stop))
        return rows(start, stop)

    np.testing.assert_array_equal(cache.get_or_compute("k", counted, num_rows=6, chunk_size=2), rows(0, 6))
    assert calls == [(2, 4), (4, 6)]


def test_the_single_call_form_is_kept(tmp_path):
    cache = EmbeddingCache(tmp_path)
    np.testing.assert_array_equal(cache.get_or_compute("k", lambda: rows(0, 4)), rows(0, 4))
    np.testing.assert_array_equal(cache.get_or_compute("k", lambda: 1 / 0), rows(0, 4))


class DiesAfter:
    """The model, killed after ``calls`` encode calls."""

    def __init__(self, model, calls):
        self._model, self.calls = model, calls

    def __getattr__(self, name):
        return getattr(self._model, name)

    def encode_document(self, *args, **kwargs):
        if self.calls == 0:
            raise Interrupted
        self.calls -= 1
        return self._model.encode_document(*args, **kwargs)


def test_a_dense_teacher_resumes_a_killed_encode(minilm, tmp_path):
    docs = DOCS * 3  # 15 texts, chunks of 4: 4 chunks
    with pytest.raises(Interrupted):
        DenseTeacher(DiesAfter(minilm, 2), cache_folder=tmp_path, cache_chunk_size=4).encode(docs, "document", False)
    assert len(list(tmp_path.glob("*.chunks/*.npy"))) == 2
    resumed_model = DiesAfter(minilm, 2)  # only the 2 missing chunks may be encoded now
    emb = DenseTeacher(resumed_model, cache_folder=tmp_path, cache_chunk_size=4).encode(docs, "document", False)
    assert resumed_model.calls == 0
    want = minilm.encode_document(docs, normalize_embeddings=True, convert_to_numpy=True)
    np.testing.assert_allclose(emb, want, atol=1e-5)
