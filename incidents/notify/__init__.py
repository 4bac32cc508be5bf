"""Notification channels: Teams, Slack, email and signed webhooks behind one small sender interface."""
