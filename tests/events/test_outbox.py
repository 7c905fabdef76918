"""The SQLite outbox on its own: sequence numbers across restarts, order, acks, bounds, group commit."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from edge_agent.clock import SimClock
from edge_agent.events.codec import decode_event
from edge_agent.events.model import Severity, new_event
from edge_agent.events.outbox import OVERFLOW_KIND, Outbox
from tests.events.schema import assert_valid_event

T0 = 1_750_000_000.0


def _ev(i: int, sev: Severity = Severity.INFO, ts: float = T0):
    return new_event("test_burst", "s", ts + i, severity=sev, body={"i": i})


def _bodies(rows) -> list[int]:
    return [json.loads(r.record)["body"]["i"] for r in rows if r.kind != OVERFLOW_KIND]


def test_seq_survives_restart_and_deletes(tmp_path: Path) -> None:
    db = tmp_path / "o.sqlite"
    ob = Outbox(db, "gw")
    assert [ob.append(_ev(i)) for i in range(5)] == [1, 2, 3, 4, 5]
    assert ob.ack([1, 2, 3, 4, 5]) == 5 and ob.depth() == 0
    ob.close()
    ob2 = Outbox(db, "gw")  # empty table, yet numbering goes on: a restart is not a gap nor a reuse
    assert ob2.append(_ev(6)) == 6
    assert ob2.session == 2
    row = ob2.take(10)[0]
    wire = assert_valid_event(row.record)
    assert wire["seq"] == 6 and wire["gw"] == "gw" and wire["body"] == {"i": 6}
    assert decode_event(row.record).event.ts == T0 + 6
    ob2.close()


def test_take_rewind_ack_in_order(tmp_path: Path) -> None:
    ob = Outbox(tmp_path / "o.sqlite", "gw")
    for i in range(10):
        ob.append(_ev(i))
    first = ob.take(4)
    assert [r.seq for r in first] == [1, 2, 3, 4]
    assert [r.seq for r in ob.take(4)] == [5, 6, 7, 8]
    ob.ack([1, 2, 3])
    ob.rewind()  # after a reconnect: everything not acknowledged goes again, oldest first
    assert [r.seq for r in ob.take(100)] == [4, 5, 6, 7, 8, 9, 10]
    assert ob.take(5) == []
    ob.close()


def test_full_outbox_drops_oldest_low_severity_and_says_so(tmp_path: Path) -> None:
    ob = Outbox(tmp_path / "o.sqlite", "gw", max_events=20)
    for i in range(10):
        ob.append(_ev(i, Severity.ALARM))
    for i in range(10, 40):
        ob.append(_ev(i, Severity.DEBUG))
    rows = ob.take(1000)
    assert len(rows) == 20
    kept = _bodies(rows)
    assert kept[:10] == list(range(10))  # every alarm kept
    assert kept[10:] == list(range(31, 40))  # the newest debug ones survive
    (notice,) = [r for r in rows if r.kind == OVERFLOW_KIND]
    wire = assert_valid_event(notice.record)
    # one notice kept up to date while it waited, not one per drop
    assert wire["body"]["dropped"] == 21 and wire["body"]["size"] == 21
    assert wire["body"]["by_sev"] == [21, 0, 0, 0, 0]
    assert wire["sev"] == int(Severity.WARNING) and wire["src"] == "gw"
    assert wire["body"]["first_ts"] == round((T0 + 10) * 1000)
    # once that notice has been handed to the publisher, later drops start a new notice, even after a
    # rewind: the platform dedupes on id, so a re-sent notice must not carry new counts
    ob.rewind()
    for i in range(40, 45):
        ob.append(_ev(i, Severity.DEBUG))
    notices = [r for r in ob.take(1000) if r.kind == OVERFLOW_KIND]
    # 5 appends, 6 drops: the new notice takes a slot too (the sent one stays until acknowledged)
    assert [json.loads(n.record)["body"]["dropped"] for n in notices] == [21, 6]  # the sent one unchanged
    assert ob.dropped_total["size"] == 27 and ob.depth() == 20
    ob.close()


def test_age_limit_and_unset_clock(tmp_path: Path) -> None:
    clock = SimClock(T0)
    ob = Outbox(tmp_path / "o.sqlite", "gw", max_age_s=3600, clock=clock)
    ob.append(_ev(0))
    clock.advance(1800)
    ob.append(_ev(1))
    clock.advance(2000)
    assert ob.expire() == 1
    rows = ob.take(10)
    assert _bodies(rows) == [1]
    assert json.loads(next(r for r in rows if r.kind == OVERFLOW_KIND).record)["body"]["age"] == 1
    ob.close()
    # rows stored while the gateway clock was unset (1970) must not vanish when NTP fixes the clock
    clock2 = SimClock(1000.0)
    ob2 = Outbox(tmp_path / "o2.sqlite", "gw", max_age_s=3600, clock=clock2)
    ob2.append(_ev(0, ts=1000.0))
    clock2.set(T0)
    assert ob2.expire() == 0 and ob2.depth() == 1
    ob2.close()


def test_concurrent_appends_group_commit_unique_contiguous(tmp_path: Path) -> None:
    ob = Outbox(tmp_path / "o.sqlite", "gw")
    seqs: list[int] = []
    lock = threading.Lock()

    def worker(k: int) -> None:
        for i in range(250):
            s = ob.append(_ev(k * 1000 + i))
            with lock:
                seqs.append(s)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(seqs) == list(range(1, 1001))
    rows = ob.take(2000)
    # each thread's events are stored in its own emit order
    for k in range(4):
        mine = [i for i in _bodies(rows) if i // 1000 == k]
        assert mine == sorted(mine) and len(mine) == 250
    ob.close()


def test_odd_body_values_are_stored_not_lost(tmp_path: Path) -> None:
    import numpy as np

    ob = Outbox(tmp_path / "o.sqlite", "gw")
    ev = new_event(
        "test_burst",
        "s",
        time.time(),
        body={
            "conf": np.float32(0.5),
            "box": (1, 2),
            "nan": float("nan"),
            "arr": np.arange(3),
            "obj": object(),
        },
    )
    ob.append(ev)
    wire = assert_valid_event(ob.take(1)[0].record)
    assert wire["body"]["conf"] == 0.5 and wire["body"]["box"] == [1, 2] and wire["body"]["nan"] is None
    assert wire["body"]["arr"] == [0, 1, 2] and wire["body"]["obj"].startswith("<object")
    ob.close()


def test_appends_after_close_raise_outbox_error(tmp_path: Path) -> None:
    import pytest

    from edge_agent.events.outbox import OutboxError

    ob = Outbox(tmp_path / "o.sqlite", "gw")
    ob.close()
    with pytest.raises(OutboxError):
        ob.append(_ev(0))


def test_late_needs_a_missed_connection_and_a_real_wait(tmp_path: Path) -> None:
    clock = SimClock(T0)
    ob = Outbox(tmp_path / "o.sqlite", "gw", clock=clock)
    ob.append(_ev(0), conn=3)  # stored while connection 3 was up
    ob.append(_ev(1), conn=-1)  # stored while disconnected
    live, offline = ob.take(2)
    clock.advance(5)
    assert not ob.is_late(live, 3, 10.0)  # sent on its own connection: never late
    assert not ob.is_late(offline, 4, 10.0)  # a 5 s blip is not worth a flag
    clock.advance(10)
    assert ob.is_late(offline, 4, 10.0) and ob.is_late(live, 4, 10.0)  # re-sent after a break, 15 s on
    assert not ob.is_late(live, 3, 10.0)
    ob.close()
    ob2 = Outbox(tmp_path / "o.sqlite", "gw", clock=clock)  # a restart: another session
    (row, _) = ob2.take(2)
    assert ob2.is_late(row, 3, 10.0)
    ob2.close()
    unset = SimClock(1000.0)
    ob3 = Outbox(tmp_path / "o3.sqlite", "gw", clock=unset)
    ob3.append(_ev(0, ts=1000.0))
    unset.set(T0)
    assert ob3.is_late(ob3.take(1)[0], 1, 10.0)  # stored before the clock was set: its ts is suspect too
    ob3.close()


def test_corrupt_outbox_is_moved_aside_not_fatal(tmp_path: Path) -> None:
    db = tmp_path / "o.sqlite"
    db.write_bytes(b"this is not an SQLite database" * 200)
    ob = Outbox(db, "gw")
    assert ob.append(_ev(0)) == 1
    aside = list(tmp_path.glob("o.sqlite.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_bytes().startswith(b"this is not")
    ob.close()


def test_two_handles_on_one_file_never_reuse_a_seq(tmp_path: Path) -> None:
    """A config reload opens a new handle while a straggler may still emit through the old one."""
    a = Outbox(tmp_path / "o.sqlite", "gw")
    b = Outbox(tmp_path / "o.sqlite", "gw")
    seqs = [a.append(_ev(0)), b.append(_ev(1)), a.append(_ev(2)), b.append(_ev(3))]
    assert seqs == [1, 2, 3, 4]
    a.close()
    b.close()


def test_byte_bound_evicts_snapshots_first(tmp_path: Path) -> None:
    ob = Outbox(tmp_path / "o.sqlite", "gw", max_bytes=35_000)  # room for 3 of the 7 snapshots
    jpeg_b64 = "A" * 10_000
    for i in range(4):  # snapshots emitted at INFO still go before DEBUG telemetry: they are bulky
        ob.append(
            new_event(
                "snapshot",
                "cam",
                T0 + i,
                severity=Severity.INFO,
                body={"inc": "X", "jpeg_b64": jpeg_b64, "i": i},
            )
        )
    for i in range(4, 24):
        ob.append(_ev(i, Severity.DEBUG))
    for i in range(3):
        ob.append(
            new_event("snapshot", "cam", T0 + 30 + i, body={"inc": "Y", "jpeg_b64": jpeg_b64, "i": 30 + i})
        )
    rows = ob.take(1000)
    total = sum(len(r.record) for r in rows)
    assert total <= 35_000
    kinds = [(r.kind, json.loads(r.record)["body"].get("i")) for r in rows]
    assert [i for k, i in kinds if k == "test_burst"] == list(range(4, 24))  # small events all kept
    assert [i for k, i in kinds if k == "snapshot"] == [30, 31, 32]  # oldest snapshots went first
    (notice,) = [r for r in rows if r.kind == OVERFLOW_KIND]
    assert json.loads(notice.record)["body"]["dropped"] == 4
    ob.close()
    assert Outbox(tmp_path / "o.sqlite", "gw")._bytes == total  # the byte count is rebuilt at open


def test_outbox_from_an_earlier_schema_is_migrated(tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "old.sqlite"
    con = sqlite3.connect(db)
    con.executescript(
        "CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL, kind TEXT NOT NULL,"
        " src TEXT NOT NULL, sev INTEGER NOT NULL, ts REAL NOT NULL, stored_at REAL NOT NULL,"
        " session INTEGER NOT NULL, conn INTEGER NOT NULL, record BLOB NOT NULL);"
        "CREATE INDEX events_by_sev ON events (sev, seq);"
        "INSERT INTO events VALUES (7, 'x', 'leak', 's', 3, 1.0, 1.0, 1, -1, X'7B7D');"
    )
    con.commit()
    con.close()
    ob = Outbox(db, "gw")
    assert ob.depth() == 1 and ob._bytes == 2
    assert ob.append(_ev(1)) == 8
    ob.close()


def test_unopenable_outbox_is_a_clear_error(tmp_path: Path) -> None:
    import pytest

    from edge_agent.events.outbox import OutboxError

    (tmp_path / "dir.sqlite").mkdir()  # a directory where the file should be
    with pytest.raises(OutboxError, match="cannot open the outbox"):
        Outbox(tmp_path / "dir.sqlite", "gw")
    assert (tmp_path / "dir.sqlite").is_dir()  # nothing moved aside
