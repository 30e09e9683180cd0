"""A fund's webhooks and their delivery logs."""

from django.urls import path

from . import views

urlpatterns = [
    path("funds/<int:fund_id>/webhooks/", views.fund_webhooks, name="fund_webhooks"),
    path(
        "funds/<int:fund_id>/webhooks/<int:webhook_id>/",
        views.webhook_deliveries,
        name="webhook_deliveries",
    ),
    path(
        "funds/<int:fund_id>/webhooks/<int:webhook_id>/test/",
        views.webhook_send_test,
        name="webhook_send_test",
    ),
    path(
        "funds/<int:fund_id>/webhooks/<int:webhook_id>/deliveries/<int:delivery_id>/resend/",
        views.webhook_resend,
        name="webhook_resend",
    ),
    path(
        "funds/<int:fund_id>/webhooks/<int:webhook_id>/delete/",
        views.webhook_delete,
        name="webhook_delete",
    ),
]
