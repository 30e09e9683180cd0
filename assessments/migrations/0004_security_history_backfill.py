"""A creation record for every audited row that has none.

Rows written by data migrations (rubric version 1, the defaults) were saved by
migration models, which keep no history: the audit trail would start without them.
"""

from django.db import migrations
from django.utils import timezone

AUDITED = ("Fund", "Membership", "Company", "Task", "Evidence", "RubricVersion")


def backfill(apps, schema_editor):
    now = timezone.now()
    for name in AUDITED:
        model = apps.get_model("assessments", name)
        historical = apps.get_model("assessments", f"Historical{name}")
        recorded = historical.objects.values("id")
        fields = [
            f.attname
            for f in historical._meta.fields
            if f.attname != "id" and not f.attname.startswith("history_")
        ]
        historical.objects.bulk_create(
            historical(
                id=row.pk,
                history_date=getattr(row, "created_at", None) or now,
                history_type="+",
                history_change_reason="recorded when the audit trail was completed",
                **{attname: getattr(row, attname) for attname in fields},
            )
            for row in model.objects.exclude(pk__in=recorded).iterator()
        )


class Migration(migrations.Migration):
    dependencies = [("assessments", "0003_exports_icpack")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
