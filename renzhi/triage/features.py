"""Text normalisation and character n-gram TF-IDF features of the triage classifier.

Written by hand instead of sklearn's `TfidfVectorizer` for two reasons: predicting ONE message
must take a fraction of a millisecond (sklearn's per-call overhead alone is ~0.3 ms), and a saved
model must not depend on the pickled internals of a library version. The arithmetic is exactly
sklearn's `TfidfVectorizer(sublinear_tf=True, smooth_idf=True, norm="l2")` over our analyzer, and
a test checks the two agree.

Why characters and not words: Chinese has no spaces, residents type with typos (同音错字) and
without punctuation, and a word segmenter (jieba) costs about as much per message as the whole
rest of the model. Character 1–3-grams cover most two- and three-character words, survive a
wrong character in a word, and need no dictionary.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np
import scipy.sparse as sp

# Only the head of a very long text is read: real appeals say what they are about early, and a
# pasted 100k-character document must not take seconds.
MAX_CHARS = 3000

_URL = re.compile(r"(?:https?://|www\.)\S+")
_EMAIL = re.compile(r"\S+@\S+\.[a-z]{2,}")
# Mobile numbers (11 digits from 1) and landlines (0xx-xxxxxxxx), before digits are folded.
_PHONE = re.compile(r"(?<!\d)(?:1[3-9]\d{9}|0\d{2,3}-?\d{7,8})(?!\d)")
_DIGITS = re.compile(r"\d+(?:\.\d+)?")
_LATIN = re.compile(r"[a-z]{2,}")
_SPACE = re.compile(r"\s+")
# Control and zero-width characters (NUL would also not survive a numpy string array).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")
# Punctuation carries little topic: fold every run of it into one separator.
_PUNCT = re.compile(
    r"[!-/:-@\[-`{-~\u3000-\u303f\uff01-\uff0f\u2010-\u206f。，、；：？！…—·「」『』【】《》〈〉（）]+"
)


def normalize(text: str) -> str:
    """The text the n-grams are taken from.

    Full-width forms become half-width (NFKC), Latin is lower-cased, URLs, e-mails and phone
    numbers become one placeholder each, every number becomes "0" (house numbers and dates
    say nothing about the topic but would otherwise make thousands of rare features), runs of
    punctuation and spaces become one space.
    """
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    text = unicodedata.normalize("NFKC", text[: MAX_CHARS * 2])[:MAX_CHARS].lower()
    text = _CONTROL.sub(" ", text)
    text = _URL.sub(" ü ", text)
    text = _EMAIL.sub(" ü ", text)
    text = _PHONE.sub("☎", text)
    text = _DIGITS.sub("0", text)
    text = _PUNCT.sub(" ", text)
    return _SPACE.sub(" ", text).strip()


def char_ngrams(text: str, ngram_range: tuple[int, int] = (1, 3)) -> list[str]:
    """Character n-grams of the normalised `text`; spaces only as separators, never alone."""
    low, high = ngram_range
    grams: list[str] = []
    for n in range(low, high + 1):
        if n == 1:
            grams.extend(text.replace(" ", ""))
        else:
            grams.extend([text[i : i + n] for i in range(len(text) - n + 1)])
    return grams


class NgramTfidf:
    """Character n-gram TF-IDF with sublinear tf and l2 rows; fitted state is two plain arrays."""

    def __init__(
        self,
        ngram_range: tuple[int, int] = (1, 3),
        min_df: int = 2,
        max_features: int | None = 400_000,
    ):
        self.ngram_range = (int(ngram_range[0]), int(ngram_range[1]))
        self.min_df = min_df
        self.max_features = max_features
        self.vocabulary: dict[str, int] = {}
        self.terms: list[str] = []
        self.idf = np.zeros(0)

    # --- fitting -------------------------------------------------------------------------------

    def fit_transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Learn the vocabulary and idf from `texts` (already normalised); their matrix."""
        df: Counter[str] = Counter()
        for text in texts:
            df.update(set(char_ngrams(text, self.ngram_range)))
        n_docs = len(texts)
        min_df = self.min_df if n_docs >= 2 * self.min_df else 1
        kept = [(count, term) for term, count in df.items() if count >= min_df]
        if not kept:  # every n-gram unique: keep whatever there is
            kept = [(count, term) for term, count in df.items()]
        del df
        # Most frequent first, ties by the term itself, so fitting is deterministic.
        kept.sort(key=lambda ct: (-ct[0], ct[1]))
        if self.max_features:
            kept = kept[: self.max_features]
        kept.sort(key=lambda ct: ct[1])
        self.terms = [term for _, term in kept]
        self.vocabulary = {term: i for i, term in enumerate(self.terms)}
        counts = np.array([count for count, _ in kept], dtype=np.float64)
        self.idf = np.log((1.0 + n_docs) / (1.0 + counts)) + 1.0
        return self.transform(texts)

    def set_state(self, terms: list[str], idf: np.ndarray) -> None:
        """Restore a fitted state (from a saved model)."""
        self.terms = terms
        self.vocabulary = {term: i for i, term in enumerate(terms)}
        self.idf = idf

    # --- transforming --------------------------------------------------------------------------

    def transform(self, texts: Iterable[str]) -> sp.csr_matrix:
        """TF-IDF rows of normalised `texts`."""
        vocab_get = self.vocabulary.get
        ngram_range = self.ngram_range
        indices: list[int] = []
        values: list[int] = []
        indptr = [0]
        for text in texts:
            for gram, count in Counter(char_ngrams(text, ngram_range)).items():
                j = vocab_get(gram)
                if j is not None:
                    indices.append(j)
                    values.append(count)
            indptr.append(len(indices))
        n_rows = len(indptr) - 1
        idx = np.asarray(indices, dtype=np.int64)
        data = np.log(np.asarray(values, dtype=np.float64)) + 1.0
        data *= self.idf[idx]
        rows = np.repeat(np.arange(n_rows), np.diff(np.asarray(indptr)))
        norms = np.sqrt(np.bincount(rows, weights=data * data, minlength=n_rows))
        norms[norms == 0] = 1.0
        data /= norms[rows]
        matrix = sp.csr_matrix(
            (data, idx, np.asarray(indptr, dtype=np.int64)), shape=(n_rows, len(self.terms))
        )
        matrix.sort_indices()
        return matrix

    def transform_one(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(feature indices, weights) of one normalised text: the fast path, no sparse matrix."""
        vocab_get = self.vocabulary.get
        # Counting in C (Counter) first, then one lookup per distinct n-gram.
        counts: dict[int, int] = {}
        for gram, count in Counter(char_ngrams(text, self.ngram_range)).items():
            j = vocab_get(gram)
            if j is not None:
                counts[j] = count
        if not counts:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        idx = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
        weights = (np.log(tf) + 1.0) * self.idf[idx]
        weights /= math.sqrt(float(weights @ weights))
        return idx, weights
