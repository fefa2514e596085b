"""Fitting a critic with scikit-learn: human tunes against the model's own, on text features.

    critic = fit_critic(human_abcs, machine_abcs, random_seed=0)   # a Critic (charrnn.critic.scorer)

A standardised logistic regression, its C chosen by 5-fold cross-validated ROC AUC; a gradient
boosting classifier is cross-validated beside it so critic.json says what a stronger (but not
NumPy-scorable) model would gain. Only `charrnn critic fit` imports this module.
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


def _vectors(abcs):
    vectors = [feature_vector(text_record(abc)) for abc in abcs]
    return [v for v in vectors if v is not None]


def _logistic(c):
    return make_pipeline(StandardScaler(), LogisticRegression(C=c, class_weight="balanced", max_iter=5000))


def fit_critic(human, machine, random_seed=0, fitted_on=None):
    """A Critic telling `human` tunes (1) from `machine` ones (0), both lists of ABC text; tunes
    with under 2 notes are left out (the critic scores them 0)."""
    xh, xm = _vectors(human), _vectors(machine)
    if len(xh) < 2 * FOLDS or len(xm) < 2 * FOLDS:
        raise CharrnnError(f"a critic needs at least {2 * FOLDS} human and {2 * FOLDS} generated tunes with "
                           f"notes; got {len(xh)} and {len(xm)}")
    x = np.vstack(xh + xm)
    y = np.r_[np.ones(len(xh)), np.zeros(len(xm))]
    cv = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=random_seed)
    auc = {c: float(cross_val_score(_logistic(c), x, y, cv=cv, scoring="roc_auc").mean()) for c in C_VALUES}
    best = max(C_VALUES, key=lambda c: (auc[c], -c))  # the most regularised of equals
    boosting = HistGradientBoostingClassifier(class_weight="balanced", random_state=random_seed)
    boosting_auc = float(cross_val_score(boosting, x, y, cv=cv, scoring="roc_auc").mean())
    scaler, logistic = _logistic(best).fit(x, y)
    return Critic(mean=tuple(scaler.mean_.tolist()), scale=tuple(scaler.scale_.tolist()),
                  coef=tuple(logistic.coef_[0].tolist()), intercept=float(logistic.intercept_[0]),
                  settings={"classifier": "logistic regression on standardised features", "C": best,
                            "class_weight": "balanced", "random_seed": random_seed},
                  fitted_on=dict(fitted_on or {}, human_tunes=len(xh), machine_tunes=len(xm)),
                  figures={"cv_auc_logistic": {f"{c:g}": a for c, a in auc.items()},
                           "cv_auc_gradient_boosting": boosting_auc, "folds": FOLDS})
