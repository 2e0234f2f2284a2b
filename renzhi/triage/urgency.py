"""Urgency: does an appeal mention danger to life or property?

An editable list of phrases (`UrgencyRule`, seeded by a migration with `DEFAULT_RULES`), each
with a weight; the weights of the phrases found add up and 1.0 makes the appeal urgent. A
missed emergency costs far more than a false alarm, so the rules lean towards "urgent":

- variants and common typos are listed as phrases of their own (燃气泄露, 煤气味 …);
- a phrase is ignored only when a negation stands right before it in the same clause
  ("没有燃气泄漏", "未发现起火") — and not when the clause is a question or a doubt
  ("是不是燃气泄漏", "不知道有没有起火", "疑似"), because a resident who asks is worried;
- one negated mention does not hide another plain one ("没有起火，但是燃气泄漏").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

URGENT_SCORE = 1.0
# How far before a phrase a negation still applies (characters, same clause only).
NEGATION_WINDOW = 6
NEGATIONS = ("没有", "没", "无", "未", "不是", "并非", "不存在", "排除", "并未", "尚未发现", "不再")
# Doubt or a question in the clause keeps the phrase: the resident fears it.
DOUBTS = ("是不是", "是否", "有没有", "会不会", "好像", "疑似", "怀疑", "可能", "担心", "不知道")
QUESTIONS = ("吗", "呢", "?", "？")
_CLAUSE_BREAK = re.compile(r"[，,。.;；！!？?\n、]|但是|但|可是|不过|然而|却")

# (phrase, weight): 1.0 is urgent alone; 0.5 needs a second sign.
DEFAULT_RULES: list[tuple[str, float]] = [
    ("燃气泄漏", 1.0),
    ("燃气泄露", 1.0),
    ("煤气泄漏", 1.0),
    ("煤气泄露", 1.0),
    ("天然气泄漏", 1.0),
    ("漏气", 1.0),
    ("煤气味", 1.0),
    ("燃气味", 1.0),
    ("天然气味", 1.0),
    ("起火", 1.0),
    ("着火", 1.0),
    ("失火", 1.0),
    ("火灾", 1.0),
    ("火情", 1.0),
    ("冒烟", 0.5),
    ("爆炸", 1.0),
    ("坠落", 1.0),
    ("坠楼", 1.0),
    ("高空坠物", 1.0),
    ("高空抛物", 0.5),
    ("触电", 1.0),
    ("漏电", 0.5),
    ("电线裸露", 0.5),
    ("被困", 1.0),
    ("困在电梯", 1.0),
    ("困电梯", 1.0),
    ("关在电梯", 1.0),
    ("老人独居无人应答", 1.0),
    ("无人应答", 0.5),
    ("联系不上", 0.5),
    ("独居老人", 0.5),
    ("独居", 0.5),
    ("晕倒", 1.0),
    ("昏迷", 1.0),
    ("倒地不起", 1.0),
    ("受伤流血", 1.0),
    ("自杀", 1.0),
    ("轻生", 1.0),
    ("坍塌", 1.0),
    ("倒塌", 1.0),
    ("塌陷", 1.0),
    ("溺水", 1.0),
    ("井盖丢失", 0.5),
    ("井盖缺失", 0.5),
    ("一氧化碳", 1.0),
    ("中毒", 1.0),
]


@dataclass(frozen=True)
class Urgency:
    urgent: bool
    score: float
    phrases: list[str] = field(default_factory=list)


def assess(text: str, rules: list[tuple[str, float]] | None = None) -> Urgency:
    """The urgency of `text` by `rules` (default: the enabled rules in the database)."""
    if rules is None:
        rules = enabled_rules()
    clean = unicodedata.normalize("NFKC", text or "")
    found: list[str] = []
    score = 0.0
    for phrase, weight in rules:
        if phrase and any(not _negated(clean, at) for at in _occurrences(clean, phrase)):
            found.append(phrase)
            score += weight
    # A phrase inside a longer matched one ("被困" in "困在电梯" does not apply; "漏气" in
    # "煤气泄漏" does not either) would count twice; keep the longer phrase's weight only.
    kept = [p for p in found if not any(p != q and p in q for q in found)]
    score = sum(w for p, w in rules if p in kept)
    return Urgency(score >= URGENT_SCORE, round(score, 3), kept)


def enabled_rules() -> list[tuple[str, float]]:
    from renzhi.triage.models import UrgencyRule

    rows = list(UrgencyRule.objects.values_list("phrase", "weight", "enabled"))
    if not rows:  # never configured (or a flushed test database): the defaults apply
        return list(DEFAULT_RULES)
    return [(phrase, weight) for phrase, weight, enabled in rows if enabled]


def _occurrences(text: str, phrase: str) -> list[int]:
    return [m.start() for m in re.finditer(re.escape(phrase), text)]


def _negated(text: str, at: int) -> bool:
    """A negation right before position `at`, in the same clause, and no doubt about it.

    Doubt is a doubt word before the phrase in its clause ("是不是燃气泄漏") or a question
    after it ("燃气泄漏了吗？").
    """
    start = max(0, at - NEGATION_WINDOW)
    before = text[start:at]
    breaks = list(_CLAUSE_BREAK.finditer(before))
    if breaks:
        before = before[breaks[-1].end() :]
    clause_start = text.rfind("\n", 0, at) + 1
    head = text[clause_start:at]
    head_breaks = list(_CLAUSE_BREAK.finditer(head))
    if head_breaks:
        head = head[head_breaks[-1].end() :]
    clause_end = _CLAUSE_BREAK.search(text, at)
    tail = text[at : clause_end.end() if clause_end else len(text)]
    if any(d in head for d in DOUBTS) or any(q in tail for q in QUESTIONS):
        return False
    return any(n in before for n in NEGATIONS)
