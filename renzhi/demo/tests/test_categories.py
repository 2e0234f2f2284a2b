"""The appeal category tree the appeals app will load."""

from renzhi.core.models import UnitKind
from renzhi.demo.categories import CATEGORIES, subcategories

REQUIRED = [
    "城乡建设/市政设施",
    "环境保护/卫生",
    "交通运输",
    "教育文体",
    "劳动和社会保障",
    "商贸旅游",
    "卫生计生",
    "物业管理",
    "公共安全",
    "民政服务",
]


def test_it_has_the_ten_required_categories():
    assert [c["name"] for c in CATEGORIES] == REQUIRED


def test_each_category_has_three_to_six_subcategories_with_nested_codes():
    for category in CATEGORIES:
        assert len(category["code"]) == 2
        assert 3 <= len(category["children"]) <= 6, category["name"]
        for child in category["children"]:
            assert len(child["code"]) == 4
            assert child["code"].startswith(category["code"])


def test_codes_and_names_are_unique():
    codes = [c["code"] for c in CATEGORIES] + [s["code"] for s in subcategories()]
    names = [s["name"] for s in subcategories()]
    assert len(codes) == len(set(codes))
    assert len(names) == len(set(names))


def test_every_default_unit_kind_exists():
    kinds = [c["unit_kind"] for c in CATEGORIES] + [s["unit_kind"] for s in subcategories()]
    assert set(kinds) <= set(UnitKind.values)


def test_subcategories_carry_what_the_appeal_generator_needs():
    for sub in subcategories():
        assert sub["name_en"] and sub["weight"] > 0 and len(sub["keywords"]) >= 3
        assert all(1 <= m <= 12 for m in sub["peak_months"])
    heating = next(s for s in subcategories() if s["name"] == "供暖问题")
    assert 1 in heating["peak_months"] and 7 not in heating["peak_months"]
