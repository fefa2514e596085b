"""Fitting a critic with scikit-learn: human tunes against the model's own, on text features.

    critic = fit_critic(human_abcs, machine_abcs, random_seed=0)   # a Critic (charrnn.critic.scorer)

Two kinds are cross-validated (5-fold ROC AUC): a logistic regression on standardised features
(its C chosen from C_VALUES) and gradient-boosted trees (scikit-learn's HistGradientBoosting).
The one with the higher AUC is kept (`kind` forces one), written as numbers that
charrnn.critic.scorer scores in NumPy. Only `charrnn critic fit` imports this module.
"""
import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ..errors import CharrnnError
from .features import feature_vector, text_record
from .scorer import Critic

C_VALUES = (0.01, 0.1, 1.0, 10.0)  # inverse regularisation strengths tried
FOLDS = 5
KINDS = ("best", "logistic", "trees")


def _vectors(abcs):
    vectors = [feature_vector(text_record(abc)) for abc in abcs]
    return [v for v in vectors if v is not None]


def _logistic(c):
    return make_pipeline(StandardScaler(), LogisticRegression(C=c, class_weight="balanced", max_iter=5000))


def _trees(random_seed):
    return HistGradientBoostingClassifier(class_weight="balanced", random_state=random_seed)


def _logistic_critic(x, y, c):
    scaler, logistic = _logistic(c).fit(x, y)
    return {"mean": tuple(scaler.mean_.tolist()), "scale": tuple(scaler.scale_.tolist()),
            "coef": tuple(logistic.coef_[0].tolist()), "intercept": float(logistic.intercept_[0])}


def _trees_critic(x, y, random_seed):
    """The fitted trees as node lists. scikit-learn keeps them in private arrays (`_predictors`,
    whose nodes number children after their parent); tests/test_critic.py checks the scores
    against predict_proba, so a release that changes them fails there."""
    model = _trees(random_seed).fit(x, y)
    trees = []
    for [predictor] in model._predictors:  # one tree an iteration for two classes
        nodes = predictor.nodes
        leaf = nodes["is_leaf"].astype(bool)
        # Node indices are unsigned in scikit-learn: made signed before a leaf's children become -1.
        trees.append({"feature": nodes["feature_idx"].astype(np.int64).tolist(),
                      "threshold": nodes["num_threshold"].tolist(),
                      "left": np.where(leaf, -1, nodes["left"].astype(np.int64)).tolist(),
                      "right": np.where(leaf, -1, nodes["right"].astype(np.int64)).tolist(),
                      "value": nodes["value"].tolist()})
    return {"intercept": float(np.ravel(model._baseline_prediction)[0]), "trees": tuple(trees)}


def fit_critic(human, machine, random_seed=0, fitted_on=None, kind="best"):
    """A Critic telling `human` tunes (1) from `machine` ones (0), both lists of ABC text; tunes
    with under 2 notes are left out (the critic scores them 0). kind: "logistic", "trees", or
    "best": the one with the higher cross-validated AUC."""
    if kind not in KINDS:
        raise CharrnnError(f"critic kind {kind!r}: expected one of {', '.join(KINDS)}")
    xh, xm = _vectors(human), _vectors(machine)
    if len(xh) < 2 * FOLDS or len(xm) < 2 * FOLDS:
        raise CharrnnError(f"a critic needs at least {2 * FOLDS} human and {2 * FOLDS} generated tunes with "
                           f"notes; got {len(xh)} and {len(xm)}")
    x = np.vstack(xh + xm)
    y = np.r_[np.ones(len(xh)), np.zeros(len(xm))]
    cv = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=random_seed)
    auc = {c: float(cross_val_score(_logistic(c), x, y, cv=cv, scoring="roc_auc").mean()) for c in C_VALUES}
    best = max(C_VALUES, key=lambda c: (auc[c], -c))  # the most regularised of equals
    trees_auc = float(cross_val_score(_trees(random_seed), x, y, cv=cv, scoring="roc_auc").mean())
    if kind == "best":
        kind = "trees" if trees_auc > auc[best] else "logistic"
    if kind == "trees":
        numbers = _trees_critic(x, y, random_seed)
        settings = {"classifier": "gradient-boosted trees (scikit-learn HistGradientBoostingClassifier, defaults)"}
    else:
        numbers = _logistic_critic(x, y, best)
        settings = {"classifier": "logistic regression on standardised features", "C": best}
    return Critic(**numbers, settings=dict(settings, kind=kind, class_weight="balanced", random_seed=random_seed),
                  fitted_on=dict(fitted_on or {}, human_tunes=len(xh), machine_tunes=len(xm)),
                  figures={"cv_auc_logistic": {f"{c:g}": a for c, a in auc.items()},
                           "cv_auc_trees": trees_auc, "folds": FOLDS})
