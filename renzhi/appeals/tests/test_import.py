"""Excel/CSV bulk intake: the template, every row checked before anything is written, problems
reported as (row, column, message), all rows or none, encodings, and progress.

root is the global administrator, alice community A staff, dora the street A dispatcher,
charlie a resident (may not import).
"""

from __future__ import annotations

import csv
import io
import random
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from openpyxl import Workbook, load_workbook

from renzhi.appeals import excel
from renzhi.appeals.actions import imports
from renzhi.appeals.models import Appeal, AppealEvent, ImportJob, State
from renzhi.core.errors import ActionError
from renzhi.core.models import AuditEvent

HEADER = [
    "诉求描述",
    "分类编码",
    "纬度",
    "经度",
    "地址",
    "社区编码",
    "联系人",
    "联系电话",
    "渠道来源编号",
    "受理时间",
]


def row(
    description="3号楼电梯停了",
    category="0801",
    lat="39.92",
    lng="116.42",
    address="",
    place="",
    name="张三",
    phone="13800001234",
    ref="",
    received="",
) -> list:
    return [description, category, lat, lng, address, place, name, phone, ref, received]


def xlsx(rows: list[list], header=HEADER) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("诉求")
    sheet.append(header)
    for values in rows:
        sheet.append(values)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def csv_bytes(rows: list[list], encoding="utf-8", header=HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def run(user, content: bytes, filename="appeals.xlsx") -> ImportJob:
    job = imports.start_import(user, filename=filename, content=content)
    return imports.run_import(job.pk)


def problems(job: ImportJob) -> list[tuple[int, str]]:
    return [(e["row"], e["column"]) for e in job.errors]


def upload(api_client, user, content: bytes, filename="appeals.xlsx"):
    api_client.logout()
    api_client.force_login(user)
    return api_client.post("/api/appeals/import", {"file": SimpleUploadedFile(filename, content)})


# --- The template ---------------------------------------------------------------------------


def test_the_template_has_the_chinese_header_and_the_importers_codes(cases, api_client):
    api_client.force_login(cases.alice)
    response = api_client.get("/api/appeals/import/template")
    assert response.status_code == 200
    assert response["Content-Type"] == excel.XLSX_CONTENT_TYPE
    workbook = load_workbook(io.BytesIO(response.content))
    assert [c.value for c in workbook["诉求"][1]] == HEADER
    assert workbook["诉求"].max_row == 1  # no example row that would be imported by mistake
    communities = {r[0] for r in workbook["社区"].iter_rows(min_row=2, values_only=True)}
    assert communities == {"110105001001", "110105001001001", "110105001001002"}  # A only
    categories = {r[0] for r in workbook["分类"].iter_rows(min_row=2, values_only=True)}
    assert {"0801", "0101"} <= categories


def test_a_resident_may_not_download_the_template_or_import(cases, api_client):
    api_client.force_login(cases.charlie)
    assert api_client.get("/api/appeals/import/template").status_code == 403
    assert upload(api_client, cases.charlie, xlsx([row()])).status_code == 403
    assert ImportJob.objects.count() == 0


# --- Good files -----------------------------------------------------------------------------


def test_a_good_file_imports_every_row_through_the_normal_intake(cases):
    w = cases
    job = run(
        w.alice,
        xlsx(
            [
                row(ref="EXT-1"),
                row(
                    description="停水了",
                    category="0101",
                    lat="",
                    lng="",
                    place="110105001001",
                    ref="EXT-2",
                    received="2026-03-02 09:30",
                ),
            ]
        ),
    )
    assert job.status == ImportJob.Status.DONE, job.errors
    assert (job.created, job.total, job.processed) == (2, 2, 2)
    lift, water = Appeal.objects.order_by("id")
    assert lift.channel == "import" and lift.created_by == w.alice
    assert lift.state == State.DISPATCHED and lift.unit == w.unit_a  # routed as usual
    assert lift.extra == {"import_job": job.pk, "row": 2} and lift.external_ref == "EXT-1"
    assert water.state == State.RECEIVED and water.community == w.community_a
    assert water.received_at.isoformat() == "2026-03-02T01:30:00+00:00"
    assert water.tracking_no.startswith("RZ20260302-")
    assert AuditEvent.objects.filter(verb="appeal.submit").count() == 2
    assert job.content is None  # the uploaded personal data is not kept


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_files_are_read_in_utf8_with_or_without_bom_and_in_gbk(cases, encoding):
    job = run(
        cases.alice,
        csv_bytes([row(description="楼道灯不亮，请尽快维修")], encoding=encoding),
        filename="appeals.csv",
    )
    assert job.status == ImportJob.Status.DONE, job.errors
    assert Appeal.objects.get().description == "楼道灯不亮，请尽快维修"


def test_excel_numbers_are_read_as_codes_and_phones(cases):
    job = run(
        cases.alice,
        xlsx([row(category=801, lat=39.92, lng=116.42, place=110105001001, phone=13800001234)]),
    )
    assert job.status == ImportJob.Status.DONE, job.errors
    appeal = Appeal.objects.get()
    assert appeal.category == cases.cat_lift and appeal.contact_phone == "13800001234"


def test_english_field_names_are_accepted_as_headers(cases):
    job = run(
        cases.alice,
        csv_bytes(
            [["电梯停了", "0801", "39.92", "116.42"]],
            header=["description", "category_code", "lat", "lng"],
        ),
        filename="partner.csv",
    )
    assert job.status == ImportJob.Status.DONE, job.errors


def test_the_api_answers_201_with_the_finished_job(
    cases, api_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(api_client, cases.alice, xlsx([row()]))
    assert response.status_code == 202  # queued: the task runs once the job row is committed
    job_id = response.json()["id"]
    body = api_client.get(f"/api/appeals/import/{job_id}").json()
    assert (body["status"], body["created"], body["finished"]) == ("done", 1, True)
    listed = api_client.get(f"/api/appeals/?import_job={job_id}").json()["items"]
    assert len(listed) == 1


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_api_runs_the_job_at_once(cases, api_client):
    response = upload(api_client, cases.alice, xlsx([row(), row(description="")]))
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == [
        {
            "field": "诉求描述",
            "code": "invalid",
            "row": 3,
            "column": "诉求描述",
            "message": "请描述问题。",
        }
    ]
    assert body["job"]["status"] == "failed" and Appeal.objects.count() == 0
    response = upload(api_client, cases.alice, xlsx([row(), row()]))
    assert response.status_code == 201 and response.json()["created"] == 2


# --- Bad rows: every problem reported, nothing written ---------------------------------------


def test_every_bad_row_is_reported_with_its_row_and_column_and_nothing_is_written(cases):
    job = run(
        cases.alice,
        xlsx(
            [
                row(),  # 2 fine
                row(description=""),  # 3
                row(category="9999"),  # 4
                row(lat="39.92", lng=""),  # 5
                row(lat="31.23", lng="121.47"),  # 6 Shanghai: outside the area
                row(lat="abc"),  # 7
                row(phone="12-ab"),  # 8
                row(received="2026/13/45"),  # 9
                row(lat="", lng="", place="110105002001"),  # 10 community B: not alice's
                row(lat="", lng="", place="123"),  # 11
                row(lat="", lng=""),  # 12 no location at all
                row(lat="39.92", lng="116.55"),  # 13 a point in community B
                row(ref="R1"),
                row(ref="R1"),  # 15 repeats row 14
                row(received="2099-01-01 10:00"),  # 16 future
                row(lat="39.92", lng="116.42", place="110105001001002"),  # 17 point in A1, not A2
            ]
        ),
    )
    assert job.status == ImportJob.Status.FAILED
    assert problems(job) == [
        (3, "诉求描述"),
        (4, "分类编码"),
        (5, "经度"),
        (6, "纬度"),
        (7, "纬度"),
        (8, "联系电话"),
        (9, "受理时间"),
        (10, "社区编码"),
        (11, "社区编码"),
        (12, "社区编码"),
        (13, "纬度"),
        (15, "渠道来源编号"),
        (16, "受理时间"),
        (17, "社区编码"),
    ]
    assert Appeal.objects.count() == 0 and AppealEvent.objects.count() == 0
    assert "14" in job.message or job.message  # a summary for the UI


def test_problem_messages_are_chinese_by_default(cases):
    job = run(cases.alice, xlsx([row(phone="12-ab"), row(lat="31.23", lng="121.47")]))
    assert [e["message"] for e in job.errors] == [
        "请输入有效的电话号码。",
        "该位置不在服务区域内。",
    ]


def test_a_file_imported_once_is_refused_the_second_time(cases):
    assert run(cases.alice, xlsx([row(ref="EXT-9")])).status == ImportJob.Status.DONE
    again = run(cases.alice, xlsx([row(ref="EXT-9")]))
    assert problems(again) == [(2, "渠道来源编号")]
    assert Appeal.objects.get().tracking_no in again.errors[0]["message"]


def test_a_row_refused_during_writing_rolls_everything_back(cases, monkeypatch):
    """Something that changed between checking and writing (here: a category retired) still
    leaves nothing behind, and the row is named."""
    from renzhi.appeals.actions import cases as intake

    # The write phase checks every row again through `_clean_intake` (via `submit_many`).
    real = intake._clean_intake
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            from renzhi.core.errors import ActionError as Refused

            raise Refused("此分类已停用。", field="category")
        return real(*args, **kwargs)

    monkeypatch.setattr(intake, "_clean_intake", flaky)
    job = run(cases.alice, xlsx([row(), row(), row(), row()]))
    assert job.status == ImportJob.Status.FAILED
    assert job.errors == [{"row": 4, "column": "分类编码", "message": "此分类已停用。"}]
    assert Appeal.objects.count() == 0 and AppealEvent.objects.count() == 0


# --- Bad files ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "content"),
    [
        ("appeals.pdf", b"%PDF-1.7 ..."),
        ("appeals.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100),
        ("appeals.xlsx", b"this is not a zip"),
        ("appeals.csv", b""),
        ("appeals.csv", "诉求描述,分类编码\n".encode()),  # a header without rows
        ("appeals.csv", "地址,联系人\n幸福路,张三\n".encode()),  # no description column
        ("appeals.csv", b"\xff\xfe\x00\x00garbage\x00\x00"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_on_the_file_field(
    cases, api_client, filename, content
):
    response = upload(api_client, cases.alice, content, filename)
    assert response.status_code == 400, response.content
    assert [e["field"] for e in response.json()["detail"]] == ["file"]
    assert ImportJob.objects.count() == 0 and Appeal.objects.count() == 0


def test_an_import_without_a_file_names_the_field(cases, api_client):
    api_client.force_login(cases.alice)
    response = api_client.post("/api/appeals/import", {})
    assert response.status_code == 400 and response.json()["detail"][0]["field"] == "file"


def test_someone_elses_import_job_is_not_found(cases, api_client):
    job = imports.start_import(cases.alice, filename="a.xlsx", content=xlsx([row()]))
    api_client.force_login(cases.dora)
    assert api_client.get(f"/api/appeals/import/{job.pk}").status_code == 404
    api_client.logout()
    api_client.force_login(cases.root)
    assert api_client.get(f"/api/appeals/import/{job.pk}").status_code == 200


def test_a_finished_job_is_not_run_twice(cases):
    job = run(cases.alice, xlsx([row()]))
    again = imports.run_import(job.pk)
    assert again.status == ImportJob.Status.DONE and Appeal.objects.count() == 1


def test_progress_is_recorded_while_checking(cases, monkeypatch):
    seen = []
    monkeypatch.setattr(imports, "PROGRESS_EVERY", 2)
    real = imports._set

    def spy(job, **fields):
        if "processed" in fields:
            seen.append((job.status, fields["processed"]))
        real(job, **fields)

    monkeypatch.setattr(imports, "_set", spy)
    run(cases.alice, xlsx([row() for _ in range(5)]))
    assert ("validating", 2) in seen and ("validating", 4) in seen


def test_a_file_over_the_row_limit_is_refused(cases, monkeypatch):
    monkeypatch.setattr(excel, "MAX_IMPORT_ROWS", 3)
    with pytest.raises(ActionError) as refused:
        imports.start_import(
            cases.alice, filename="a.csv", content=csv_bytes([row() for _ in range(4)])
        )
    assert refused.value.errors[0].field == "file"


# --- The acceptance case: 10,000 rows -------------------------------------------------------


def big_file(n: int, bad: dict[int, dict]) -> bytes:
    """n rows spread over both grids of community A and two categories (routed and not)."""
    rnd = random.Random(20261125)
    rows = []
    for i in range(n):
        values = row(
            description=f"第{i}号诉求：楼道灯不亮",
            category=("0801", "0101")[i % 2],
            lat=f"{rnd.uniform(39.901, 39.949):.6f}",
            lng=f"{rnd.uniform(116.401, 116.499):.6f}",
            phone=f"138{i:08d}",
            ref=f"BULK-{i}",
        )
        for column, value in bad.get(i + 2, {}).items():
            values[HEADER.index(column)] = value
        rows.append(values)
    return xlsx(rows)


def test_ten_thousand_rows_with_three_bad_ones_write_nothing_and_the_fixed_file_imports_all(cases):
    bad = {17: {"诉求描述": ""}, 5003: {"联系电话": "12345"}, 9999: {"纬度": "31.2"}}
    started = time.perf_counter()
    job = run(cases.alice, big_file(10_000, bad))
    assert job.status == ImportJob.Status.FAILED
    assert problems(job) == [(17, "诉求描述"), (5003, "联系电话"), (9999, "纬度")]
    assert Appeal.objects.count() == 0
    checked = time.perf_counter() - started

    job = run(cases.alice, big_file(10_000, {}))
    assert job.status == ImportJob.Status.DONE, job.errors[:3]
    assert job.created == Appeal.objects.filter(channel="import").count() == 10_000
    assert Appeal.objects.filter(state=State.DISPATCHED).count() == 5_000  # lifts: routed
    print(
        f"\n10,000-row import: refused in {checked:.1f} s, imported in "
        f"{time.perf_counter() - started - checked:.1f} s"
    )


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: SQLite has one writer, so progress waits for commit",
)
def test_progress_of_the_write_phase_is_visible_to_others_before_the_commit(cases):
    job = imports.start_import(cases.alice, filename="a.xlsx", content=xlsx([row()]))
    progress = imports._Progress(job)
    observer = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        with transaction.atomic():
            progress.imported(500, 480)
            with observer.cursor() as cursor:
                cursor.execute(
                    "SELECT processed, created FROM appeals_importjob WHERE id = %s", [job.pk]
                )
                assert cursor.fetchone() == (500, 480)
    finally:
        progress.close()
        observer.close()


def test_a_file_over_the_size_limit_is_refused_before_reading(cases, api_client, monkeypatch):
    monkeypatch.setattr(excel, "MAX_IMPORT_BYTES", 1024)
    response = upload(api_client, cases.alice, xlsx([row() for _ in range(50)]))
    assert response.status_code == 400
    assert response.json()["detail"][0]["field"] == "file"
    assert ImportJob.objects.count() == 0
