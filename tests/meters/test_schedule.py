"""Poll triggers on APScheduler: one job per (bus, group), interval or cron, staggered offsets."""

from __future__ import annotations

import time

from edge_agent.clock import SystemClock
from edge_agent.config.meters import BusConfig
from edge_agent.meters.bus import BusOwner
from edge_agent.meters.schedule import PollScheduler, group_schedules, stagger_offsets


def _bus() -> BusConfig:
    return BusConfig.model_validate(
        {
            "id": "b",
            "port": "/dev/null",
            "cron": "0 3 * * *",
            "groups": [{"id": "fast", "interval_s": 0.2}, {"id": "unused", "interval_s": 5}],
            "meters": [
                {"id": "daily", "protocol": "dlt645", "address": "1"},
                {"id": "main", "protocol": "dlt645", "address": "2", "group": "fast"},
            ],
        }
    )


def test_groups_and_staggered_offsets() -> None:
    schedules = group_schedules(_bus())
    assert [(s.group, s.interval_s, s.cron) for s in schedules] == [
        ("default", None, "0 3 * * *"),
        ("fast", 0.2, None),
    ]
    offsets = stagger_offsets(schedules)
    assert offsets[0] != offsets[1] and all(o >= 0.5 for o in offsets)


def test_jobs_queue_polls_on_their_bus_and_coalesce() -> None:
    bus = BusOwner(_bus(), SystemClock(), lambda r: None)  # thread not started: polls wait in its queue
    sched = PollScheduler([bus])
    sched.start()
    try:
        ids = {j.id for j in sched.scheduler.get_jobs()}
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and bus.polls_coalesced < 2:
            time.sleep(0.05)
    finally:
        sched.stop()
    queued = []
    while not bus._queue.empty():
        queued.append(bus._queue.get_nowait())
    # The cron group is polled once at start; the fast group every 0.2 s, coalesced while one waits.
    assert sorted(queued) == ["default", "fast"]
    assert bus.polls_coalesced >= 2
    assert sched.missed_total == 0
    assert {"b/default", "b/fast"} <= ids and "b/unused" not in ids  # no job for a group without meters
