"""Loading (anchor, positive) pairs, and optionally a corpus, from files, saved datasets or BEIR folders."""

from __future__ import annotations

import gzip
import logging
from pathlib import Path
from typing import NamedTuple

import datasets

from st_hardneg.columns import id_columns, resolve_columns
from st_hardneg.data.beir import is_beir_folder, load_beir
from st_hardneg.data.corpus import load_corpus
from st_hardneg.data.formats import file_loader

logger = logging.getLogger(__name__)

ANCHOR = "anchor"
POSITIVE = "positive"
ANCHOR_ID = "anchor_id"
POSITIVE_ID = "positive_id"


class LoadedData(NamedTuple):
    """Pairs to mine hard negatives for, and the corpus to mine them from.

    Attributes:
        pairs: A dataset with the text columns ``"anchor"`` and ``"positive"`` (a BEIR folder's also has the
            ``"anchor_id"`` and ``"positive_id"`` of its queries and documents); an anchor with several positives
            has one row per positive.
        corpus: The document texts (a BEIR folder's as ``{id: text}``, in file order), or ``None`` when the source
            has no separate corpus.
    """

    pairs: datasets.Dataset
    corpus: list[str] | dict[str, str] | None


def load_pairs(
    path: str | Path,
    *,
    split: str = "train",
    anchor_column: str | None = None,
    positive_column: str | None = None,
    corpus_path: str | Path | None = None,
    keep_columns: tuple[str, ...] | list[str] = (),
) -> LoadedData:
    """Loads (anchor, positive) pairs and, where there is one, a corpus.

    ``path`` may be:

    * a ``.json``, ``.jsonl``, ``.json.gz``, ``.jsonl.gz``, ``.csv``, ``.tsv`` or ``.parquet`` file of pairs
      (``split`` is not used);
    * a folder written by ``Dataset.save_to_disk`` (``split`` is not used) or ``DatasetDict.save_to_disk``
      (``split`` picks the split);
    * a BEIR folder (``corpus.jsonl[.gz]``, ``queries.jsonl``, ``qrels/{split}.tsv``): one pair per judged
      (query, document) with score > 0, the query text as anchor and the document text as positive, grouped by
      query in order of first appearance, with the query's and the document's ids (``anchor_id``, ``positive_id``);
      the corpus is every corpus document, ``{id: text}``. A document's text is
      ``title + " " + text`` when its title is non-empty, else its text, as in sentence-transformers'
      ``InformationRetrievalEvaluator``.

    For files and saved datasets, the anchor and positive columns are chosen by the project's one column rule
    (:func:`st_hardneg.columns.resolve_columns`: the names given, else ``"anchor"`` and ``"positive"``, else the
    first two text columns). They keep their names (so the mined set does too). Their id columns (by the rule of
    :func:`st_hardneg.columns.id_columns`) and the columns named by ``keep_columns`` are kept after them; other
    columns are dropped.

    Args:
        path: The pairs file, saved dataset folder or BEIR folder.
        split: The DatasetDict split or BEIR qrels split to read.
        anchor_column: The column holding anchors (files and saved datasets only).
        positive_column: The column holding positives (files and saved datasets only).
        corpus_path: A separate corpus file for a pairs file or saved dataset, read with
            :func:`~st_hardneg.data.corpus.load_corpus` (``.txt`` one document per line, or a
            jsonl/json/csv/tsv/parquet with ``text`` and optional ``title``). Not allowed with a BEIR folder.
        keep_columns: Further columns to keep (files and saved datasets), e.g. for ``PoolSettings.keep_columns``.

    Returns:
        The pairs and the corpus (``None`` for a pairs source without ``corpus_path``).

    Raises:
        FileNotFoundError: If ``path`` or ``corpus_path`` does not exist, or a BEIR folder lacks the split.
        ValueError: For an unsupported file type or folder, a missing DatasetDict split, missing or non-text
            columns, missing values, a BEIR qrels line naming an unknown id, or no pairs at all.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"Pairs path not found: {path}")
    if path.is_dir() and is_beir_folder(path):
        if anchor_column is not None or positive_column is not None or corpus_path is not None:
            raise ValueError(
                f"{path} is a BEIR folder: anchor_column, positive_column and corpus_path do not apply to it"
            )
        return _load_beir_pairs(path, split)
    table = _load_saved(path, split) if path.is_dir() else _load_file(path)
    if len(table) == 0:
        raise ValueError(f"No pairs in {path}: it has no rows")
    pairs = _select_pair_columns(table, anchor_column, positive_column, source=path, keep_columns=keep_columns)
    corpus = load_corpus(corpus_path) if corpus_path is not None else None
    logger.info(
        "Loaded %d pairs (%d distinct anchors) from %s%s",
        len(pairs),
        len(set(pairs[pairs.column_names[0]])),
        path,
        "" if corpus is None else f", and {len(corpus)} corpus documents from {corpus_path}",
    )
    return LoadedData(pairs=pairs, corpus=corpus)


def _load_beir_pairs(folder: Path, split: str) -> LoadedData:
    beir = load_beir(folder, split)
    anchors: list[str] = []
    positives: list[str] = []
    anchor_ids: list[str] = []
    positive_ids: list[str] = []
    for query_id, judged in beir.qrels.items():
        for doc_id, score in judged.items():
            if score > 0:
                anchors.append(beir.queries[query_id])
                positives.append(beir.corpus[doc_id])
                anchor_ids.append(query_id)
                positive_ids.append(doc_id)
    if not anchors:
        raise ValueError(f"BEIR folder {folder}: split {split!r} has no qrels with score > 0")
    repeated = len(anchors) - len(set(zip(anchors, positives, strict=True)))
    if repeated:
        logger.warning(
            "BEIR folder %s (split %r): %d pairs repeat an earlier (anchor, positive) pair (distinct ids with the "
            "same text); kept them, one pair per qrels line",
            folder,
            split,
            repeated,
        )
    pairs = datasets.Dataset.from_dict(
        {ANCHOR: anchors, POSITIVE: positives, ANCHOR_ID: anchor_ids, POSITIVE_ID: positive_ids}
    )
    logger.info(
        "Loaded %d pairs over %d queries and %d corpus documents from BEIR folder %s (split %r)",
        len(pairs),
        sum(1 for judged in beir.qrels.values() if any(score > 0 for score in judged.values())),
        len(beir.corpus),
        folder,
        split,
    )
    return LoadedData(pairs=pairs, corpus=beir.corpus)


def _load_file(path: Path) -> datasets.Dataset:
    builder, kwargs = file_loader(path)
    if _is_blank(path):
        raise ValueError(f"No pairs in {path}: the file is empty")
    try:
        return datasets.load_dataset(builder, data_files=str(path), split="train", **kwargs)
    except (StopIteration, ValueError, datasets.exceptions.DatasetGenerationError) as err:
        if "corresponds to no data" in str(err):
            raise ValueError(f"No pairs in {path}: it has no rows") from None
        cause = err.__cause__ or err
        raise ValueError(f"Could not read pairs from {path}: {type(cause).__name__}: {cause}") from None


def _is_blank(path: Path) -> bool:
    """Whether a (possibly gzipped) text file holds nothing but whitespace; reads only up to the first character."""
    if path.suffix == ".parquet":
        return path.stat().st_size == 0
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as handle:
        while chunk := handle.read(65536):
            if chunk.strip():
                return False
    return True


def _load_saved(folder: Path, split: str) -> datasets.Dataset:
    if not (folder / "dataset_dict.json").is_file() and not (folder / "state.json").is_file():
        raise ValueError(
            f"{folder} is neither a folder written by Dataset/DatasetDict.save_to_disk nor a BEIR folder "
            "(no dataset_dict.json, state.json or corpus.jsonl[.gz])"
        )
    loaded = datasets.load_from_disk(str(folder))
    if isinstance(loaded, datasets.DatasetDict):
        if split not in loaded:
            raise ValueError(f"Split {split!r} not in {folder}; available splits: {sorted(loaded)}")
        return loaded[split]
    return loaded


def _select_pair_columns(
    table: datasets.Dataset,
    anchor_column: str | None,
    positive_column: str | None,
    *,
    source: Path,
    keep_columns: tuple[str, ...] | list[str] = (),
) -> datasets.Dataset:
    anchor_column, positive_column = resolve_columns(table, anchor_column, positive_column, source=str(source))
    for name in keep_columns:
        if name not in table.column_names:
            names = table.column_names
            raise ValueError(f"keep_columns: {name!r} is not a column of {source}; its columns are {names}")
    ids = [c for c in id_columns(table.column_names, anchor_column, positive_column) if c is not None]
    extra = [c for c in dict.fromkeys([*ids, *keep_columns]) if c not in (anchor_column, positive_column)]
    table = table.select_columns([anchor_column, positive_column, *extra])
    for column in (anchor_column, positive_column):
        feature = table.features[column]
        if not isinstance(feature, datasets.Value):
            raise ValueError(f"{source}: column {column!r} must hold texts, not {feature}")
        if feature.dtype not in ("string", "large_string"):
            table = table.cast_column(column, datasets.Value("string"))
        nulls = table.data.column(column).null_count
        if nulls:
            first = table.data.column(column).is_null().to_pylist().index(True)
            raise ValueError(f"{source}: column {column!r} has {nulls} missing value(s), the first in row {first}")
    return table
