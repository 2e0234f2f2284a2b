"""Near-duplicate text: open appeals that say the same thing nearby (相似诉求).

The appeals app's `find_duplicates` finds open appeals of the SAME CATEGORY near each other;
residents often pick no or another category for the same leaking pipe, so this looks at the
words instead: character 2–3-gram TF-IDF cosine between the new appeal and the open appeals in
the same geographic and time window (`DUPLICATE_RADIUS_M` metres around its point, or the same
place when it has none, and `DUPLICATE_DAYS` days either side). The vocabulary is fitted on
that handful of texts, so it costs a millisecond or two per intake.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from renzhi.appeals import states
from renzhi.appeals.actions.cases import DUPLICATE_DAYS, DUPLICATE_RADIUS_M
from renzhi.appeals.models import Appeal

SIMILAR_MIN = 0.35  # cosine above which two texts are shown as near-duplicates
MAX_CANDIDATES = 300
_NOISE = re.compile(r"[\s\d\W_]+")


def normalise(text: str) -> str:
    """Full-width to half-width, no digits, spaces or punctuation: they say nothing here."""
    return _NOISE.sub(" ", unicodedata.normalize("NFKC", text or "").lower()).strip()


def vectorise(texts: list[str]):
    """L2-normalised character 2–3-gram TF-IDF rows (sparse) of `texts`."""
    vectoriser = TfidfVectorizer(analyzer="char", ngram_range=(2, 3), sublinear_tf=True)
    cleaned = [normalise(t) or "∅" for t in texts]
    return vectoriser.fit_transform(cleaned)


def similar_open_appeals(
    appeal: Appeal, *, limit: int = 5, minimum: float = SIMILAR_MIN
) -> list[tuple[Appeal, float]]:
    """Open appeals in the window whose text is close to `appeal`'s, most similar first."""
    candidates = list(_window(appeal)[:MAX_CANDIDATES])
    if appeal.lat is not None and appeal.lng is not None:
        candidates = [
            a
            for a in candidates
            if _metres(appeal.lat, appeal.lng, a.lat, a.lng) <= DUPLICATE_RADIUS_M
        ]
    if not candidates:
        return []
    matrix = vectorise([_text(appeal)] + [_text(a) for a in candidates])
    scores = np.asarray((matrix[1:] @ matrix[0].T).todense()).ravel()
    ranked = sorted(
        ((a, float(s)) for a, s in zip(candidates, scores, strict=True) if s >= minimum),
        key=lambda pair: -pair[1],
    )
    return ranked[:limit]


def _text(appeal: Appeal) -> str:
    return f"{appeal.title} {appeal.description}"


def _window(appeal: Appeal):
    days = dt.timedelta(days=DUPLICATE_DAYS)
    qs = (
        Appeal.objects.filter(
            state__in=list(states.ACTIVE),
            received_at__gte=appeal.received_at - days,
            received_at__lte=appeal.received_at + days,
        )
        .exclude(pk=appeal.pk)
        .only("pk", "tracking_no", "title", "description", "lat", "lng", "place_code", "state")
        .order_by("-received_at")
    )
    if appeal.lat is None or appeal.lng is None:
        return qs.filter(place_code=appeal.place_code)
    dlat = DUPLICATE_RADIUS_M / 111_320
    dlng = DUPLICATE_RADIUS_M / (111_320 * max(math.cos(math.radians(appeal.lat)), 0.01))
    return qs.filter(
        lat__range=(appeal.lat - dlat, appeal.lat + dlat),
        lng__range=(appeal.lng - dlng, appeal.lng + dlng),
    )


def _metres(lat1: float, lng1: float, lat2: float | None, lng2: float | None) -> float:
    if lat2 is None or lng2 is None:
        return math.inf
    r = 6_371_000
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(h))
