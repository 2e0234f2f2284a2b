"""Urgency rules: a missed emergency costs more than a false alarm, so both lists are tested —
every positive must be caught; the negatives are the cases we promise not to flag."""

import pytest

from renzhi.triage.urgency import DEFAULT_RULES, assess

POSITIVES = [
    "楼道里有很重的煤气味",
    "厨房燃气泄漏了，赶紧来人",
    "燃气泄露，味道很大",  # the common typo 泄露
    "3号楼502起火了，冒出黑烟",
    "地下车库着火",
    "小孩从阳台坠落",
    "工人在维修时触电倒地",
    "电梯里有人被困半小时了",
    "我爸困在电梯里出不来",
    "隔壁老人独居，敲门无人应答好几天了",
    "独居老人联系不上，电话无人应答",
    "不知道是不是燃气泄漏，闻到怪味",  # doubt keeps it urgent
    "好像有燃气泄漏",
    "没有起火，但是燃气泄漏了",  # one negated mention does not hide the other
    "屋里没有人，燃气泄漏",  # a negation in another clause
    "屋内无明火但有煤气味",  # "无" belongs to another phrase, not to 煤气味
    "路面塌陷，有车掉进去了",
    "ＯＫ燃气泄漏",  # full-width letters before the phrase
]

NEGATIVES = [
    "楼道灯不亮了",
    "小区垃圾没人清理",
    "没有燃气泄漏，只是想问燃气费怎么交",
    "经检查未发现燃气泄漏，请取消",
    "排除了起火的可能，是烧烤的烟",
    "电梯经常停，希望加强维保",
    "噪音扰民，晚上十点还在装修",
    "建议增加独居老人的探访活动频次",  # one weak sign (0.5) is not enough
    "",
]


@pytest.mark.parametrize("text", POSITIVES)
def test_it_flags_danger(text):
    result = assess(text, DEFAULT_RULES)
    assert result.urgent, (text, result)
    assert result.phrases


@pytest.mark.parametrize("text", NEGATIVES)
def test_it_does_not_flag_ordinary_or_negated_text(text):
    result = assess(text, DEFAULT_RULES)
    assert not result.urgent, (text, result)


def test_a_phrase_inside_a_longer_one_counts_once():
    result = assess("老人独居无人应答", DEFAULT_RULES)
    assert result.phrases == ["老人独居无人应答"] and result.score == 1.0


@pytest.mark.django_db
def test_the_editable_rules_in_the_database_are_used():
    from renzhi.triage.models import UrgencyRule

    assert not assess("化粪池满溢").urgent
    UrgencyRule.objects.create(phrase="化粪池满溢", weight=1.0)
    assert assess("化粪池满溢").urgent
    UrgencyRule.objects.filter(phrase="起火").update(enabled=False)
    UrgencyRule.objects.filter(phrase="火情").update(enabled=False)
    assert not assess("起火").urgent
