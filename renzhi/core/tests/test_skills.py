import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from renzhi.core import skills
from renzhi.core.models import PersonSkill, Skill, SkillSource


@pytest.fixture
def first_aid(db):
    return Skill.objects.create(code="first-aid", name="急救", valid_months=36)


def test_a_longer_lasting_certificate_renews_the_skill(world, first_aid):
    skills.grant_skill(world.vera, first_aid, valid_until=dt.date(2027, 1, 1))
    skills.grant_skill(
        world.vera,
        first_aid,
        source=SkillSource.CERTIFICATE,
        certificate_no="C-1",
        valid_until=dt.date(2029, 1, 1),
    )
    held = PersonSkill.objects.get(user=world.vera, skill=first_aid)
    assert (held.valid_until, held.certificate_no) == (dt.date(2029, 1, 1), "C-1")
    assert skills.holds_valid_skill(world.vera, first_aid, dt.date(2028, 6, 1))
    assert not skills.holds_valid_skill(world.vera, first_aid, dt.date(2029, 6, 1))


def test_an_older_certificate_does_not_shorten_the_skill(world, first_aid):
    skills.grant_skill(world.vera, first_aid, valid_until=dt.date(2029, 1, 1))
    skills.grant_skill(world.vera, first_aid, valid_until=dt.date(2027, 1, 1))
    assert PersonSkill.objects.get(user=world.vera).valid_until == dt.date(2029, 1, 1)


def test_the_same_shift_cannot_be_recorded_twice(world):
    day = dt.date(2026, 7, 1)
    kw = {"source_type": "commons.activity", "source_id": "7"}
    skills.record_hours(world.vera, world.community_a, Decimal("2.5"), day, **kw)
    with pytest.raises(IntegrityError), transaction.atomic():
        skills.record_hours(world.vera, world.community_a, Decimal("1"), day, **kw)
    assert skills.total_hours(world.vera) == Decimal("2.5")


def test_hours_outside_a_day_are_refused_by_the_database(world):
    with pytest.raises(IntegrityError), transaction.atomic():
        skills.record_hours(
            world.vera,
            world.community_a,
            Decimal("25"),
            dt.date(2026, 7, 1),
            source_type="x",
            source_id="1",
        )
