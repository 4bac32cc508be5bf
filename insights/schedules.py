"""Periodic tasks of the insights app: missed runs every minute; the platforms' schedules and the days that ended
into the pipelines' series every 15 minutes; the cadences learnt from runs every hour; old points once a day."""

from aimsweb.schedules import schedule_declare
from insights import tasks

schedule_declare(name="aims-insights-missed-runs", func=tasks.missed_runs_check_task)
schedule_declare(name="aims-insights-platform-schedules", func=tasks.platform_schedules_refresh_task, minutes=15)
schedule_declare(name="aims-insights-pipeline-days", func=tasks.pipeline_days_record_task, minutes=15)
schedule_declare(name="aims-insights-cadences", func=tasks.cadences_learn_task, minutes=60)
schedule_declare(name="aims-insights-points-prune", func=tasks.points_prune_task, minutes=24 * 60)
