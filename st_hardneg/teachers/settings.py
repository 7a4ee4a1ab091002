"""The teachers' settings: how a dense teacher encodes and searches (:class:`DenseSettings`, and the one list of
search backends), and how a cross-encoder teacher rescores a first stage (:class:`CrossEncoderSettings`)."""

from __future__ import annotations

from dataclasses import dataclass

from st_hardneg.settings.base import Settings, check_choice, check_int, option

__all__ = [
    "ACTIVATIONS",
    "BACKENDS",
    "DTYPES",
    "CrossEncoderSettings",
    "DenseSettings",
    "check_backend",
    "parse_devices",
]

#: Search backends: exact chunked search (torch), or faiss (GPU when visible / CPU only / GPU or fail).
BACKENDS: tuple[str, ...] = ("exact", "faiss", "faiss-cpu", "faiss-gpu")


#: dtypes a dense teacher encodes in (default: the model's own; float32 for a model loaded by name).
DTYPES: tuple[str, ...] = ("float32", "bfloat16", "float16")


def parse_devices(text: str) -> str | tuple[str, ...]:
    """``--device`` on the command line: one torch device (``"cuda:0"``) or several separated by commas.

    Examples:
        >>> parse_devices("cuda:0"), parse_devices("cuda:0, cuda:1")
        ('cuda:0', ('cuda:0', 'cuda:1'))
    """
    parts = [p.strip() for p in text.split(",")]
    if not all(parts):
        raise ValueError(f"expected a device such as 'cuda:0' or several separated by commas, got {text!r}")
    return parts[0] if len(parts) == 1 else tuple(parts)


def check_backend(backend: str) -> str:
    """The one check of a search backend name."""
    check_choice("backend", backend, BACKENDS)
    return backend


@dataclass(frozen=True)
class DenseSettings(Settings):
    """Options of :class:`~st_hardneg.teachers.DenseTeacher`.

    Examples:
        >>> DenseSettings(device=["cuda:0", "cuda:1"], dtype="bfloat16").device
        ('cuda:0', 'cuda:1')
        >>> DenseSettings(backend="fais")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: backend must be one of 'exact', 'faiss', ...; got 'fais' (did you mean 'faiss'?)
    """

    query_prompt: str | None = option(None, "text put before every anchor when encoding", metavar="TEXT")
    query_prompt_name: str | None = option(None, "name of one of the model's prompts to use for anchors")
    corpus_prompt: str | None = option(None, "text put before every document when encoding", metavar="TEXT")
    corpus_prompt_name: str | None = option(None, "name of one of the model's prompts to use for documents")
    batch_size: int = option(32, "encoding batch size")
    backend: str = option("exact", "top-k search: exact chunked search, or faiss", choices=BACKENDS)
    cache_folder: str | None = option(
        None, "cache embeddings here (keyed by model weights, prompt and texts)", metavar="DIR"
    )
    cache_chunk_size: int = option(
        16384, "texts encoded between two checkpoints of the embedding cache: a killed encode resumes from the last"
    )
    device: str | tuple[str, ...] | None = option(
        None,
        "torch device to encode and search on ('cuda:0'), or several to encode on with sentence-transformers' "
        "multi-process pool ('cuda:0,cuda:1'; exact search runs on the first); default: the model's device",
        parse=parse_devices,
        metavar="DEVICE[,DEVICE...]",
    )
    dtype: str | None = option(
        None,
        "dtype the model encodes in (a model given by name is loaded in it); default: the model's own",
        choices=DTYPES,
    )
    query_chunk_size: int = option(1024, "anchors per exact-search block (memory: query x corpus chunk)")
    corpus_chunk_size: int = option(65536, "documents per exact-search block")

    def __post_init__(self) -> None:
        for role in ("query", "corpus"):
            text, name = getattr(self, f"{role}_prompt"), getattr(self, f"{role}_prompt_name")
            if text is not None and name is not None:
                raise ValueError(f"give {role}_prompt or {role}_prompt_name, not both ({text!r} and {name!r})")
            for field, value in ((f"{role}_prompt", text), (f"{role}_prompt_name", name)):
                if value is not None and not isinstance(value, str):
                    raise TypeError(f"{field} must be a string, got {value!r}")
        check_int("batch_size", self.batch_size, minimum=1)
        check_backend(self.backend)
        bad_device = f"device must be a device name or a list of them, such as 'cuda:0', got {self.device!r}"
        if isinstance(self.device, list | tuple):
            devices = tuple(self.device)
            if not devices or not all(isinstance(d, str) and d.strip() for d in devices):
                raise TypeError(bad_device)
            object.__setattr__(self, "device", devices[0] if len(devices) == 1 else devices)
        elif self.device is not None and (not isinstance(self.device, str) or not self.device.strip()):
            raise TypeError(bad_device)
        check_choice("dtype", self.dtype, DTYPES, optional=True)
        check_int("cache_chunk_size", self.cache_chunk_size, minimum=1)
        check_int("query_chunk_size", self.query_chunk_size, minimum=1)
        check_int("corpus_chunk_size", self.corpus_chunk_size, minimum=1)
        if self.cache_folder is not None:
            object.__setattr__(self, "cache_folder", str(self.cache_folder))


#: What a cross-encoder's logit becomes: kept as is, or squashed into (0, 1).
ACTIVATIONS: tuple[str, ...] = ("sigmoid", "raw")


@dataclass(frozen=True)
class CrossEncoderSettings(Settings):
    """Options of :class:`~st_hardneg.teachers.CrossEncoderTeacher`.

    Examples:
        >>> CrossEncoderSettings(depth=200, activation="raw").to_dict()
        {'depth': 200, 'activation': 'raw', 'batch_size': 32}
        >>> CrossEncoderSettings(activation="softmax")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: activation must be one of 'sigmoid', 'raw'; got 'softmax'
    """

    depth: int | None = option(
        None,
        "first-stage candidates the cross-encoder rescores per anchor; default as many as the pool keeps",
        cli_name="cross-encoder-depth",
    )
    activation: str = option(
        "sigmoid",
        "the cross-encoder's score: its logit squashed into (0, 1) by a sigmoid (fits percentage and absolute "
        "thresholds), or the raw logit",
        choices=ACTIVATIONS,
        cli_name="cross-encoder-activation",
    )
    batch_size: int = option(32, "cross-encoder prediction batch size", cli_name="cross-encoder-batch-size")

    def __post_init__(self) -> None:
        check_int("depth", self.depth, minimum=1, optional=True)
        check_choice("activation", self.activation, ACTIVATIONS)
        check_int("batch_size", self.batch_size, minimum=1)
