"""Poll triggers: APScheduler 3.x BackgroundScheduler, one job per (bus, group).

A job only queues a poll on its bus (the bus owner thread does the I/O), so jobs are instant and never
overlap; still ``max_instances=1`` and ``coalesce`` guard against a stalled pool, and missed runs
(EVENT_JOB_MISSED, EVENT_JOB_MAX_INSTANCES) are counted. Start offsets are staggered so that buses and
groups do not all fire on the same second.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from dataclasses import dataclass

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from edge_agent.config.meters import BusConfig
from edge_agent.meters.bus import BusOwner

log = logging.getLogger("edge_agent.meters.schedule")

MISFIRE_GRACE_S = 30


@dataclass(frozen=True)
class GroupSchedule:
    bus_id: str
    group: str
    interval_s: float | None
    cron: str | None
    offset_s: float | None

    @property
    def period_s(self) -> float:
        """Nominal period (cron: an estimate of one minute, used for budgets and backoff)."""
        return self.interval_s if self.interval_s is not None else 60.0


def group_schedules(bus: BusConfig) -> list[GroupSchedule]:
    out = [
        GroupSchedule(bus.id, "default", None if bus.cron else bus.poll_interval_s, bus.cron, bus.offset_s)
    ]
    out += [GroupSchedule(bus.id, g.id, g.interval_s, g.cron, g.offset_s) for g in bus.groups]
    used = {m.group for m in bus.meters}
    return [s for s in out if s.group in used]


def stagger_offsets(schedules: list[GroupSchedule], spread_s: float = 10.0) -> list[float]:
    """Explicit offsets win; others spread evenly over the first ``spread_s`` (or the period if shorter)."""
    n = max(1, len(schedules))
    return [
        s.offset_s if s.offset_s is not None else 0.5 + i * min(spread_s, s.period_s) / n
        for i, s in enumerate(schedules)
    ]


class PollScheduler:
    def __init__(self, buses: list[BusOwner]) -> None:
        self.buses = {b.id: b for b in buses}
        self.schedules = [s for b in buses for s in group_schedules(b.cfg)]
        self.missed: Counter[str] = Counter()
        self.scheduler = BackgroundScheduler(
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE_S},
            timezone=dt.timezone.utc,
        )
        self.scheduler.add_listener(
            self._on_event, EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES | EVENT_JOB_ERROR
        )

    def _on_event(self, event: JobExecutionEvent) -> None:
        kind = {
            EVENT_JOB_MISSED: "missed",
            EVENT_JOB_MAX_INSTANCES: "max_instances",
            EVENT_JOB_ERROR: "error",
        }
        what = kind.get(event.code, str(event.code))
        self.missed[f"{event.job_id}:{what}"] += 1
        log.warning("poll job %s: %s", event.job_id, what)

    def start(self) -> None:
        # APScheduler logs every run at INFO: one line per poll per bus would drown the agent's log.
        logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
        now = dt.datetime.now(dt.timezone.utc)
        for s, offset in zip(self.schedules, stagger_offsets(self.schedules), strict=True):
            bus = self.buses[s.bus_id]
            trigger: IntervalTrigger | CronTrigger
            if s.cron is not None:
                trigger = CronTrigger.from_crontab(s.cron)
            else:
                start = now + dt.timedelta(seconds=offset)
                trigger = IntervalTrigger(seconds=s.interval_s or 60.0, start_date=start)
            self.scheduler.add_job(
                bus.request_poll,
                trigger,
                args=[s.group],
                id=f"{s.bus_id}/{s.group}",
                name=f"poll {s.bus_id}/{s.group}",
            )
            if s.cron is not None:
                # A cron group is polled once at start too, so the agent has readings before the first slot.
                self.scheduler.add_job(
                    bus.request_poll, "date", run_date=now + dt.timedelta(seconds=offset), args=[s.group]
                )
        self.scheduler.start()

    def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    @property
    def missed_total(self) -> int:
        return sum(self.missed.values())
