"""Detectability: how well a classifier tells two sets of tunes apart by their musical features."""
import numpy as np

from .features import feature_vector


def detectability(records_a, records_b, random_seed=0, folds=5, trees=200, features=feature_vector):
    """How well a random forest tells set b from set a by their features: cross-validated ROC AUC.

    0.5 means it cannot tell them apart, 1.0 that it always can. Returns None when either set has
    fewer tunes with features than there are folds. `features` turns a record into its vector.
    """
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    xa = [v for v in map(features, records_a) if v is not None]
    xb = [v for v in map(features, records_b) if v is not None]
    if len(xa) < folds or len(xb) < folds:
        return None
    x = np.vstack(xa + xb)
    y = np.r_[np.zeros(len(xa)), np.ones(len(xb))]
    clf = RandomForestClassifier(n_estimators=trees, min_samples_leaf=2, class_weight="balanced",
                                 random_state=random_seed, n_jobs=1)
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=random_seed)
    scores = cross_val_score(clf, x, y, cv=cv, scoring="roc_auc")
    return {"auc": float(scores.mean()), "auc_std": float(scores.std()),
            "n_a": len(xa), "n_b": len(xb), "folds": folds}
