"""Issue 18, item 8: a corpus given as a ``datasets.Dataset`` is read from Arrow in chunks on every path of a build
(checks, layout, fingerprints, dense encoding, BM25 tokenizing, the pool's texts), never as one list of every text;
pairs can be an ``IterableDataset`` for the map miner."""

import datasets
import numpy as np
import pytest

from st_hardneg import CandidatePool, HardNegativeMiner
from st_hardneg.data import arrow_texts
from st_hardneg.data.arrow_texts import ArrowTexts
from st_hardneg.pool.inputs import build_layout, read_corpus
from st_hardneg.teachers import DenseTeacher

WORDS = "apple sky grass river stone cloud fruit lawn blue green red water".split()


class WordVectors:
    """A tiny random dense model: a text's embedding is the normalised sum of its words' fixed random vectors."""

    similarity_fn_name = "cosine"
    prompts: dict = {}

    def __init__(self):
        table = np.random.default_rng(0).standard_normal((len(WORDS), 8)).astype(np.float32)
        self.vectors = dict(zip(WORDS, table, strict=True))

    def encode(self, texts, **kwargs):
        out = np.stack([sum(self.vectors[w] for w in t.split()) for t in texts]).astype(np.float32)
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    encode_query = encode_document = encode


def documents(n=40):
    g = np.random.default_rng(1)
    return [" ".join(g.choice(WORDS, 4)) + f" {WORDS[i % len(WORDS)]}" for i in range(n)]


@pytest.fixture()
def on_disk(tmp_path):
    texts = documents()
    ds = datasets.Dataset.from_dict({"_id": [f"d{i}" for i in range(len(texts))], "text": texts})
    ds.save_to_disk(str(tmp_path / "corpus"), max_shard_size="2KB")  # several Arrow files and chunks
    anchors = [" ".join(t.split()[:2]) for t in texts[:10]]
    pairs = datasets.Dataset.from_dict({"anchor": anchors, "positive": texts[:10]})
    return datasets.load_from_disk(str(tmp_path / "corpus")), pairs, texts


def test_the_arrow_layout_is_the_list_layout_worked_out_by_hand():
    corpus = ArrowTexts(datasets.Dataset.from_dict({"text": ["a", "b", "a", "c"]}).data.column("text"))
    layout = build_layout(["q1", "q2", "q3"], ["b", "z", "z"], corpus)
    assert list(layout.corpus) == ["a", "b", "c", "z"]  # distinct in first-seen order, then the added positive
    assert layout.row_positive.tolist() == [1, 3, 3]
    assert (layout.duplicate_corpus_texts, layout.added_positives) == (1, 1)
    assert layout.corpus_first.tolist() == [0, 1, 3]  # where each distinct text first appeared (its id's row)
    listed = build_layout(["q1", "q2", "q3"], ["b", "z", "z"], ["a", "b", "a", "c"])
    assert listed.corpus == list(layout.corpus) and listed.corpus_first.tolist() == [0, 1, 3]


def test_a_dataset_corpus_is_checked_chunk_by_chunk_and_errors_name_the_entry():
    ds = datasets.Dataset.from_dict({"text": ["fine", "also fine", "   "]})
    with pytest.raises(ValueError, match=r"corpus\[2\]: the corpus entry is '   '"):
        read_corpus(ds)
    assert isinstance(read_corpus(ds.select([0, 1])), ArrowTexts)


@pytest.mark.parametrize("teacher", ["bm25", "dense"])
def test_a_dataset_corpus_is_never_read_whole(on_disk, teacher, monkeypatch):
    corpus, pairs, texts = on_disk
    chunk = 8
    monkeypatch.setattr(arrow_texts, "CHUNK", chunk)
    monkeypatch.setattr("st_hardneg.teachers.bm25._CHUNK", chunk)
    reads = []
    slice_of = ArrowTexts.__getitem__

    def spy(self, index):
        value = slice_of(self, index)
        reads.append(len(value) if isinstance(index, slice) else 1)
        return value

    monkeypatch.setattr(ArrowTexts, "__getitem__", spy)
    make = (lambda: DenseTeacher(WordVectors(), cache_chunk_size=chunk)) if teacher == "dense" else (lambda: "bm25")
    pool = CandidatePool.build(pairs, make(), corpus=corpus, depth=5, show_progress=False)
    assert reads and max(reads) <= chunk  # every text was read in slices of at most `chunk`
    listed = CandidatePool.build(pairs, make(), corpus=texts, depth=5, show_progress=False)
    assert pool.corpus.to_pylist() == listed.corpus.to_pylist()
    assert pool.config["corpus_fingerprint"] == listed.config["corpus_fingerprint"]
    name = pool.teacher_candidates().name
    assert np.array_equal(pool.teachers[name].candidates, listed.teachers[name].candidates)
    kwargs = dict(num_negatives=2, output_format="triplet", show_progress=False)
    assert pool.select(**kwargs).to_list() == listed.select(**kwargs).to_list()


def test_the_map_miner_takes_an_iterable_dataset(on_disk):
    corpus, pairs, _ = on_disk
    miner = HardNegativeMiner("bm25", corpus=corpus, num_negatives=2, output_format="n-tuple")
    streamed = pairs.to_iterable_dataset(num_shards=2).map(miner, batched=True, batch_size=4)
    mined = list(streamed)
    assert len(mined) == len(pairs)
    again = HardNegativeMiner("bm25", corpus=corpus, num_negatives=2, output_format="n-tuple")
    assert mined == pairs.map(again, batched=True, batch_size=4).to_list()
