"""Fixtures of the warning tests: a helper that takes a warning through its lifecycle."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from renzhi.warning import actions
from renzhi.warning.actions import WarningInput


def draft_input(level: int = 4, areas: list[str] | None = None, **extra) -> WarningInput:
    return WarningInput(
        level=level,
        headline=extra.pop("headline", "甲一社区供水异常"),
        event=extra.pop("event", "供水问题"),
        description=extra.pop("description", "多户居民反映停水。"),
        instructions=extra.pop("instructions", "请储备饮用水，关注社区通知。"),
        cap_category=extra.pop("cap_category", "Infra"),
        area_codes=areas,
        expires_at=extra.pop("expires_at", timezone.now() + dt.timedelta(days=2)),
        **extra,
    )


@pytest.fixture
def publish_flow(world):
    """publish_flow(level, areas) → a published warning (alice drafts, a leader approves)."""

    def run(level: int = 4, areas: list[str] | None = None, **extra):
        areas = areas if areas is not None else [world.community_a.code]
        w = actions.create_warning(world.alice, draft_input(level, areas, **extra))
        actions.submit(world.alice, w.pk)
        approver = world.frank if level <= 2 else world.leo
        actions.approve(approver, w.pk)
        return actions.publish(world.alice, w.pk)

    return run


@pytest.fixture(autouse=True)
def _english():
    """Messages are asserted in English (the msgids); pages render in the default zh-Hans."""
    from django.utils import translation

    with translation.override("en"):
        yield
