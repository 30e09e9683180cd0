"""The Celery application: configured from Django's settings (CELERY_*)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "moatapp.settings")

app = Celery("moatapp", task_cls="celery.contrib.django.task:DjangoTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Each context keeps its jobs in its own jobs.py.
app.autodiscover_tasks(["assessments", "assessments.notifications"], related_name="jobs")
