"""Triage fixtures: the appeals world (`cases`, `flow`, `two_appeals`, `clock` from the appeals
tests) plus handled appeals to learn from and trained model versions in a temporary folder.

`corpus`: closed appeals in communities A and B — lift faults (电梯故障, routed to the property
company of the community) and water outages (停水, which the routing table does not route, so
only the unit head can) — 24 of each per community, texts varied by templates.
"""

import datetime as dt
import itertools

import pytest

from renzhi.appeals.tests.conftest import cases, clock, flow, two_appeals  # noqa: F401

LIFT = [
    "{n}号楼电梯坏了，停在{f}楼不动",
    "{n}号楼的电梯故障，按钮没反应",
    "电梯门打不开，{n}单元电梯维修请尽快",
    "{n}号楼电梯异响，运行时抖动很厉害",
    "小区{n}号楼电梯停运{f}天了，老人上下楼困难",
    "电梯经常停，{n}号楼电梯到{f}层就卡住",
]
WATER = [
    "{n}号楼停水了，水龙头没有水",
    "家里没水，{n}单元从早上开始停水",
    "{n}号楼自来水停了{f}天，什么时候恢复供水",
    "水压特别低，{n}号楼{f}层几乎没有水",
    "突然停水也没通知，{n}号楼居民没水做饭",
    "供水中断，{n}号楼{f}楼水管没水",
]


@pytest.fixture
def model_dir(settings, tmp_path):
    """Model files in a temporary folder; the per-process model cache emptied before and after."""
    from renzhi.triage import registry

    settings.RENZHI_TRIAGE_MODEL_DIR = tmp_path / "models"
    registry.forget()
    yield settings.RENZHI_TRIAGE_MODEL_DIR
    registry.forget()


def make_handled(w, rows, *, state="closed", start=None):
    """Bulk-create handled appeals: rows of (text, category, community, unit)."""
    from renzhi.appeals.models import Appeal

    start = start or dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
    made = []
    for i, (text, category, community, unit) in enumerate(rows):
        grid = w.grid_a1 if community == w.community_a else w.grid_b1
        made.append(
            Appeal(
                tracking_no=f"RZT{start:%y%m%d}{len(made):06d}{i % 10}",
                channel="hotline",
                state=state,
                category=category,
                category_top=category.top,
                title=text[:30],
                description=text,
                grid=grid,
                community=community,
                street=community.parent,
                place_code=grid.code,
                unit=unit,
                received_at=start + dt.timedelta(hours=i),
            )
        )
    return Appeal.objects.bulk_create(made)


def corpus_rows(w, per=24):
    rows = []
    numbers = itertools.count(1)
    for community, unit in ((w.community_a, w.unit_a), (w.community_b, w.unit_b)):
        for templates, category in ((LIFT, w.cat_lift), (WATER, w.cat_outage)):
            for i in range(per):
                n = next(numbers)
                text = templates[i % len(templates)].format(n=n % 17 + 1, f=n % 9 + 2)
                rows.append((text, category, community, unit))
    return rows


@pytest.fixture
def corpus(cases):  # noqa: F811
    w = cases
    w.handled = make_handled(w, corpus_rows(w))
    return w


@pytest.fixture
def trained(corpus, model_dir):
    """`corpus` with both heads trained and active."""
    from renzhi.triage import actions

    w = corpus
    w.category_version = actions.train(None, "category", activate=True)
    w.unit_version = actions.train(None, "unit", activate=True)
    return w


def set_thresholds(version, value):
    """Every class of `version` gets threshold `value` (None: no class is ever automatic)."""
    version.thresholds = {} if value is None else {c: value for c in version.classes}
    version.save(update_fields=["thresholds"])
