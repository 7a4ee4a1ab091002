"""Hugging Face Hub: push mined sets and candidate pools, with cards people can read.

- :func:`save_for_hub` / :func:`push_to_hub`: mined sets as parquet in ``datasets``' Hub layout, the dataset card
  (:class:`MinedDatasetCard`), ``mining_config.json`` and score histograms; one commit per push.
- :func:`load_mining_config`: read ``mining_config.json`` back; :meth:`MiningConfig.mine` mines the same rows
  (both from :mod:`st_hardneg.reproduce`, which stands above the Hub records of :mod:`.config`).
- Candidate pools: ``pool.push_to_hub(repo_id)`` / ``CandidatePool.from_hub(repo_id)`` (:mod:`.pool_repo`), with a
  :class:`PoolCard`.

Modules: :mod:`.contents` (configurations and splits), :mod:`.layout` (parquet files and their YAML),
:mod:`.config` (``mining_config.json``), :mod:`.source` (where the pairs came from), :mod:`.plots` (histograms),
:mod:`.snippets` (the card's code), :mod:`.card` and :mod:`.pool_card` (cards), :mod:`.repo` (token, repository
id, the commit), :mod:`.push` and :mod:`.pool_repo` (the entry points). Names load on first use.
"""

from st_hardneg.exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "MinedDatasetCard": "st_hardneg.hub.card",
        "PoolCard": "st_hardneg.hub.pool_card",
        "MiningRecord": "st_hardneg.hub.config",
        "MiningConfig": "st_hardneg.reproduce",
        "load_mining_config": "st_hardneg.reproduce",
        "DataSource": "st_hardneg.hub.source",
        "save_for_hub": "st_hardneg.hub.push",
        "push_to_hub": "st_hardneg.hub.push",
        "save_pool_for_hub": "st_hardneg.hub.pool_repo",
        "push_pool_to_hub": "st_hardneg.hub.pool_repo",
        "load_pool_from_hub": "st_hardneg.hub.pool_repo",
        "plot_score_histograms": "st_hardneg.hub.plots",
        "score_distributions": "st_hardneg.hub.plots",
    },
)
