"""Near-duplicate text among open appeals in the appeals app's distance and time window."""

import pytest

from renzhi.appeals import actions as appeal_actions
from renzhi.triage.similarity import similar_open_appeals

pytestmark = pytest.mark.django_db


def submit(w, text, lat=39.92, lng=116.42, **kw):
    return appeal_actions.submit_appeal(
        w.charlie, channel="web", description=text, lat=lat, lng=lng, auto_route=False, **kw
    ).appeal


def test_it_finds_the_same_problem_told_in_other_words_nearby(cases):
    w = cases
    first = submit(w, "5号楼门口的下水道堵了，污水冒出来很臭")
    other_topic = submit(w, "小区广场舞音乐太吵了")
    far = submit(w, "5号楼门口下水道堵了，污水冒出来", lat=39.94, lng=116.48)
    new = submit(w, "5号楼门口下水道堵塞，污水都冒出来了，很臭")
    found = [a for a, _score in similar_open_appeals(new)]
    assert found == [first]
    assert other_topic not in found and far not in found


def test_closed_appeals_are_not_near_duplicates(flow):
    w = flow
    closed = w.bring("closed")
    new = submit(w, closed.description)
    assert closed not in [a for a, _s in similar_open_appeals(new)]
