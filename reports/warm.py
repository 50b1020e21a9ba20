"""Ready a scheduled report before its slot: the scheduler's `before_slot` hook (reports/scheduler.py) runs this a
minute ahead, so the Grafana discovery the report queries with is fresh when the slot fires (the 08:00 report
starts warm, even after a night without questions or a restart) and no refresh runs behind the report itself."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from reports.builder import ReportOptions
from reports.sections import discovery
from reports.sections.grafana import KEY as GRAFANA_KEY
from reports.sections.grafana import lookback
from skills.grafana.skill import GrafanaSkill

if TYPE_CHECKING:
    from agent.services import Services
    from storage.jobs import Job

log = logging.getLogger(__name__)


async def before_slot(services: Services, job: Job) -> None:
    """Refresh the discovery of the job's team for the job's window (what its report will look up first)."""
    options = ReportOptions.for_job(job.window_hours, job.sections)
    if GRAFANA_KEY not in options.sections:
        return
    team = await services.storage.teams.get(job.team_id)
    grafana = await services.skill(team, "grafana")
    if not isinstance(grafana, GrafanaSkill) or not grafana.configured:
        return
    found = await discovery.refresh(grafana.client, lookback(options.grafana_hours))
    log.info("ready for %s: Loki %s, selector %s", job.name, found.loki_uid, found.selector)
