"""The resources demo data: depots with stock (some near expiry, some below minimum), helpers
with skills and a vulnerable register, all through the ledger — and a second run adds nothing."""

from __future__ import annotations

import pytest

from renzhi.demo.build import BuildReport, build_city
from renzhi.emergency import demo_resources, reserves
from renzhi.emergency.models import (
    Depot,
    PersonProfile,
    StockBatch,
    StockMove,
    VulnerableResident,
)

pytestmark = pytest.mark.django_db


def test_the_demo_stocks_depots_registers_helpers_and_is_idempotent():
    city, _ = build_city(scale=0.05)
    demo_resources.load(city, BuildReport(seed=city.seed, scale=0.05), lambda m: None)
    counts = (
        Depot.objects.count(),
        StockMove.objects.count(),
        PersonProfile.objects.count(),
        VulnerableResident.objects.count(),
    )
    assert counts[0] == 3 * 2 + 12 and counts[2] > 12 and counts[3] == 120

    for batch in StockBatch.objects.all():
        assert batch.quantity == sum(batch.moves.values_list("quantity", flat=True)) >= 0
    depots = Depot.objects.all()
    assert reserves.expiring_batches(depots, 7).exists()
    short = [r for r in reserves.stock_rows(depots) if r.below_minimum]
    assert short, "some community depot should sit below its minimum"
    assert VulnerableResident.objects.filter(helper__isnull=False).exists()

    demo_resources.load(city, BuildReport(seed=city.seed, scale=0.05), lambda m: None)
    assert (
        Depot.objects.count(),
        StockMove.objects.count(),
        PersonProfile.objects.count(),
        VulnerableResident.objects.count(),
    ) == counts
