"""Commons text checks (issue 23 #9): names are normalised before the duplicate check, on every
path (API and pages both go through the actions' text guard)."""

from __future__ import annotations

import pytest

from renzhi.commons.actions import organisations as orgs
from renzhi.core.errors import ActionError


def _file(world, name: str, **extra):
    return orgs.file_organisation(
        world.charlie,
        community=world.community_a,
        name=name,
        kind="culture_sports",
        purpose="丰富文化生活",
        activity_area="甲一社区活动室",
        **extra,
    )


def test_it_refuses_a_name_that_differs_only_by_a_zero_width_space(world):
    _file(world, "棋牌协会")

    with pytest.raises(ActionError) as refused:
        _file(world, "棋牌协会\u200b")

    assert refused.value.errors[0].field == "name"


def test_it_refuses_a_name_made_only_of_invisible_characters(world):
    with pytest.raises(ActionError) as refused:
        _file(world, "\u200b\u202e\u2066")

    assert refused.value.errors[0].field == "name"


def test_it_refuses_a_nul_byte_in_the_purpose(world):
    with pytest.raises(ActionError) as refused:
        orgs.file_organisation(
            world.charlie,
            community=world.community_a,
            name="书法社",
            kind="culture_sports",
            purpose="练字\x00",
            activity_area="甲一社区活动室",
        )

    assert refused.value.errors[0].field == "purpose"


def test_a_full_width_name_is_stored_normalised(world):
    org = _file(world, "ＡＢＣ合唱团")

    assert org.name == "ABC合唱团"
