# Metrics summary tables, second shape: one row per (grain, day, key) instead of per
# (received day, dispatched day, key). Grain "d" is a local day, "m" a month (day = its 1st):
# a year reads 12 month rows per key instead of 365 day rows. The tables hold derived data
# only (renzhi.appeals.rollup rebuilds them), so they are dropped and created again; the next
# refresh is a full one.

from django.db import migrations

MEASURES = """
  received integer NOT NULL DEFAULT 0,
  dispatched integer NOT NULL DEFAULT 0,
  signed_in_time integer NOT NULL DEFAULT 0,
  due integer NOT NULL DEFAULT 0,
  resolved_ok integer NOT NULL DEFAULT 0,
  rated integer NOT NULL DEFAULT 0,
  satisfied integer NOT NULL DEFAULT 0,
  overdue integer NOT NULL DEFAULT 0,
  finished integer NOT NULL DEFAULT 0,
  reopened integer NOT NULL DEFAULT 0,
  hours_n integer NOT NULL DEFAULT 0,
  hours_sum double precision NULL
"""

KEYS = {
    "appeals_metric_place": """
  place_code varchar(15) NOT NULL,
  grid_id bigint NULL,
  community_id bigint NULL,
  street_id bigint NULL,""",
    "appeals_metric_unit": """
  place_code varchar(15) NOT NULL,
  community_id bigint NULL,
  street_id bigint NULL,
  unit_id bigint NULL,""",
    "appeals_metric_category": """
  place_code varchar(15) NOT NULL,
  community_id bigint NULL,
  street_id bigint NULL,
  category_id bigint NULL,
  category_top_id bigint NULL,""",
}
OLD_MEASURES = MEASURES.replace("hours_sum double precision NULL",
                                "hours_sum double precision NOT NULL DEFAULT 0")


def forwards():
    statements = ["DELETE FROM appeals_metric_refresh"]
    for table, keys in KEYS.items():
        statements.append(f"DROP TABLE {table}")
        statements.append(
            f"CREATE TABLE {table} (\n  grain char(1) NOT NULL,\n  day date NOT NULL,{keys}"
            f"{MEASURES})")
        statements.append(f"CREATE INDEX {table}_grain_day ON {table} (grain, day)")
    return statements


def backwards():
    statements = ["DELETE FROM appeals_metric_refresh"]
    for table, keys in KEYS.items():
        statements.append(f"DROP TABLE {table}")
        statements.append(
            f"CREATE TABLE {table} (\n  rday date NOT NULL,\n  dday date NULL,{keys}"
            f"{OLD_MEASURES})")
        statements.append(f"CREATE INDEX {table}_rday ON {table} (rday)")
        statements.append(f"CREATE INDEX {table}_dday ON {table} (dday)")
    return statements


class Migration(migrations.Migration):

    dependencies = [
        ('appeals', '0004_unique_without_nulls_distinct'),
    ]

    operations = [
        migrations.RunSQL(forwards(), reverse_sql=backwards()),
    ]
