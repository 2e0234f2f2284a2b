"""The urgency model beside the rules: it catches urgent appeals written without any danger
phrase, its threshold is chosen for recall (a missed emergency costs more than a false alarm),
ordinary appeals stay normal, too little data is refused cleanly, and intake says on the
timeline that the model (not a phrase) made an appeal urgent."""

import itertools

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from django.utils.translation import gettext as _

from renzhi.appeals import actions as appeal_actions
from renzhi.appeals.models import Appeal, AppealEvent, Priority
from renzhi.core.errors import ActionError
from renzhi.triage import actions, registry, training, urgency_model
from renzhi.triage.models import ModelVersion, TriageSuggestion
from renzhi.triage.tests.conftest import LIFT, WATER, corpus_rows, make_handled
from renzhi.triage.urgency import DEFAULT_RULES, assess
from renzhi.triage.urgency_model import URGENT, choose_threshold

# Danger in the resident's own words: none of these contains a rule phrase.
DANGER = [
    "{n}号楼前电线杆上的电线掉下来了，还在冒火花，请马上派人",
    "我家楼上水管爆了，水从天花板上往下流，{n}号楼楼上没人，请马上来人",
    "{n}号楼外墙瓷砖掉下来砸坏了车，下面还有人走，请马上设置警戒",
    "{n}号楼电梯门开着就往上走，差点夹到人，请马上停梯",
    "{n}号楼前消防通道被私家车堵死，救护车都进不来，请马上处理",
]
# Unseen phrasings of the same dangers (and of ordinary faults) for the checks after training.
NEW_DANGER = [
    "27号楼楼上水管爆了，水从天花板往下流，请马上来人",
    "路边电线掉下来了还在冒火花，请马上派人",
]
NEW_NORMAL = ["12号楼电梯异响，运行时抖动很厉害", "家里没水，从早上开始停水了"]

pytestmark = pytest.mark.django_db


def urgent_rows(w, per=6):
    numbers = itertools.count(1)
    rows = []
    for template in DANGER:
        for _i in range(per):
            rows.append((template.format(n=next(numbers) % 30 + 1), w.cat_lift, w.community_a))
    return [(text, cat, community, w.unit_a) for text, cat, community in rows]


def normal_rows(w, per=12):
    numbers = itertools.count(1)
    rows = []
    for templates, category in ((LIFT, w.cat_lift), (WATER, w.cat_outage)):
        for i in range(per):
            n = next(numbers)
            text = templates[i % len(templates)].format(n=n % 17 + 1, f=n % 9 + 2)
            rows.append((text, category, w.community_a, w.unit_a))
    return rows


@pytest.fixture
def urgency_corpus(cases, model_dir):
    """30 urgent handled appeals without danger phrases, 24 ordinary ones."""
    w = cases
    made = make_handled(w, urgent_rows(w))
    Appeal.objects.filter(pk__in=[a.pk for a in made]).update(priority=Priority.URGENT)
    make_handled(w, normal_rows(w), start=made[-1].received_at.replace(year=2025, month=9))
    return w


@pytest.fixture
def urgency_trained(urgency_corpus):
    w = urgency_corpus
    w.urgency_version = actions.train(None, "urgency", activate=True)
    return w


# --- the threshold, on its own ------------------------------------------------------------


def test_the_threshold_is_the_highest_that_reaches_the_recall_target():
    labels = ["urgent"] * 20 + ["normal"] * 80
    p = np.r_[np.linspace(0.95, 0.2, 20), np.linspace(0.25, 0.0, 80)]
    threshold, m = choose_threshold(labels, p, np.zeros(100, dtype=bool), max_share=0.3)
    flagged = p >= threshold
    assert flagged[:20].sum() == 19  # 19 of 20 = 0.95: the lowest-scored urgent one may go
    assert m["recall"] == 0.95 and m["target_met"]
    # It sits just below the 19th urgent row: any higher would miss the target.
    assert 0 <= p[18] - threshold < 1e-4


def test_urgent_appeals_the_rules_catch_let_the_model_threshold_rise():
    labels = ["urgent"] * 20 + ["normal"] * 80
    p = np.r_[np.linspace(0.95, 0.2, 20), np.linspace(0.25, 0.0, 80)]
    hits = np.zeros(100, dtype=bool)
    hits[10:20] = True  # the rules catch the low-scored half
    with_rules, m = choose_threshold(labels, p, hits, max_share=0.3)
    without, _m = choose_threshold(labels, p, np.zeros(100, dtype=bool), max_share=0.3)
    assert with_rules > without and m["recall"] >= 0.95 and m["rules_recall"] == 0.5


def test_when_the_target_needs_too_many_flags_the_flag_share_is_capped_and_said():
    # The urgent rows look exactly like the rest: recall 0.95 would flag almost everything.
    rng = np.random.default_rng(0)
    labels = ["urgent"] * 10 + ["normal"] * 90
    p = rng.uniform(0, 0.4, 100)
    threshold, m = choose_threshold(labels, p, np.zeros(100, dtype=bool), max_share=0.25)
    assert m["flag_share"] <= 0.25 and not m["target_met"]
    assert (p >= threshold).mean() == m["flag_share"]


def test_by_default_at_most_a_tenth_or_one_and_a_half_times_the_urgent_share_is_flagged():
    labels = ["urgent"] * 4 + ["normal"] * 96
    p = np.r_[np.full(4, 0.3), np.linspace(0.29, 0.0, 96)]
    threshold, m = choose_threshold(labels, p, np.zeros(100, dtype=bool), target=1.0)
    assert m["max_share"] == 0.1 and m["flag_share"] <= 0.1 and threshold > 0.25
    _t, m = choose_threshold(["urgent"] * 40 + ["normal"] * 60, np.zeros(100), np.zeros(100))
    assert m["max_share"] == 0.6


def test_the_threshold_never_asks_for_more_than_an_even_chance():
    labels = ["urgent"] * 10 + ["normal"] * 90
    p = np.r_[np.full(10, 0.99), np.full(90, 0.01)]
    threshold, m = choose_threshold(labels, p, np.zeros(100, dtype=bool))
    assert threshold == urgency_model.CEILING and m["recall"] == 1.0


# --- training from handled appeals ----------------------------------------------------------


def test_training_stores_a_recall_oriented_version(urgency_trained):
    v = urgency_trained.urgency_version
    assert v.active and v.head == "urgency" and v.rows == 54
    assert sorted(v.classes) == ["normal", "urgent"]
    m = v.measures
    assert m["rules_recall"] == 0.0  # the training texts avoid every rule phrase
    assert m["recall"] >= urgency_model.TARGET_RECALL and m["target_met"]
    assert 0 < v.thresholds[URGENT] <= urgency_model.CEILING
    assert v.thresholds[URGENT] == m["threshold"]
    assert v.per_class[URGENT]["recall"] == m["recall"]
    assert sum(map(sum, v.confusion)) == 54


def test_the_model_catches_urgent_texts_the_rules_miss(urgency_trained):
    for text in NEW_DANGER:
        assert not assess(text, DEFAULT_RULES).urgent, text
        opinion = urgency_model.opinion(text)
        assert opinion is not None and opinion.urgent, (text, opinion)


def test_ordinary_texts_stay_below_the_threshold(urgency_trained):
    for text in NEW_NORMAL:
        opinion = urgency_model.opinion(text)
        assert opinion is not None and not opinion.urgent, (text, opinion)
        assert opinion.probability < opinion.threshold


def refusal(urgent, normal):
    return _(
        "Cannot train the urgency model: the handled appeals include %(urgent)d urgent "
        "and %(normal)d normal ones; at least %(min)d of each are needed. The urgency "
        "rules keep working without it."
    ) % {"urgent": urgent, "normal": normal, "min": urgency_model.MIN_PER_CLASS}


def test_one_class_training_data_is_refused_cleanly(cases, model_dir):
    w = cases
    make_handled(w, normal_rows(w))  # nothing urgent at all
    with pytest.raises(ActionError) as refused:
        actions.train(None, "urgency")
    error = refused.value.errors[0]
    assert error.field == "head" and error.message == refusal(0, 24)
    assert not ModelVersion.objects.filter(head="urgency").exists()


def test_too_few_urgent_appeals_are_refused_and_all_skips_the_head(cases, model_dir):
    w = cases
    made = make_handled(w, urgent_rows(w, per=1) + corpus_rows(w))
    Appeal.objects.filter(pk__in=[a.pk for a in made[:5]]).update(priority=Priority.URGENT)
    with pytest.raises(CommandError) as refused:
        call_command("triage_train", "--head", "urgency")
    assert refusal(5, 96) in str(refused.value)
    from io import StringIO

    out = StringIO()
    call_command("triage_train", "--head", "all", stdout=out)
    assert "urgency: skipped" in out.getvalue()
    assert set(ModelVersion.objects.values_list("head", flat=True)) == {"category", "unit"}


def test_labels_leave_out_the_models_own_guesses_and_plain_supervision(urgency_corpus):
    w = urgency_corpus
    by_model, supervised, danger_supervised = make_handled(
        w,
        [
            ("小区里有人在遛狗不牵绳", w.cat_lift, w.community_a, w.unit_a),
            ("路灯坏了好几天了", w.cat_lift, w.community_a, w.unit_a),
            ("楼道里有很重的煤气味", w.cat_lift, w.community_a, w.unit_a),
        ],
        start=Appeal.objects.order_by("-received_at").first().received_at.replace(month=12),
    )
    Appeal.objects.filter(pk=by_model.pk).update(priority=Priority.URGENT)
    TriageSuggestion.objects.create(appeal=by_model, urgent=True, urgent_by_model=True)
    Appeal.objects.filter(pk__in=[supervised.pk, danger_supervised.pk]).update(
        priority=Priority.URGENT, supervised=True
    )
    data = training.training_set("urgency")
    assert "小区里有人在遛狗不牵绳" not in data.texts
    assert "路灯坏了好几天了" not in data.texts
    i = data.texts.index("楼道里有很重的煤气味")
    assert data.labels[i] == URGENT and data.rule_hits[i]


# --- intake ---------------------------------------------------------------------------------


def submit(w, text):
    return appeal_actions.submit_appeal(
        w.charlie, channel="web", description=text, lat=39.92, lng=116.42
    ).appeal


def test_intake_marks_urgent_via_the_model_and_says_so(urgency_trained):
    w = urgency_trained
    appeal = submit(w, NEW_DANGER[0])
    appeal.refresh_from_db()
    assert appeal.priority == Priority.URGENT
    suggestion = TriageSuggestion.objects.get(appeal=appeal)
    assert suggestion.urgent and suggestion.urgent_by_model and suggestion.urgent_phrases == []
    note = AppealEvent.objects.get(appeal=appeal, verb="comment")
    expected = _("Marked urgent automatically by the urgency model (confidence %(p)d%%).") % {
        "p": round(100 * suggestion.urgency_probability)
    }
    assert note.automatic and not note.public and expected in note.note
    assert note.data["urgent_by_model"] is True


def test_intake_leaves_an_ordinary_appeal_normal_with_the_model_active(urgency_trained):
    appeal = submit(urgency_trained, NEW_NORMAL[0])
    appeal.refresh_from_db()
    assert appeal.priority == Priority.NORMAL
    suggestion = TriageSuggestion.objects.get(appeal=appeal)
    assert not suggestion.urgent and suggestion.urgency_probability is not None


def test_a_rule_hit_names_its_phrases_even_with_the_model_active(urgency_trained):
    appeal = submit(urgency_trained, "地下车库着火了")
    appeal.refresh_from_db()
    assert appeal.priority == Priority.URGENT
    note = AppealEvent.objects.get(appeal=appeal, verb="comment").note
    assert "着火" in note


def test_the_rules_work_when_the_model_file_is_gone(urgency_trained):
    from renzhi.triage.training import model_path

    model_path(urgency_trained.urgency_version).unlink()
    registry.forget()
    appeal = submit(urgency_trained, "地下车库着火了")
    appeal.refresh_from_db()
    assert appeal.priority == Priority.URGENT
    assert TriageSuggestion.objects.get(appeal=appeal).urgency_probability is None
