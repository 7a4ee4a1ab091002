"""The parquet layout ``datasets`` uses for Hub datasets, written to a local folder.

``Dataset.push_to_hub(repo, config_name, split=...)`` writes each split as
``<data_dir>/<split>-<index:05d>-of-<num_shards:05d>.parquet`` (``data_dir`` is ``"data"`` for the ``"default"``
configuration, the configuration's name otherwise; one shard per 500 MB of Arrow data) and records the files in the
README's YAML: ``configs`` (:class:`datasets.utils.metadata.MetadataConfigs`, which ``load_dataset`` reads) and
``dataset_info`` (:class:`datasets.info.DatasetInfosDict`: features, split sizes). :func:`write_parquet_layout`
writes the same files and fills the same metadata with ``datasets``' own classes, so ``load_dataset(folder_or_repo,
config, split=...)`` gives back the rows and columns that were saved.

With several configurations and none named ``"default"``, the first one given is marked ``default: true`` (so
``load_dataset(repo)`` without a configuration name works, as the Hub viewer's first tab).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from st_hardneg.hub.contents import HubPart

__all__ = ["ParquetLayout", "data_dir", "write_parquet_layout"]

#: ``datasets.config.MAX_SHARD_SIZE``: the Arrow size of one parquet shard.
MAX_SHARD_SIZE = "500MB"


def data_dir(config: str) -> str:
    """The folder of a configuration's files, as ``Dataset.push_to_hub`` names it.

    Examples:
        >>> data_dir("default"), data_dir("topk-percpos-0.95")
        ('data', 'topk-percpos-0.95')
    """
    return "data" if config == "default" else config


@dataclass
class ParquetLayout:
    """What :func:`write_parquet_layout` wrote.

    Attributes:
        files: ``{part key: [parquet paths relative to the folder]}`` per ``config/split``.
        metadata_configs: the ``configs`` YAML (:class:`~datasets.utils.metadata.MetadataConfigs`).
        dataset_infos: the ``dataset_info`` YAML (:class:`~datasets.info.DatasetInfosDict`).
    """

    files: dict[str, list[str]] = field(default_factory=dict)
    metadata_configs: Any = None
    dataset_infos: Any = None

    def to_card_data(self, card_data: Any) -> None:
        """Write ``configs`` and ``dataset_info`` into a :class:`huggingface_hub.DatasetCardData`."""
        self.dataset_infos.to_dataset_card_data(card_data)
        self.metadata_configs.to_dataset_card_data(card_data)


def write_parquet_layout(
    parts: list[HubPart], folder: str | Path, *, max_shard_size: int | str = MAX_SHARD_SIZE
) -> ParquetLayout:
    """Write every part as parquet shards under ``folder`` and describe them as ``datasets`` does.

    Args:
        parts: the configurations and splits (:func:`~st_hardneg.hub.contents.collect_parts`).
        folder: an existing folder.
        max_shard_size: Arrow bytes per shard (``"500MB"`` as ``datasets``), an int or a size string.
    """
    from datasets import DatasetInfo, SplitDict, SplitInfo
    from datasets.info import DatasetInfosDict
    from datasets.utils.metadata import MetadataConfigs
    from datasets.utils.py_utils import convert_file_size_to_int

    folder = Path(folder)
    limit = convert_file_size_to_int(max_shard_size)
    layout = ParquetLayout()
    infos: dict[str, Any] = {}
    configs: dict[str, dict[str, Any]] = {}
    for part in parts:
        ds = part.dataset.flatten_indices() if getattr(part.dataset, "_indices", None) is not None else part.dataset
        nbytes = _nbytes(ds)
        num_shards = int(nbytes / limit) + 1
        directory = data_dir(part.config)
        (folder / directory).mkdir(parents=True, exist_ok=True)
        paths, written = [], 0
        for index in range(num_shards):
            path = f"{directory}/{part.split}-{index:05d}-of-{num_shards:05d}.parquet"
            ds.shard(num_shards=num_shards, index=index, contiguous=True).to_parquet(str(folder / path))
            written += (folder / path).stat().st_size
            paths.append(path)
        layout.files[part.key] = paths
        info = infos.setdefault(
            part.config,
            DatasetInfo(features=ds.features, splits=SplitDict(), download_size=0, dataset_size=0),
        )
        if info.features != ds.features:
            raise ValueError(
                f"configuration {part.config!r}: split {part.split!r} has other columns than its other splits "
                f"({list(ds.features)} vs {list(info.features)}); give it its own configuration"
            )
        info.splits.add(SplitInfo(name=part.split, num_bytes=nbytes, num_examples=len(ds)))
        info.download_size += written
        info.dataset_size += nbytes
        info.size_in_bytes = info.download_size + info.dataset_size
        configs.setdefault(part.config, {"data_files": []})["data_files"].append(
            {"split": part.split, "path": f"{directory}/{part.split}-*"}
        )
    if len(configs) > 1 and "default" not in configs:
        configs[parts[0].config]["default"] = True
    layout.metadata_configs = MetadataConfigs(configs)
    layout.dataset_infos = DatasetInfosDict(infos)
    return layout


def _nbytes(dataset: Any) -> int:
    estimate = getattr(dataset, "_estimate_nbytes", None)  # what push_to_hub shards by (media files included)
    return int(estimate()) if callable(estimate) else int(dataset.data.nbytes)
