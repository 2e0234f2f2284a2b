"""Hot issues: clustering by text and street, ranked by the heat index computed by hand."""

import datetime as dt

import pytest

from renzhi.appeals.models import Appeal
from renzhi.triage import hot
from renzhi.triage.models import HotIssue

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC)


def add(w, text, *, days_ago, community="a", resident=None, phone=""):
    community = w.community_a if community == "a" else w.community_b
    grid = w.grid_a1 if community == w.community_a else w.grid_b1
    n = Appeal.objects.count()
    return Appeal.objects.create(
        tracking_no=f"RZH{n:06d}",
        channel="hotline",
        title=text[:30],
        description=text,
        grid=grid,
        community=community,
        street=community.parent,
        place_code=grid.code,
        lat=39.92,
        lng=116.42 if community == w.community_a else 116.55,
        resident=resident,
        contact_phone=phone,
        received_at=NOW - dt.timedelta(days=days_ago),
    )


def test_heat_index_by_hand(cases):
    w = cases
    # Smell of sewage in community A: 4 appeals, 3 people, 3 in the later half, all in A.
    add(w, "小区化粪池返味，臭气熏天", days_ago=6, phone="13900000001")
    add(w, "小区化粪池返味，臭气熏天影响生活", days_ago=2, phone="13900000001")
    add(w, "化粪池返味严重，臭气熏天", days_ago=1, phone="13900000002")
    add(w, "小区化粪池返味 臭气熏天", days_ago=1, resident=w.charlie)
    # Noise in both communities (another street for B, so only A's 3 cluster): 3 appeals,
    # 3 people, all in the earlier half.
    for i in range(3):
        add(w, "晚上广场舞音乐声音太大扰民", days_ago=5 + i * 0.3, phone=f"1380000010{i}")
    add(w, "晚上广场舞音乐声音太大扰民", days_ago=5, community="b", phone="13800000200")
    add(w, "路灯坏了", days_ago=1, phone="13800000300")  # alone: no issue

    issues = hot.refresh(now=NOW, days=7)

    assert [i.title[:5] for i in issues] == ["小区化粪池", "晚上广场舞"]
    smell, noise = issues
    # (n + r)/2 × (1 + ½·log2 g) × (½ + ½·c): (4+3)/2 × (1 + ½·log2(4/2)) × 1 = 3.5 × 1.5
    assert (smell.count, smell.residents, smell.recent, smell.earlier) == (4, 3, 3, 1)
    assert smell.heat == pytest.approx(5.25)
    # (3+3)/2 × (1 + ½·log2(1/4 → clipped ½)) × 1 = 3 × 0.5
    assert (noise.count, noise.residents, noise.recent, noise.earlier) == (3, 3, 0, 3)
    assert noise.heat == pytest.approx(1.5)
    assert smell.rank == 1 and noise.rank == 2
    assert smell.community == w.community_a and smell.lat == pytest.approx(39.92)
    assert len(smell.representatives) == 3 and smell.appeals.count() == 4


def test_a_refresh_keeps_earlier_issues_but_only_the_new_are_current(cases):
    w = cases
    for i in range(3):
        add(w, "小区化粪池返味，臭气熏天", days_ago=1, phone=f"1390000000{i}")
    first = hot.refresh(now=NOW)
    second = hot.refresh(now=NOW)
    assert HotIssue.objects.count() == 2
    assert list(HotIssue.objects.filter(current=True)) == second
    assert not HotIssue.objects.get(pk=first[0].pk).current


def test_concentration_is_the_share_of_the_top_community():
    rows = [
        {"pk": i, "resident_id": None, "contact_phone": "", "received_at": NOW, "community_id": c}
        for i, c in enumerate([1, 1, 1, 2])
    ]
    heat = hot.heat_of(rows, NOW - dt.timedelta(days=1))
    assert heat.concentration == 0.75 and heat.residents == 4 and heat.recent == 4
    # (4+4)/2 × (1 + ½·log2(5)) × (½ + ½·0.75)
    assert heat.value == pytest.approx(4 * (1 + 0.5 * 2.321928) * 0.875, abs=1e-3)
