"""Imported text gets the same checks as typed text (issue 23 #9): row and column named."""

from __future__ import annotations

from renzhi.appeals.models import Appeal, ImportJob
from renzhi.appeals.tests.test_import import csv_bytes, problems, row, run


def test_it_refuses_an_overlong_address_a_control_character_and_an_invisible_description(cases):
    job = run(
        cases.alice,
        csv_bytes(
            [
                row(address="长" * 5000),  # 2
                row(name="张\x1b三"),  # 3
                row(description="\u200b\u202e"),  # 4
                row(address="甲一社区\u200b３号楼"),  # 5 fine once normalised
            ]
        ),
        filename="appeals.csv",
    )

    assert job.status == ImportJob.Status.FAILED
    assert problems(job) == [(2, "地址"), (3, "联系人"), (4, "诉求描述")]
    assert Appeal.objects.count() == 0


def test_imported_text_is_stored_normalised(cases):
    job = run(cases.alice, csv_bytes([row(address="甲一社区\u200b３号楼")]), filename="a.csv")

    assert job.status == ImportJob.Status.DONE, job.errors
    assert Appeal.objects.get().address == "甲一社区3号楼"
