"""Counting votes: quorum, pass thresholds and instant-runoff, as pure functions of the ballots.

Definitions (also in docs/commons-staff.md):
- *Cast* is every ballot, abstentions included: a pass threshold is a share of those who took
  part (参与表决), as the Civil Code counts owners' decisions.
- Quorum `percent`: cast × 100 ≥ quorum % × electorate. Quorum `double_two_thirds`
  (双三分之二): cast ≥ ⅔ of the electors AND their floor area ≥ ⅔ of the electorate's area.
- Pass `simple`: winner > ½ of cast; `two_thirds`: ≥ ⅔; `three_quarters`: ≥ ¾. With `by_area`
  the same share must hold for the floor area of the ballots too (双过半 / 双四分之三 …).
- yes/no/abstain: options 0 yes, 1 no, 2 abstain; the proposal passes when "yes" meets the
  threshold. Single choice and approval: the option with most votes (approvals) wins if it
  meets the threshold; a tie for first place has no winner.
- Ranked (instant runoff): each round counts every ballot for its highest-ranked continuing
  option; an option with more than half of the ballots still counting wins; otherwise the
  option with fewest votes is eliminated (a tie for fewest: the one with fewer first
  preferences, then the one listed later). Exhausted ballots stop counting. The pass rule and
  `by_area` do not apply to ranked votes: the runoff majority is the decision.
All comparisons are exact (integers and Decimals), no floats.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from renzhi.commons.models import PassRule, QuorumRule, VoteMethod

YES, NO, ABSTAIN = 0, 1, 2


@dataclass(frozen=True)
class Rules:
    method: str
    quorum_rule: str = QuorumRule.PERCENT
    quorum_percent: int = 50
    pass_rule: str = PassRule.SIMPLE
    by_area: bool = False


@dataclass(frozen=True)
class CastBallot:
    choice: Sequence[int]
    area: Decimal = Decimal("0")


@dataclass
class Outcome:
    cast: int
    cast_area: Decimal
    electorate: int
    electorate_area: Decimal
    counts: dict[int, int]
    areas: dict[int, Decimal]
    quorum_met: bool
    winner: int | None
    passed: bool
    rounds: list[dict[int, int]] = field(default_factory=list)

    @property
    def turnout_percent(self) -> float:
        return round(100 * self.cast / self.electorate, 1) if self.electorate else 0.0

    def as_json(self) -> dict:
        return {
            "cast": self.cast,
            "cast_area": str(self.cast_area),
            "electorate": self.electorate,
            "electorate_area": str(self.electorate_area),
            "turnout_percent": self.turnout_percent,
            "counts": {str(k): v for k, v in self.counts.items()},
            "areas": {str(k): str(v) for k, v in self.areas.items()},
            "quorum_met": self.quorum_met,
            "winner": self.winner,
            "passed": self.passed,
            "rounds": [{str(k): v for k, v in r.items()} for r in self.rounds],
        }


def quorum_met(rules: Rules, cast: int, cast_area: Decimal, electorate: int, area: Decimal) -> bool:
    if rules.quorum_rule == QuorumRule.NONE:
        return cast > 0
    if rules.quorum_rule == QuorumRule.DOUBLE_TWO_THIRDS:
        return electorate > 0 and 3 * cast >= 2 * electorate and 3 * cast_area >= 2 * area
    return electorate > 0 and cast * 100 >= rules.quorum_percent * electorate


def meets(pass_rule: str, part: int | Decimal, whole: int | Decimal) -> bool:
    """Does `part` of `whole` meet the pass threshold?"""
    if whole <= 0:
        return False
    if pass_rule == PassRule.TWO_THIRDS:
        return 3 * part >= 2 * whole
    if pass_rule == PassRule.THREE_QUARTERS:
        return 4 * part >= 3 * whole
    return 2 * part > whole


def count(
    rules: Rules,
    positions: Sequence[int],
    ballots: Sequence[CastBallot],
    electorate: int,
    electorate_area: Decimal = Decimal("0"),
    *,
    cast_area: Decimal | None = None,
) -> Outcome:
    """Count `ballots`. `cast_area` is the floor area of those who took part when it is known
    from the register (the ballot box passes it); otherwise the sum of the ballots' areas."""
    cast = len(ballots)
    if cast_area is None:
        cast_area = sum((b.area for b in ballots), Decimal("0"))
    counts = {p: 0 for p in positions}
    areas = {p: Decimal("0") for p in positions}
    rounds: list[dict[int, int]] = []
    if rules.method == VoteMethod.RANKED:
        winner, rounds = instant_runoff(positions, [b.choice for b in ballots])
        counts = dict(rounds[0]) if rounds else counts
    else:
        for b in ballots:
            for p in set(b.choice):
                counts[p] += 1
                areas[p] += b.area
        winner = _top(counts, exclude={ABSTAIN, NO} if rules.method == VoteMethod.YES_NO else set())
        if rules.method == VoteMethod.YES_NO:
            winner = YES
    quorum = quorum_met(rules, cast, cast_area, electorate, electorate_area)
    if winner is None or not quorum:
        passed = False
    elif rules.method == VoteMethod.RANKED:
        passed = True
    else:
        passed = meets(rules.pass_rule, counts[winner], cast) and (
            not rules.by_area or meets(rules.pass_rule, areas[winner], cast_area)
        )
    return Outcome(
        cast=cast,
        cast_area=cast_area,
        electorate=electorate,
        electorate_area=electorate_area,
        counts=counts,
        areas=areas,
        quorum_met=quorum,
        winner=winner if (rules.method != VoteMethod.YES_NO or passed) else None,
        passed=passed,
        rounds=rounds,
    )


def instant_runoff(
    positions: Sequence[int], rankings: Sequence[Sequence[int]]
) -> tuple[int | None, list[dict[int, int]]]:
    """The IRV winner (None when every ballot is exhausted or two options tie at the end)."""
    continuing = list(positions)
    rounds: list[dict[int, int]] = []
    while continuing:
        tally = {p: 0 for p in continuing}
        for ranking in rankings:
            for p in ranking:
                if p in tally:
                    tally[p] += 1
                    break
        rounds.append(tally)
        counting = sum(tally.values())
        if counting == 0:
            return None, rounds
        leader = max(continuing, key=lambda p: tally[p])
        if 2 * tally[leader] > counting:
            return leader, rounds
        if len(continuing) == 1:
            return None, rounds
        first = rounds[0]
        loser = min(continuing, key=lambda p: (tally[p], first.get(p, 0), -positions.index(p)))
        continuing.remove(loser)
    return None, rounds


def _top(counts: dict[int, int], exclude: set[int]) -> int | None:
    ranked = sorted(((n, p) for p, n in counts.items() if p not in exclude), reverse=True)
    if not ranked or ranked[0][0] == 0:
        return None
    if len(ranked) > 1 and ranked[1][0] == ranked[0][0]:
        return None
    return ranked[0][1]
