"""Cross-validation folds of the real annotated audio (shared/data/manifest.tsv), defined once.

Within each data set, files sorted by stem; the i-th goes to fold i mod 5. The manifest's valid
split is every 5th file of each data set in the same order, so fold 4 is exactly the valid
split and folds 0-3 are the train split. Used by training/train.py (--cv-fold) and
bench/accuracy.py (--cv). Standard library only.
"""
FOLDS = 5


def assign(rows):
    """{(dataset, stem): fold} for manifest rows given as (dataset, stem) pairs."""
    by_set = {}
    for dataset, stem in rows:
        by_set.setdefault(dataset, []).append(stem)
    return {(d, s): i % FOLDS for d, stems in by_set.items() for i, s in enumerate(sorted(stems))}
