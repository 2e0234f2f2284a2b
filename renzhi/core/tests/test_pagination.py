from renzhi.core.models import Unit


def test_lists_give_fifty_a_page_and_honour_a_larger_page_size(world, api_client):
    Unit.objects.bulk_create(
        [Unit(code=f"U-T-{i:03d}", name=f"测试单位{i}", kind="other") for i in range(60)]
    )
    client = api_client.as_user(world.root)

    first = client.get("/api/units").json()
    large = client.get("/api/units?page_size=500").json()

    assert first["count"] == 62 and len(first["items"]) == 50
    assert len(large["items"]) == 62
