# Metrics (三率 dashboard): three indexes on appeals and the daily summary tables.
#
# The indexes are AddIndex operations; the lead adds the same three models.Index entries to
# Appeal.Meta.indexes (names below) so the migration state and models.py agree.
# The summary tables have no model: only renzhi.appeals.rollup reads and writes them (plain,
# portable SQL for SQLite and PostgreSQL).

from django.db import migrations, models

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
  hours_sum double precision NOT NULL DEFAULT 0
"""

TABLES = {
    "appeals_metric_place": """
  rday date NOT NULL,
  dday date NULL,
  place_code varchar(15) NOT NULL,
  grid_id bigint NULL,
  community_id bigint NULL,
  street_id bigint NULL,""",
    "appeals_metric_unit": """
  rday date NOT NULL,
  dday date NULL,
  place_code varchar(15) NOT NULL,
  community_id bigint NULL,
  street_id bigint NULL,
  unit_id bigint NULL,""",
    "appeals_metric_category": """
  rday date NOT NULL,
  dday date NULL,
  place_code varchar(15) NOT NULL,
  community_id bigint NULL,
  street_id bigint NULL,
  category_id bigint NULL,
  category_top_id bigint NULL,""",
}


def create_tables():
    statements = []
    for table, dims in TABLES.items():
        statements.append(f"CREATE TABLE {table} ({dims}{MEASURES})")
        statements.append(f"CREATE INDEX {table}_rday ON {table} (rday)")
        statements.append(f"CREATE INDEX {table}_dday ON {table} (dday)")
    statements.append(
        "CREATE TABLE appeals_metric_refresh (id integer NOT NULL PRIMARY KEY, "
        "refreshed_at varchar(40) NOT NULL, full_at varchar(40) NOT NULL, "
        "seconds double precision NOT NULL DEFAULT 0, days integer NOT NULL DEFAULT 0)"
    )
    return statements


def drop_tables():
    return [f"DROP TABLE {t}" for t in [*TABLES, "appeals_metric_refresh"]]


class Migration(migrations.Migration):

    dependencies = [
        ('appeals', '0002_import_job'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='appeal',
            index=models.Index(fields=['first_dispatched_at'], name='appeal_first_dispatched_idx'),
        ),
        migrations.AddIndex(
            model_name='appeal',
            index=models.Index(fields=['updated_at'], name='appeal_updated_idx'),
        ),
        migrations.AddIndex(
            model_name='appeal',
            index=models.Index(fields=['resolve_deadline'], condition=models.Q(overdue=True),
                               name='appeal_overdue_deadline_idx'),
        ),
        migrations.RunSQL(create_tables(), reverse_sql=drop_tables()),
    ]
