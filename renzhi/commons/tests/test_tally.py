"""Thresholds and quorums decide as computed by hand (exact arithmetic, no floats)."""

from __future__ import annotations

from decimal import Decimal as D

from renzhi.commons.models import PassRule, QuorumRule, VoteMethod
from renzhi.commons.tally import ABSTAIN, NO, YES, CastBallot, Rules, count, instant_runoff

YN = [YES, NO, ABSTAIN]


def ballots(*spec):
    """spec: (choice, area, how many)"""
    out = []
    for choice, area, n in spec:
        out += [CastBallot([choice] if isinstance(choice, int) else choice, D(area))] * n
    return out


def test_simple_majority_needs_more_than_half_of_those_who_voted():
    rules = Rules(VoteMethod.YES_NO, QuorumRule.PERCENT, 50, PassRule.SIMPLE)
    # 10 electors, 6 vote: 3 yes, 2 no, 1 abstain → 3/6 is not more than half.
    out = count(rules, YN, ballots((YES, 0, 3), (NO, 0, 2), (ABSTAIN, 0, 1)), 10)
    assert out.quorum_met and not out.passed
    out = count(rules, YN, ballots((YES, 0, 4), (NO, 0, 2)), 10)
    assert out.passed and out.winner == YES and out.turnout_percent == 60.0


def test_the_quorum_counts_abstentions_but_not_absentees():
    rules = Rules(VoteMethod.YES_NO, QuorumRule.PERCENT, 50, PassRule.SIMPLE)
    out = count(rules, YN, ballots((YES, 0, 4)), 10)  # 4 of 10 < 50 %
    assert not out.quorum_met and not out.passed
    out = count(rules, YN, ballots((YES, 0, 4), (ABSTAIN, 0, 1)), 10)  # 5 of 10 = 50 %
    assert out.quorum_met and out.passed


def test_two_thirds_is_reached_at_exactly_two_thirds():
    rules = Rules(VoteMethod.YES_NO, QuorumRule.NONE, 0, PassRule.TWO_THIRDS)
    assert count(rules, YN, ballots((YES, 0, 6), (NO, 0, 3)), 9).passed  # 6/9 = ⅔
    assert not count(rules, YN, ballots((YES, 0, 5), (NO, 0, 3)), 9).passed  # 5/8 < ⅔


def test_double_two_thirds_quorum_needs_area_and_headcount():
    """9 owners, 900 m². Hand-computed:
    A) 6 vote, 600 m² → 6/9 = ⅔ and 600/900 = ⅔ → quorum.
    B) 6 vote but small flats, 500 m² → area 5/9 < ⅔ → no quorum.
    C) 5 vote with big flats, 700 m² → headcount 5/9 < ⅔ → no quorum."""
    rules = Rules(VoteMethod.YES_NO, QuorumRule.DOUBLE_TWO_THIRDS, 0, PassRule.THREE_QUARTERS, True)
    a = count(rules, YN, ballots((YES, 100, 6)), 9, D(900))
    assert a.quorum_met and a.passed
    b = count(rules, YN, ballots((YES, 100, 4), (YES, 50, 2)), 9, D(900))
    assert b.cast_area == D(500) and not b.quorum_met and not b.passed
    c = count(rules, YN, ballots((YES, 140, 5)), 9, D(900))
    assert c.cast_area == D(700) and not c.quorum_met


def test_three_quarters_by_area_and_headcount_both_must_hold():
    """12 owners, 1200 m², all vote (quorum met).
    Headcount: 9 yes of 12 = ¾ ✓. Area: the 9 yes own 9 × 80 = 720 m² of 1200 = 60 % ✗ → fails.
    Swap flats: 9 yes own 9 × 110 = 990 m²; the 3 no own 3 × 70 = 210 → 990/1200 = 82.5 % ✓."""
    rules = Rules(VoteMethod.YES_NO, QuorumRule.DOUBLE_TWO_THIRDS, 0, PassRule.THREE_QUARTERS, True)
    small = ballots((YES, 80, 9), (NO, 160, 3))
    assert sum(b.area for b in small) == D(1200)
    out = count(rules, YN, small, 12, D(1200))
    assert out.quorum_met and not out.passed
    big = ballots((YES, 110, 9), (NO, 70, 3))
    assert count(rules, YN, big, 12, D(1200)).passed
    # Without area counting the first case passes on headcount alone.
    by_head = Rules(VoteMethod.YES_NO, QuorumRule.NONE, 0, PassRule.THREE_QUARTERS, False)
    assert count(by_head, YN, small, 12, D(1200)).passed


def test_single_choice_tie_has_no_winner():
    rules = Rules(VoteMethod.SINGLE, QuorumRule.NONE, 0, PassRule.SIMPLE)
    out = count(rules, [0, 1, 2], ballots((0, 0, 2), (1, 0, 2)), 4)
    assert out.winner is None and not out.passed
    out = count(rules, [0, 1, 2], ballots((0, 0, 3), (1, 0, 2)), 5)
    assert out.winner == 0 and out.passed  # 3/5 > ½


def test_approval_counts_each_approved_option():
    rules = Rules(VoteMethod.APPROVAL, QuorumRule.NONE, 0, PassRule.SIMPLE)
    out = count(rules, [0, 1, 2], ballots(([0, 1], 0, 3), ([1], 0, 2), ([2], 0, 1)), 6)
    assert out.counts == {0: 3, 1: 5, 2: 1}
    assert out.winner == 1 and out.passed  # 5 of 6 ballots approve option 1


def test_instant_runoff_transfers_the_eliminated_votes():
    """Options A=0, B=1, C=2. 9 ballots: 4 × A>B, 3 × B>C, 2 × C>B.
    Round 1: A4 B3 C2 (no majority of 9) → C out. Round 2: A4 B5 → B wins with 5/9."""
    rankings = [[0, 1]] * 4 + [[1, 2]] * 3 + [[2, 1]] * 2
    winner, rounds = instant_runoff([0, 1, 2], rankings)
    assert rounds[0] == {0: 4, 1: 3, 2: 2}
    assert rounds[1] == {0: 4, 1: 5}
    assert winner == 1


def test_instant_runoff_drops_exhausted_ballots():
    """4 × A, 3 × B, 2 × C only (no further preference). C out; its 2 ballots are exhausted;
    round 2 counts 7: A 4 > 3.5 → A wins."""
    rankings = [[0]] * 4 + [[1]] * 3 + [[2]] * 2
    winner, rounds = instant_runoff([0, 1, 2], rankings)
    assert rounds[-1] == {0: 4, 1: 3} and winner == 0
