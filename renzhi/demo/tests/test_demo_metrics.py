"""The 三率 dashboard on the demo city's appeals equals an independent raw SQL GROUP BY."""

import datetime as dt

from renzhi.appeals.metrics import Period
from renzhi.appeals.tests.test_metrics import assert_equal_to_raw
from renzhi.core.models import User
from renzhi.demo.tests.test_demo_appeals import END, FIRST_DAY, data, demo  # noqa: F401 (fixtures)


def test_every_group_and_metric_on_the_demo_data_equals_the_raw_sql(data):  # noqa: F811
    period = Period(FIRST_DAY, END.date() + dt.timedelta(days=1))
    leader = User.objects.get(username="leader")
    street_leader = User.objects.get(username="leader1")

    compared = assert_equal_to_raw(leader, period, END, "110105")
    compared += assert_equal_to_raw(street_leader, period, END, "110105001")

    assert compared > 1000  # every group of every grouping, every metric
