"""The triage text classifier: Chinese appeal text -> a label, with calibrated probabilities.

Public API (used by the triage app and, from outside, on data we never see)::

    clf = TextClassifier().fit(texts, labels)
    clf.predict(texts) -> list[str]
    clf.predict_proba(texts) -> (classes, probs n x k)      # rows sum to 1
    clf.top_k(texts, k=3) -> [[(label, prob), ...], ...]
    clf.save(path); TextClassifier.load(path); clf.metadata

How it works (docs/classifier.md has the measurements):

1. `features.normalize`: NFKC (full-width -> half-width), lower case, phone numbers, URLs and
   every number folded to placeholders, punctuation runs to one space.
2. Character 1-3-gram TF-IDF with sublinear tf (`features.NgramTfidf`).
3. Two linear models on those features: a class-weighted LinearSVC (the strongest classical
   text classifier) and a Complement Naive Bayes (different errors, good on rare classes).
4. A small softmax *stacked* on their out-of-fold scores (k-fold inside `fit`): one weight per
   model and one bias per class, fitted by log-loss. It learns how much to trust each model and
   turns scores into probabilities, i.e. it is the calibration (multi-class Platt scaling),
   fitted on scores the base models did not see their own rows for. `cv_proba_` keeps those
   out-of-fold probabilities for choosing per-class thresholds.
5. Everything above is linear in the TF-IDF vector, so the three models collapse into ONE
   weight matrix (features x classes) after fitting. Predicting one message is a dictionary
   lookup per n-gram and a small dot product: about 0.1 ms, no sklearn call.

The saved file holds only arrays and JSON (no pickle), behind a magic line and a format
version, so a file that is not ours or from an incompatible version is refused before anything
in it is trusted.
"""

from __future__ import annotations

import io
import json
import math
import os
import platform
import struct
import tempfile
import time
import warnings
import zipfile
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from renzhi.triage.features import MAX_CHARS, NgramTfidf, normalize

FORMAT_VERSION = 1
MAGIC = b"RENZHI-TEXT-CLASSIFIER\n"
_HEADER_LEN = struct.Struct(">Q")
_MAX_HEADER = 16 * 1024 * 1024
_ARRAYS = ("terms", "idf", "weights", "bias")


class ModelFormatError(ValueError):
    """A model file that is not a Renzhi text classifier, is damaged, or is of another version."""


class TextClassifier:
    """Character n-gram TF-IDF, LinearSVC + Complement NB, stacked softmax calibration.

    Parameters (defaults are what docs/classifier.md measured):
      ngram_range   character n-gram orders
      min_df        an n-gram must occur in this many training texts
      max_features  keep the most frequent n-grams only (memory and speed bound)
      C             LinearSVC regularisation (smaller = smoother)
      nb_alpha      Complement NB smoothing
      folds         k of the k-fold that produces the stacker's training scores
                    (3 above 10,000 rows, 2 above 50,000, to keep training within minutes)
      n_jobs        threads for the folds (liblinear releases the GIL)
    """

    def __init__(
        self,
        *,
        ngram_range: tuple[int, int] = (1, 3),
        min_df: int = 2,
        max_features: int | None = 400_000,
        C: float = 0.5,
        nb_alpha: float = 0.1,
        folds: int = 5,
        n_jobs: int = 2,
        random_state: int = 0,
    ):
        self.ngram_range = (int(ngram_range[0]), int(ngram_range[1]))
        self.min_df = int(min_df)
        self.max_features = max_features
        self.C = float(C)
        self.nb_alpha = float(nb_alpha)
        self.folds = int(folds)
        self.n_jobs = int(n_jobs)
        self.random_state = int(random_state)
        self.classes_: list[str] = []
        self.weights_ = np.zeros((0, 0))
        self.bias_ = np.zeros(0)
        self.cv_proba_: np.ndarray | None = None  # out-of-fold probabilities of the last fit
        self._vectorizer = NgramTfidf(self.ngram_range, self.min_df, self.max_features)
        self._metadata: dict[str, Any] = {}

    # --- public API ------------------------------------------------------------------------------

    @property
    def classes(self) -> list[str]:
        return list(self.classes_)

    @property
    def metadata(self) -> dict[str, Any]:
        """trained_at, n_rows, classes, format_version, class_counts, cv metrics, params …"""
        return json.loads(json.dumps(self._metadata))

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> TextClassifier:
        """Train on `texts` with their `labels` (any strings; at least two distinct)."""
        started = time.perf_counter()
        texts, labels = _checked_training_data(texts, labels)
        classes = sorted(set(labels))
        index = {label: i for i, label in enumerate(classes)}
        y = np.array([index[label] for label in labels], dtype=np.int64)
        vectorizer = NgramTfidf(self.ngram_range, self.min_df, self.max_features)
        X = vectorizer.fit_transform([normalize(t) for t in texts])
        if X.shape[1] == 0:
            raise ValueError("The training texts contain no characters to learn from.")
        bases, scores, n_folds = self._fit_bases_and_folds(X, y, len(classes))
        stacker = _fit_stacker(scores, y, len(classes))
        self.weights_, self.bias_ = _collapse(bases, stacker, len(classes))
        self.classes_ = classes
        self._vectorizer = vectorizer
        self.cv_proba_ = _softmax(_stacked_logits(scores, stacker, len(classes)))
        cv_pred = self.cv_proba_.argmax(axis=1)
        counts = Counter(labels)
        self._metadata = {
            "format_version": FORMAT_VERSION,
            "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "n_rows": len(texts),
            "classes": classes,
            "class_counts": {label: counts[label] for label in classes},
            "n_features": int(X.shape[1]),
            "fit_seconds": round(time.perf_counter() - started, 3),
            "cv": {
                "folds": n_folds,
                "accuracy": round(float((cv_pred == y).mean()), 4),
                "macro_f1": round(_macro_f1(y, cv_pred, len(classes)), 4),
            },
            # How much the calibrated ensemble trusts each model (inverse temperatures).
            "model_weights": {
                "linear_svc": round(float(stacker[0][0]), 4),
                "complement_nb": round(float(stacker[0][1]), 4),
            },
            "params": self._params(),
            "libraries": _libraries(),
        }
        return self

    def predict(self, texts: Sequence[str] | str) -> list[str]:
        classes, probs = self.predict_proba(texts)
        return [classes[i] for i in probs.argmax(axis=1)]

    def predict_proba(self, texts: Sequence[str] | str) -> tuple[list[str], np.ndarray]:
        """(classes, probabilities): row i of the n x k array is text i, columns follow classes."""
        return self.classes, _softmax(self.decision_function(texts))

    def decision_function(self, texts: Sequence[str] | str) -> np.ndarray:
        """Log-odds (n x k) before the softmax; mostly for diagnostics."""
        self._check_fitted()
        items = [texts] if isinstance(texts, str) else list(texts)
        if len(items) == 1:  # the intake path: one message, no sparse matrix, no sklearn
            idx, weights = self._vectorizer.transform_one(normalize(items[0]))
            return (weights @ self.weights_[idx] + self.bias_).reshape(1, -1)
        X = self._vectorizer.transform(normalize(t) for t in items)
        return np.asarray(X @ self.weights_) + self.bias_

    def top_k(self, texts: Sequence[str] | str, k: int = 3) -> list[list[tuple[str, float]]]:
        """For each text the `k` most probable labels with their probabilities, best first."""
        classes, probs = self.predict_proba(texts)
        k = max(1, min(int(k), len(classes)))
        order = np.argsort(-probs, axis=1, kind="stable")[:, :k]
        return [
            [(classes[j], float(row[j])) for j in top]
            for row, top in zip(probs, order, strict=True)
        ]

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the model atomically (a reader never sees half a file)."""
        self._check_fitted()
        header = json.dumps(
            {"format_version": FORMAT_VERSION, "metadata": self._metadata},
            ensure_ascii=False,
        ).encode()
        payload = io.BytesIO()
        terms = np.array(self._vectorizer.terms, dtype=f"<U{self.ngram_range[1]}")
        np.savez_compressed(
            payload, terms=terms, idf=self._vectorizer.idf, weights=self.weights_, bias=self.bias_
        )
        target = Path(path)
        fd, tmp = tempfile.mkstemp(dir=target.parent or ".", prefix=f".{target.name}.")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(MAGIC)
                out.write(_HEADER_LEN.pack(len(header)))
                out.write(header)
                out.write(payload.getvalue())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> TextClassifier:
        """A saved model; `ModelFormatError` if the file is not one we can read."""
        with open(path, "rb") as f:
            blob = f.read()
        if not blob.startswith(MAGIC):
            raise ModelFormatError(f"{path} is not a Renzhi text classifier file.")
        start = len(MAGIC) + _HEADER_LEN.size
        if len(blob) < start:
            raise ModelFormatError(f"{path} is truncated.")
        (header_len,) = _HEADER_LEN.unpack(blob[len(MAGIC) : start])
        if header_len > _MAX_HEADER or start + header_len > len(blob):
            raise ModelFormatError(f"{path} is damaged (bad header length).")
        try:
            header = json.loads(blob[start : start + header_len].decode())
            version = header["format_version"]
            metadata = header["metadata"]
        except (ValueError, KeyError, TypeError) as exc:
            raise ModelFormatError(f"{path} is damaged (unreadable header).") from exc
        if version != FORMAT_VERSION:
            raise ModelFormatError(
                f"{path} has model format version {version}; this Renzhi reads version "
                f"{FORMAT_VERSION}. Retrain the model (manage.py triage_train)."
            )
        try:
            with np.load(io.BytesIO(blob[start + header_len :]), allow_pickle=False) as npz:
                arrays = {name: npz[name] for name in _ARRAYS}
        except (ValueError, KeyError, OSError, EOFError, zipfile.BadZipFile) as exc:
            raise ModelFormatError(f"{path} is damaged (unreadable arrays).") from exc
        return cls._from_state(metadata, arrays, path)

    # --- internals -------------------------------------------------------------------------------

    def _params(self) -> dict[str, Any]:
        return {
            "ngram_range": list(self.ngram_range),
            "min_df": self.min_df,
            "max_features": self.max_features,
            "C": self.C,
            "nb_alpha": self.nb_alpha,
            "folds": self.folds,
            "max_chars": MAX_CHARS,
        }

    @classmethod
    def _from_state(
        cls, metadata: dict[str, Any], arrays: dict[str, np.ndarray], path: Any
    ) -> TextClassifier:
        try:
            params = metadata["params"]
            clf = cls(
                ngram_range=tuple(params["ngram_range"]),  # type: ignore[arg-type]
                min_df=params["min_df"],
                max_features=params["max_features"],
                C=params["C"],
                nb_alpha=params["nb_alpha"],
                folds=params["folds"],
            )
            classes = [str(c) for c in metadata["classes"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelFormatError(f"{path} is damaged (incomplete metadata).") from exc
        terms, idf, weights, bias = (arrays[name] for name in _ARRAYS)
        n_terms, n_classes = len(terms), len(classes)
        if (
            n_classes < 2
            or idf.shape != (n_terms,)
            or weights.shape != (n_terms, n_classes)
            or bias.shape != (n_classes,)
        ):
            raise ModelFormatError(f"{path} is damaged (array shapes do not match).")
        clf._vectorizer.set_state(terms.tolist(), idf.astype(np.float64))
        if len(clf._vectorizer.vocabulary) != n_terms:
            raise ModelFormatError(f"{path} is damaged (repeated n-grams).")
        clf.weights_ = weights.astype(np.float64)
        clf.bias_ = bias.astype(np.float64)
        clf.classes_ = classes
        clf._metadata = metadata
        return clf

    def _check_fitted(self) -> None:
        if not self.classes_:
            raise RuntimeError("This TextClassifier is not fitted yet; call fit() or load().")

    def _fit_bases_and_folds(
        self, X: sp.csr_matrix, y: np.ndarray, k: int
    ) -> tuple[list[Linear], np.ndarray, int]:
        """The base models on all rows, and the base scores of every row from models that did
        not see that row (k-fold); all fits run side by side on `n_jobs` threads."""
        from joblib import Parallel, delayed
        from sklearn.model_selection import StratifiedKFold

        counts = np.bincount(y, minlength=k)
        # Rows of classes with a single example cannot be held out: they train in every fold
        # and get in-sample scores (a rare class still gets a column in the stacker).
        pooled = counts[y] >= 2
        pool_rows = np.flatnonzero(pooled)
        solo_rows = np.flatnonzero(~pooled)
        n_rows = X.shape[0]
        # Fewer folds on big sets: with 2 folds the two half-size fold fits run beside the
        # final fit, so training takes about as long as one fit on all rows.
        default = 5 if n_rows <= 10_000 else 3 if n_rows <= 50_000 else 2
        n_folds = max(2, min(self.folds or default, default, int(counts[counts >= 2].min())))
        splitter = StratifiedKFold(n_folds, shuffle=True, random_state=self.random_state)
        splits = [
            (np.concatenate([pool_rows[tr], solo_rows]), pool_rows[va])
            for tr, va in splitter.split(pool_rows, y[pool_rows])
        ]
        if solo_rows.size:
            splits.append((np.arange(n_rows), solo_rows))

        def run(train: np.ndarray | None, held: np.ndarray) -> tuple[np.ndarray, Any]:
            if train is None:  # the final models, on every row
                return held, _fit_bases(X, y, k, self.C, self.nb_alpha)
            bases = _fit_bases(X[train], y[train], k, self.C, self.nb_alpha)
            return held, _base_scores(X[held], bases)

        # The final fit first: it is the longest job, so the folds fill the other thread.
        jobs: list[tuple[np.ndarray | None, np.ndarray]] = [(None, np.zeros(0, dtype=np.int64))]
        results = Parallel(n_jobs=self.n_jobs, prefer="threads")(
            delayed(run)(train, held) for train, held in jobs + splits
        )
        final = results[0][1]
        width = results[1][1].shape[1]
        scores = np.zeros((n_rows, width))
        for held, block in results[1:]:
            scores[held] = block
        return final, scores, n_folds


# --- fitting helpers ---------------------------------------------------------------------------

Linear = tuple[np.ndarray, np.ndarray]  # (weights features x columns, bias columns)


def _checked_training_data(texts: Any, labels: Any) -> tuple[list[str], list[str]]:
    if isinstance(texts, str) or isinstance(labels, str):
        raise ValueError("texts and labels must be lists, not single strings.")
    texts, labels = list(texts), list(labels)
    if not texts:
        raise ValueError("Cannot train on an empty list of texts.")
    if len(texts) != len(labels):
        raise ValueError(f"Got {len(texts)} texts but {len(labels)} labels; they must match.")
    if any(label is None or str(label) == "" for label in labels):
        raise ValueError("Every text needs a non-empty label.")
    labels = [str(label) for label in labels]
    texts = ["" if t is None else str(t) for t in texts]
    distinct = set(labels)
    if len(distinct) < 2:
        raise ValueError(
            "Need at least two different labels to train a classifier; "
            f"got only {sorted(distinct)}."
        )
    return texts, labels


def _fit_bases(X: sp.csr_matrix, y: np.ndarray, k: int, C: float, alpha: float) -> list[Linear]:
    """The base models as linear maps with one column per class (missing classes: very low)."""
    from sklearn.naive_bayes import ComplementNB
    from sklearn.svm import LinearSVC

    present = np.unique(y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # liblinear's convergence chatter on tiny sets
        svm = LinearSVC(C=C, class_weight="balanced", tol=1e-3, max_iter=2000, random_state=0).fit(
            X, y
        )
    svm_w, svm_b = svm.coef_.T, np.asarray(svm.intercept_, dtype=np.float64)
    if len(present) == 2:  # liblinear returns one column for two classes
        svm_w = np.hstack([-svm_w, svm_w]) / 2
        svm_b = np.array([-svm_b[0], svm_b[0]]) / 2
    nb = ComplementNB(alpha=alpha).fit(X, y)
    nb_w = nb.feature_log_prob_.T.copy()
    nb_w -= nb_w.mean(axis=1, keepdims=True)  # only differences between classes matter
    nb_b = np.zeros(len(present))
    bases: list[Linear] = []
    for w, b in ((svm_w, svm_b), (nb_w, nb_b)):
        full_w = np.zeros((X.shape[1], k))
        full_b = np.full(k, -10.0)
        full_w[:, present], full_b[present] = w, b
        bases.append((full_w, full_b))
    return bases


def _base_scores(X: sp.csr_matrix, bases: list[Linear]) -> np.ndarray:
    return np.hstack([np.asarray(X @ w) + b for w, b in bases])


def _fit_stacker(scores: np.ndarray, y: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(model weights, class biases) minimising the log-loss of softmax(sum_m w_m S_m + b).

    This is the ensemble and its calibration at once: one weight per base model (how much to
    trust it, i.e. an inverse temperature) and one bias per class (the class prior). Few
    parameters, so out-of-fold scores of a few hundred rows fit it without over-fitting, and it
    takes milliseconds even with hundreds of classes (a full multinomial logistic regression
    over all scores took minutes with 50 classes and gained nothing measurable).
    """
    from scipy.optimize import minimize

    n, m = scores.shape[0], scores.shape[1] // k
    blocks = scores.reshape(n, m, k)
    onehot = np.zeros((n, k))
    onehot[np.arange(n), y] = 1.0
    ridge = 1e-3

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[:m], theta[m:]
        logits = np.einsum("nmk,m->nk", blocks, w) + b
        logits -= logits.max(axis=1, keepdims=True)
        log_norm = np.log(np.exp(logits).sum(axis=1, keepdims=True))
        log_p = logits - log_norm
        value = -float((onehot * log_p).sum()) / n + ridge * float(theta @ theta)
        grad_logits = (np.exp(log_p) - onehot) / n
        grad_w = np.einsum("nmk,nk->m", blocks, grad_logits)
        grad_b = grad_logits.sum(axis=0)
        return value, np.concatenate([grad_w, grad_b]) + 2 * ridge * theta

    start = np.concatenate([np.ones(m), np.zeros(k)])
    result = minimize(loss, start, jac=True, method="L-BFGS-B", options={"maxiter": 500})
    return result.x[:m].copy(), result.x[m:].copy()


def _collapse(bases: list[Linear], stacker: tuple[np.ndarray, np.ndarray], k: int) -> Linear:
    """One linear map features -> logits equal to stacker(bases(x))."""
    model_weights, class_bias = stacker
    weights = np.zeros((bases[0][0].shape[0], k))
    bias = class_bias.copy()
    for w_m, (w, b) in zip(model_weights, bases, strict=True):
        weights += w_m * w
        bias += w_m * b
    return weights, bias


def _stacked_logits(
    scores: np.ndarray, stacker: tuple[np.ndarray, np.ndarray], k: int
) -> np.ndarray:
    model_weights, class_bias = stacker
    blocks = scores.reshape(scores.shape[0], -1, k)
    return np.einsum("nmk,m->nk", blocks, model_weights) + class_bias


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


def _macro_f1(y: np.ndarray, pred: np.ndarray, k: int) -> float:
    f1s = []
    for c in range(k):
        tp = float(np.sum((pred == c) & (y == c)))
        fp = float(np.sum((pred == c) & (y != c)))
        fn = float(np.sum((pred != c) & (y == c)))
        f1s.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return float(np.mean(f1s)) if f1s else math.nan


def _libraries() -> dict[str, str]:
    import scipy
    import sklearn

    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
    }
