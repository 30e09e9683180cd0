"""Notifications: alerts that reach people by e-mail, digest and webhook."""
