"""The active classifier of each head, loaded once per process and reloaded on a switch.

Each call asks the database which version is active (one indexed row) and reloads only when
that changed, so activating or rolling back a version in one process (the admin page) is
picked up by every worker on its next appeal. A file that cannot be read is logged and
treated as "no model": intake goes on, appeals wait in the queue.
"""

from __future__ import annotations

import logging
import threading

from renzhi.triage.model import ModelFormatError, TextClassifier
from renzhi.triage.models import ModelVersion

log = logging.getLogger("renzhi.triage")
_lock = threading.Lock()
_cache: dict[str, tuple[int, TextClassifier]] = {}


def active_version(head: str = "category") -> ModelVersion | None:
    return ModelVersion.objects.filter(head=head, active=True).first()


def active_classifier(head: str = "category") -> TextClassifier | None:
    """The active `TextClassifier` of `head` ("category" or "unit"), or None."""
    loaded = active(head)
    return loaded[1] if loaded else None


def active(head: str = "category") -> tuple[ModelVersion, TextClassifier] | None:
    """The active version with its loaded classifier, or None."""
    from renzhi.triage.training import model_path

    version = active_version(head)
    if version is None:
        return None
    cached = _cache.get(head)
    if cached is not None and cached[0] == version.pk:
        return version, cached[1]
    with _lock:
        try:
            clf = TextClassifier.load(model_path(version))
        except (ModelFormatError, OSError) as exc:
            log.error("triage %s model version %s cannot be loaded: %s", head, version.pk, exc)
            return None
        _cache[head] = (version.pk, clf)
    return version, clf


def forget() -> None:
    """Drop the cache (tests, and after deleting files)."""
    _cache.clear()
