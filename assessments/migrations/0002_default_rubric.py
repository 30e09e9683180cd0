"""The defaults of the scoring model become rubric version 1, active."""

from django.db import migrations
from django.utils import timezone


def create_default_rubric(apps, schema_editor):
    RubricVersion = apps.get_model("assessments", "RubricVersion")
    if not RubricVersion.objects.exists():
        RubricVersion.objects.create(
            number=1, name="Defaults", is_active=True, activated_at=timezone.now()
        )


class Migration(migrations.Migration):
    dependencies = [("assessments", "0001_initial")]

    operations = [migrations.RunPython(create_default_rubric, migrations.RunPython.noop)]
