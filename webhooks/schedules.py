"""Periodic tasks of the webhooks app: due deliveries every minute (each change also queues a run after commit),
old delivered messages once a day."""

from aimsweb.schedules import schedule_declare
from webhooks import tasks

schedule_declare(name="aims-outbound-webhooks-deliver", func=tasks.messages_deliver_task)
schedule_declare(name="aims-outbound-webhooks-prune", func=tasks.messages_prune_task, minutes=24 * 60)
