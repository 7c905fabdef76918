"""The durable outbox: every event is a committed SQLite row before anything tries to send it.

* Write before send: :meth:`Outbox.append` returns once the row is committed (WAL journal). With
  ``synchronous=full`` (the default) the commit is fsynced, so it survives a power cut; with ``normal`` it
  survives a crash of the process (``kill -9``) and the last commits before a power cut may roll back.
  SQLite commits are atomic either way: never a half-written row.
* Concurrent appends are group-committed: an append that finds no write in progress writes everything
  queued so far in one transaction, so many producers cost one fsync, not one each.
* ``seq`` is the row key (``AUTOINCREMENT``: never reused, even after deletes), so the per-gateway sequence
  number survives restarts and a gap tells the platform that events were dropped.
* Rows are deleted only when the broker acknowledged them (:meth:`ack`). Sending goes in ``seq`` order from a
  cursor (:meth:`take`) that :meth:`rewind` resets after a reconnect, so unacknowledged rows go again.
* Bounded by count, bytes and age. When full, snapshots go first, then the oldest events of the lowest
  severity; a single pending ``outbox_overflow`` event (kept up to date while it waits) tells how many were
  dropped and why.
* The ``meta`` table keeps the session counter (agent starts) announced in the birth message.

Thread-safe: producers call :meth:`append`; the publisher thread calls the rest.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge_agent.clock import Clock, SystemClock
from edge_agent.events.codec import dumps_json, to_wire
from edge_agent.events.model import Event, Phase, Severity, new_event

log = logging.getLogger(__name__)

OVERFLOW_KIND = "outbox_overflow"
EVICT_FIRST_KINDS = frozenset({"snapshot"})
"""Bulky and illustrative: evicted before anything else, whatever severity the emitter gave them."""
NOTICE_BYTES = 400
"""Room kept for an overflow notice when evicting by bytes."""
PLAUSIBLE_EPOCH_S = 1_577_836_800.0
"""2020-01-01: rows stored while the gateway clock was unset (no RTC, no NTP yet) never expire by age,
so the clock jumping forward at NTP sync cannot wipe the outbox."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL,
    kind TEXT NOT NULL,
    src TEXT NOT NULL,
    sev INTEGER NOT NULL,
    ts REAL NOT NULL,
    stored_at REAL NOT NULL,
    session INTEGER NOT NULL,
    conn INTEGER NOT NULL,
    record BLOB NOT NULL,
    rank INTEGER NOT NULL,
    size INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_rank ON events (rank, seq);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


_Row = tuple[int, str, str, str, int, float, float, int, int, bytes, int, int]
"""seq, id, kind, src, sev, ts, stored_at, session, conn, record, rank, size"""
_INSERT = "INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"


def eviction_rank(kind: str, sev: int) -> int:
    """Lower goes first when the outbox is full: snapshots, then by severity (debug first)."""
    return 0 if kind in EVICT_FIRST_KINDS else int(sev) + 1


class OutboxError(RuntimeError):
    """The outbox could not store an event (disk full, file broken)."""


@dataclass(frozen=True)
class Pending:
    """One stored event as the publisher needs it."""

    seq: int
    kind: str
    src: str
    sev: int
    record: bytes
    """Compact JSON wire form (without ``late``)."""
    stored_at: float
    """Clock time when it was stored (epoch seconds)."""
    session: int
    """Outbox session (process start) in which it was stored."""
    conn: int
    """Connection generation that was up when it was stored (-1: none)."""


@dataclass
class _Item:
    event: Event
    conn: int
    seq: int | None = None
    error: Exception | None = None
    done: bool = False


@dataclass
class _Overflow:
    """Drops counted into the pending overflow event (or the next one)."""

    seq: int | None = None
    size: int = 0
    age: int = 0
    by_sev: list[int] = field(default_factory=lambda: [0] * len(Severity))
    first_ts: float | None = None
    last_ts: float | None = None

    def body(self) -> dict[str, object]:
        return {
            "dropped": self.size + self.age,
            "size": self.size,
            "age": self.age,
            "by_sev": list(self.by_sev),
            "first_ts": None if self.first_ts is None else round(self.first_ts * 1000),
            "last_ts": None if self.last_ts is None else round(self.last_ts * 1000),
        }


class Outbox:
    def __init__(
        self,
        path: Path,
        gateway_id: str,
        *,
        max_events: int = 100_000,
        max_age_s: float = 14 * 86400.0,
        max_bytes: int = 256 * 1024 * 1024,
        synchronous: str = "full",
        clock: Clock | None = None,
    ) -> None:
        self.path = Path(path)
        self.gateway_id = gateway_id
        self.max_events = max_events
        self.max_age_s = max_age_s
        self.max_bytes = max_bytes
        self.clock = clock or SystemClock()
        if synchronous not in ("full", "normal"):
            raise ValueError(f"synchronous must be full or normal, not {synchronous!r}")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        """Owns the connection and every field below."""
        self._queue_cond = threading.Condition()
        """Guards the queue of appends waiting to be written and who is writing them (group commit)."""
        self._queue: list[_Item] = []
        self._writing = False
        self._cursor = 0
        self._handed_out = 0
        """Highest seq ever given to the publisher (a rewind does not lower it): a notice above it is unsent."""
        self._overflow = _Overflow()
        self.dropped_total = {"size": 0, "age": 0}
        try:
            self._open(synchronous)
        except sqlite3.OperationalError as exc:  # cannot open, locked, read-only: not the file's fault
            raise OutboxError(f"cannot open the outbox {self.path}: {exc}") from exc
        except sqlite3.DatabaseError as exc:  # not a database, or a malformed one
            aside = self.path.with_name(f"{self.path.name}.corrupt-{int(self.clock.now())}")
            log.error(
                "outbox %s cannot be used (%s): moved aside to %s, starting a new one", self.path, exc, aside
            )
            with contextlib.suppress(Exception):
                self._db.close()
            for suffix in ("", "-wal", "-shm"):
                src = Path(f"{self.path}{suffix}")
                if src.exists():
                    src.rename(Path(f"{aside}{suffix}"))
            self._open(synchronous)

    def _open(self, synchronous: str) -> None:
        self._db = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA busy_timeout=5000")  # an operator's sqlite3 shell must not fail an emit
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={synchronous.upper()}")
        self._migrate()
        self._db.executescript(_SCHEMA)
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("INSERT OR IGNORE INTO meta VALUES ('session', 0)")
            self._db.execute("UPDATE meta SET value = value + 1 WHERE key = 'session'")
            self.session = int(self._scalar("SELECT value FROM meta WHERE key = 'session'"))
            self._db.execute("COMMIT")
            self._resync()

    def _migrate(self) -> None:
        """Bring an outbox written by an earlier version up to this schema (columns rank and size)."""
        cols = {r[1] for r in self._db.execute("PRAGMA table_info(events)")}
        if not cols or {"rank", "size"} <= cols:
            return
        log.info("outbox %s: adding eviction rank and size columns", self.path)
        self._db.execute("BEGIN IMMEDIATE")
        self._db.execute("ALTER TABLE events ADD COLUMN rank INTEGER NOT NULL DEFAULT 0")
        self._db.execute("ALTER TABLE events ADD COLUMN size INTEGER NOT NULL DEFAULT 0")
        self._db.execute(
            "UPDATE events SET size = length(record),"
            " rank = CASE WHEN kind IN ('snapshot') THEN 0 ELSE sev + 1 END"
        )
        self._db.execute("DROP INDEX IF EXISTS events_by_sev")
        self._db.execute("COMMIT")

    def _resync(self) -> None:
        """Recount rows and bytes from the table (at open, after a failed write, once a minute)."""
        count, size = self._db.execute("SELECT COUNT(*), COALESCE(SUM(size), 0) FROM events").fetchone()
        self._depth, self._bytes = int(count), int(size)

    def _scalar(self, sql: str, args: tuple[object, ...] = ()) -> Any:
        row = self._db.execute(sql, args).fetchone()
        return None if row is None else row[0]

    # producers -------------------------------------------------------------------------------------
    def append(self, event: Event, conn: int = -1) -> int:
        """Store one event; returns its ``seq`` once committed. Raises :class:`OutboxError` if it could not be."""
        item = _Item(event, conn)
        with self._queue_cond:
            self._queue.append(item)
            while not item.done:
                if not self._writing:  # become the leader: write everything queued so far
                    self._writing = True
                    batch, self._queue = self._queue, []
                    break
                self._queue_cond.wait()
            else:
                batch = []
        if batch:
            try:
                with self._lock:
                    self._write(batch)
            finally:
                with self._queue_cond:
                    for it in batch:
                        it.done = True
                    self._writing = False
                    self._queue_cond.notify_all()
        if item.error is not None:
            raise OutboxError(
                f"event {event.kind} from {event.source} not stored: {item.error}"
            ) from item.error
        assert item.seq is not None
        return item.seq

    def _row(
        self,
        seq: int,
        id_: str,
        kind: str,
        src: str,
        sev: int,
        ts: float,
        now: float,
        conn: int,
        record: bytes,
    ) -> _Row:
        return (
            seq,
            id_,
            kind,
            src,
            sev,
            ts,
            now,
            self.session,
            conn,
            record,
            eviction_rank(kind, sev),
            len(record),
        )

    def _next_seq(self) -> int:
        """Inside a write transaction: the next seq, read from SQLite so that two handles never collide."""
        return int(self._scalar("SELECT seq FROM sqlite_sequence WHERE name = 'events'") or 0) + 1

    def _write(self, batch: list[_Item]) -> None:
        """One transaction for the whole batch (group commit); every item gets a seq or an error."""
        now = self.clock.now()
        try:
            self._db.execute("BEGIN IMMEDIATE")
            seq = self._next_seq()
            rows: list[_Row] = []
            for item in batch:
                ev = item.event
                try:
                    record = dumps_json(to_wire(ev, seq, self.gateway_id))
                except (TypeError, ValueError) as exc:
                    item.error = exc
                    continue
                rows.append(
                    self._row(seq, ev.id, ev.kind, ev.source, int(ev.severity), ev.ts, now, item.conn, record)
                )
                item.seq = seq
                seq += 1
            self._db.executemany(_INSERT, rows)
            self._depth += len(rows)
            self._bytes += sum(r[-1] for r in rows)
            if self._depth > self.max_events or self._bytes > self.max_bytes:
                self._evict_for_size(now)
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            self._rollback()
            with contextlib.suppress(sqlite3.Error):
                self._resync()
            for item in batch:
                if item.error is None:
                    item.seq, item.error = None, exc

    def _rollback(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self._db.execute("ROLLBACK")

    # bounds ----------------------------------------------------------------------------------------
    def _overflow_updatable(self) -> bool:
        seq = self._overflow.seq
        return seq is not None and seq > self._handed_out and self._exists(seq)

    def _exists(self, seq: int) -> bool:
        return self._scalar("SELECT 1 FROM events WHERE seq = ?", (seq,)) is not None

    def _evict_for_size(self, now: float) -> None:
        """Inside a transaction: drop the lowest-rank oldest rows until both bounds hold (never overflow
        notices), and record it."""
        new_notice = not self._overflow_updatable()
        excess_n = self._depth - self.max_events + (1 if new_notice else 0)
        excess_b = self._bytes - self.max_bytes + (NOTICE_BYTES if new_notice else 0)
        victims = []
        cur = self._db.execute(
            "SELECT seq, sev, ts, size FROM events WHERE kind != ? ORDER BY rank, seq", (OVERFLOW_KIND,)
        )
        for seq, sev, ts, size in cur:
            if excess_n <= 0 and excess_b <= 0:
                break
            victims.append((seq, sev, ts, size))
            excess_n -= 1
            excess_b -= size
        cur.close()
        self._delete_victims(victims, "size", now)

    def _delete_victims(self, victims: list[tuple[int, int, float, int]], reason: str, now: float) -> None:
        if not victims:
            return
        self._db.executemany("DELETE FROM events WHERE seq = ?", [(v[0],) for v in victims])
        self._depth -= len(victims)
        self._bytes -= sum(v[3] for v in victims)
        if not self._overflow_updatable():
            self._overflow = _Overflow()
        ov = self._overflow
        setattr(ov, reason, getattr(ov, reason) + len(victims))
        self.dropped_total[reason] += len(victims)
        for _, sev, ts, _size in victims:
            ov.by_sev[min(max(sev, 0), len(ov.by_sev) - 1)] += 1
            ov.first_ts = ts if ov.first_ts is None else min(ov.first_ts, ts)
            ov.last_ts = ts if ov.last_ts is None else max(ov.last_ts, ts)
        if ov.seq is not None and self._overflow_updatable():
            notice = new_event(OVERFLOW_KIND, self.gateway_id, now, severity=Severity.WARNING, body=ov.body())
            record = dumps_json(to_wire(notice, ov.seq, self.gateway_id))
            old = self._scalar("SELECT size FROM events WHERE seq = ?", (ov.seq,))
            self._db.execute(
                "UPDATE events SET record = ?, size = ? WHERE seq = ?", (record, len(record), ov.seq)
            )
            self._bytes += len(record) - int(old or 0)
        else:
            seq = self._next_seq()
            notice = new_event(
                OVERFLOW_KIND,
                self.gateway_id,
                now,
                phase=Phase.INSTANT,
                severity=Severity.WARNING,
                body=ov.body(),
            )
            record = dumps_json(to_wire(notice, seq, self.gateway_id))
            row = self._row(
                seq, notice.id, OVERFLOW_KIND, self.gateway_id, int(Severity.WARNING), now, now, -1, record
            )
            self._db.execute(_INSERT, row)
            self._bytes += len(record)
            self._depth += 1
            ov.seq = seq
        if ov.size + ov.age == len(victims):  # a new notice: say it once, not at every drop
            log.warning(
                "outbox %s: dropping events (%s first); an outbox_overflow event will say how many",
                "full" if reason == "size" else "holds events too old",
                "lowest severity, oldest" if reason == "size" else "oldest",
            )
        else:
            log.debug(
                "outbox: dropped %d more (%s), %d in this notice", len(victims), reason, ov.size + ov.age
            )

    def expire(self) -> int:
        """Drop rows stored longer than ``max_age_s`` ago; returns how many."""
        now = self.clock.now()
        cutoff = now - self.max_age_s
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                victims = self._db.execute(
                    "SELECT seq, sev, ts, size FROM events WHERE stored_at < ? AND stored_at >= ? AND kind != ?",
                    (cutoff, PLAUSIBLE_EPOCH_S, OVERFLOW_KIND),
                ).fetchall()
                self._delete_victims(victims, "age", now)
                self._resync()
                self._db.execute("COMMIT")
            except sqlite3.Error:
                self._rollback()
                log.exception("outbox expiry failed")
                return 0
        return len(victims)

    # the publisher ---------------------------------------------------------------------------------
    def take(self, limit: int) -> list[Pending]:
        """The next ``limit`` rows after the cursor, in ``seq`` order; moves the cursor past them."""
        if limit <= 0:
            return []
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, kind, src, sev, record, stored_at, session, conn FROM events"
                " WHERE seq > ? ORDER BY seq LIMIT ?",
                (self._cursor, limit),
            ).fetchall()
            if rows:
                self._cursor = rows[-1][0]
                self._handed_out = max(self._handed_out, self._cursor)
        return [Pending(r[0], r[1], r[2], r[3], bytes(r[4]), r[5], r[6], r[7]) for r in rows]

    def is_late(self, row: Pending, conn_gen: int, late_after_s: float) -> bool:
        """Whether a row being published now is *late*: it was not sent on the connection that was up when
        it was stored (outage, restart, re-send after a break) and it waited at least ``late_after_s``.

        The wait is measured on the wall clock; a row stored while the clock was unset counts as late.
        """
        if row.session == self.session and row.conn == conn_gen:
            return False
        if row.stored_at < PLAUSIBLE_EPOCH_S:
            return True
        return self.clock.now() - row.stored_at >= late_after_s

    def rewind(self) -> None:
        """Send again from the oldest unacknowledged row (after a reconnect)."""
        with self._lock:
            self._cursor = 0

    def ack(self, seqs: list[int]) -> int:
        """Delete acknowledged rows in one transaction; returns how many were still there."""
        if not seqs:
            return 0
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                deleted = freed = 0
                for i in range(0, len(seqs), 500):  # stay under SQLite's bound-parameter limit
                    chunk = seqs[i : i + 500]
                    marks = ",".join("?" * len(chunk))
                    n, size = self._db.execute(
                        f"SELECT COUNT(*), COALESCE(SUM(size), 0) FROM events WHERE seq IN ({marks})", chunk
                    ).fetchone()
                    self._db.execute(f"DELETE FROM events WHERE seq IN ({marks})", chunk)
                    deleted, freed = deleted + int(n), freed + int(size)
                self._db.execute("COMMIT")
            except sqlite3.Error:
                self._rollback()
                log.exception(
                    "outbox could not delete %d acknowledged event(s); they will be sent again", len(seqs)
                )
                return 0
            self._depth -= deleted
            self._bytes -= freed
        return deleted

    # observation -----------------------------------------------------------------------------------
    def depth(self) -> int:
        with self._lock:
            return self._depth

    def oldest_age_s(self) -> float:
        """How long the oldest pending row has waited (0 when empty)."""
        with self._lock:
            try:
                stored = self._scalar("SELECT stored_at FROM events ORDER BY seq LIMIT 1")
            except sqlite3.Error:
                return 0.0
        return 0.0 if stored is None else max(0.0, self.clock.now() - float(stored))

    def close(self) -> None:
        """Checkpoint and close (tests, tools); appending afterwards raises :class:`OutboxError`."""
        with self._lock:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._db.close()
