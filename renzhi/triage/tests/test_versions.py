"""Model versions: training stores metrics and thresholds; one active version per head;
atomic switch and rollback; bad input leaves the running model in place."""

import pytest

from renzhi.core.errors import ActionError
from renzhi.core.models import AuditEvent
from renzhi.triage import actions, registry
from renzhi.triage.models import ModelVersion
from renzhi.triage.tests.conftest import make_handled

pytestmark = pytest.mark.django_db


def test_training_stores_a_measured_version(trained):
    v = trained.category_version
    assert v.active and v.rows == 96
    assert sorted(v.classes) == ["0101", "0801"]
    assert v.names["0801"] == "物业管理 / 电梯故障"
    assert set(v.per_class["0801"]) == {"precision", "recall", "f1", "support"}
    assert sum(map(sum, v.confusion)) == 96
    assert v.accuracy > 0.9 and v.macro_f1 > 0.9
    assert all(0.5 <= t <= 1 for t in v.thresholds.values())
    assert AuditEvent.objects.filter(verb="triage.train", object_id=str(v.pk)).exists()


def test_activating_switches_and_rollback_returns(trained):
    w = trained
    first = w.category_version
    second = actions.train(None, "category")
    assert not second.active and registry.active_version("category") == first
    actions.activate(w.root, second)
    assert registry.active_version("category") == second
    assert ModelVersion.objects.filter(head="category", active=True).count() == 1
    assert registry.active("category")[0] == second  # the cache follows the switch
    actions.rollback(w.root, "category")
    assert registry.active_version("category") == first
    assert registry.active("category")[0] == first
    assert AuditEvent.objects.filter(verb="triage.rollback").count() == 1


def test_rollback_without_an_earlier_version_is_refused(trained):
    with pytest.raises(ActionError) as refused:
        actions.rollback(trained.root, "unit")
    assert refused.value.errors[0].field == "head"
    assert registry.active_version("unit") == trained.unit_version


def test_a_model_file_that_is_not_ours_is_refused_and_the_running_model_stays(trained):
    w = trained
    bad = actions.train(None, "category")
    from renzhi.triage.training import model_path

    model_path(bad).write_bytes(b"PK\x03\x04 not a model at all")
    with pytest.raises(ActionError) as refused:
        actions.activate(w.root, bad)
    assert refused.value.errors[0].field == "file"
    assert "not a Renzhi text classifier" in refused.value.errors[0].message
    assert registry.active_version("category") == w.category_version
    assert registry.active_classifier("category") is not None


def test_a_training_set_with_one_class_is_refused_with_a_clear_message(cases, model_dir):
    w = cases
    make_handled(w, [(f"{i}号楼电梯坏了", w.cat_lift, w.community_a, w.unit_a) for i in range(5)])
    with pytest.raises(ActionError) as refused:
        actions.train(None, "category")
    message = refused.value.errors[0].message
    assert refused.value.errors[0].field == "head" and "0801" in message
    assert not ModelVersion.objects.exists()
    assert not list(model_dir.glob("*.rzm"))


def test_only_the_global_administrator_manages_models(trained):
    w = trained
    for user in (w.adam, w.dora, w.frank):
        with pytest.raises(ActionError):
            actions.rollback(user, "category")
        with pytest.raises(ActionError):
            actions.train(user, "category")
    assert ModelVersion.objects.count() == 2


def test_without_an_active_version_there_is_no_classifier(corpus, model_dir):
    assert registry.active_classifier("category") is None
    version = actions.train(None, "category")
    assert registry.active_classifier("category") is None
    actions.activate(None, version)
    assert registry.active_classifier("category").classes == ["0101", "0801"]
