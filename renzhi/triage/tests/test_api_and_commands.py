"""The triage API's steps and the operator commands."""

import pytest
from django.core.management import CommandError, call_command

from renzhi.appeals import actions as appeal_actions
from renzhi.appeals.models import Appeal, State
from renzhi.triage.models import HotIssue, ModelVersion
from renzhi.triage.tests.conftest import set_thresholds

pytestmark = pytest.mark.django_db


@pytest.fixture
def waiting(trained):
    w = trained
    set_thresholds(w.category_version, None)
    set_thresholds(w.unit_version, None)
    w.appeal = appeal_actions.submit_appeal(
        w.charlie, channel="web", description="8号楼电梯停运两天了", lat=39.92, lng=116.42
    ).appeal
    return w


def test_the_queue_lists_top3_with_probabilities_and_accept_dispatches(api_client, waiting):
    w = waiting
    api_client.force_login(w.dora)
    items = api_client.get("/api/triage/queue").json()["items"]
    assert items[0]["tracking_no"] == w.appeal.tracking_no
    assert items[0]["categories"][0]["code"] == "0801"
    assert items[0]["categories"][0]["name"] == "物业管理 / 电梯故障"
    response = api_client.post_json(f"/api/triage/queue/{w.appeal.tracking_no}/accept")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "tracking_no": w.appeal.tracking_no,
        "status": "accepted",
        "category": "0801",
        "unit": "U-WY-A",
        "state": "dispatched",
    }
    assert api_client.get("/api/triage/queue").json()["count"] == 0


def test_an_unknown_category_is_a_field_named_400_and_changes_nothing(api_client, waiting):
    w = waiting
    api_client.force_login(w.dora)
    response = api_client.post_json(
        f"/api/triage/queue/{w.appeal.tracking_no}/correct", {"category": "nope", "unit": "U-WY-A"}
    )
    assert response.status_code == 400
    assert response.json()["detail"][0]["field"] == "category"
    assert Appeal.objects.get(pk=w.appeal.pk).state == State.RECEIVED


def test_models_api_activates_and_rolls_back(api_client, waiting):
    w = waiting
    api_client.force_login(w.root)
    from renzhi.triage import actions

    newer = actions.train(None, "category")
    assert api_client.post(f"/api/triage/models/{newer.pk}/activate").json()["active"] is True
    back = api_client.post("/api/triage/models/category/rollback").json()
    assert back["id"] == w.category_version.pk
    assert ModelVersion.objects.get(pk=w.category_version.pk).active


def test_similar_endpoint_lists_near_duplicates_for_staff(api_client, waiting):
    w = waiting
    twin = appeal_actions.submit_appeal(
        w.charlie, channel="web", description="8号楼电梯停运两天了，请处理", lat=39.92, lng=116.42
    ).appeal
    api_client.force_login(w.dora)
    found = api_client.get(f"/api/triage/appeals/{twin.tracking_no}/similar").json()
    assert [f["tracking_no"] for f in found] == [w.appeal.tracking_no]
    api_client.force_login(w.charlie)
    assert api_client.get(f"/api/triage/appeals/{twin.tracking_no}/similar").status_code == 403


def test_triage_train_prints_metrics_and_activates(corpus, model_dir, capsys):
    call_command("triage_train", "--head", "category", "--activate")
    out = capsys.readouterr().out
    assert "accuracy" in out and "macro-F1" in out and "active" in out
    assert ModelVersion.objects.get(head="category").active


def test_triage_train_refuses_one_class_clearly(cases, model_dir):
    with pytest.raises(CommandError, match=r"unit|承办单位"):
        call_command("triage_train", "--head", "unit")
    assert not ModelVersion.objects.exists()


def test_triage_hot_command_refreshes(cases, capsys):
    call_command("triage_hot")
    assert "hot issues" in capsys.readouterr().out
    assert HotIssue.objects.count() == 0
