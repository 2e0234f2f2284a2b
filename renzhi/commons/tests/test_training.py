"""Training: attendance, assessment, certificates; a pass grants the skill for mobilisation."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from renzhi.commons.actions import training
from renzhi.commons.models import Assessment, Certificate
from renzhi.core.errors import ActionError
from renzhi.core.models import PersonSkill, Skill
from renzhi.core.skills import holds_valid_skill


@pytest.fixture
def course(world):
    skill = Skill.objects.create(code="first-aid", name="急救", valid_months=24)
    c = training.create_course(
        world.alice,
        community=world.community_a,
        title="心肺复苏与AED",
        topic="first_aid",
        skill=skill,
    )
    start = timezone.now() + dt.timedelta(days=1)
    session = training.add_session(
        world.alice,
        c,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=2),
        location="社区卫生站",
    )
    return c, session


def test_a_pass_grants_the_skill_with_the_certificate_expiry(world, course):
    c, session = course
    training.enrol(world.vera, c)
    training.record_attendance(world.alice, session, world.vera)
    assessment, cert = training.assess(
        world.alice, c, world.vera, score=85, valid_from=dt.date(2026, 3, 31)
    )
    assert assessment.passed and cert is not None
    assert cert.valid_until == dt.date(2028, 3, 31)
    held = PersonSkill.objects.get(user=world.vera, skill=c.skill)
    assert held.certificate_no == cert.number and held.valid_until == cert.valid_until
    assert holds_valid_skill(world.vera, c.skill, dt.date(2027, 1, 1))


def test_a_fail_grants_nothing(world, course):
    c, session = course
    training.enrol(world.vera, c)
    training.record_attendance(world.alice, session, world.vera)
    assessment, cert = training.assess(world.alice, c, world.vera, score=40)
    assert not assessment.passed and cert is None
    assert not PersonSkill.objects.filter(user=world.vera).exists()


def test_it_refuses_a_certificate_ending_before_it_starts(world, course):
    c, session = course
    training.enrol(world.vera, c)
    training.record_attendance(world.alice, session, world.vera)
    with pytest.raises(ActionError) as refused:
        training.assess(
            world.alice,
            c,
            world.vera,
            score=90,
            valid_from=dt.date(2026, 5, 1),
            valid_until=dt.date(2026, 4, 1),
        )
    assert refused.value.errors[0].field == "valid_until"
    assert not Assessment.objects.exists() and not Certificate.objects.exists()
    assert not PersonSkill.objects.exists()


def test_an_assessment_needs_attendance(world, course):
    c, _session = course
    training.enrol(world.vera, c)
    with pytest.raises(ActionError) as refused:
        training.assess(world.alice, c, world.vera, score=90)
    assert refused.value.errors[0].field == "person"


def test_staff_take_information_security_training(world):
    c = training.create_course(
        world.alice,
        community=world.community_a,
        title="个人信息保护与网络安全",
        topic="network_safety",
        for_staff=True,
    )
    training.enrol(world.sam, c)
    with pytest.raises(ActionError):
        training.enrol(world.charlie, c)
