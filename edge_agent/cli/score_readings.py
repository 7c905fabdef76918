"""``edge-agent score-readings`` and ``edge-agent households``: the anomaly scorer offline and explained.

``score-readings READINGS.csv -c CONFIG`` replays a CSV (``ts,meter_id,quantity,value``; ISO 8601 times,
cumulative counters) through the daemon's own scorer in simulated time and prints the events as JSON
lines. Missing rows are gaps in data; an empty value is a failed poll; malformed rows are counted and
reported on stderr with their line numbers, never fatal.

``households -c CONFIG`` prints what each household's scorer has learned (routine, standby, thresholds)
and its current silence score, from the state the daemon persists in the state dir.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from edge_agent.cli.common import add_config_arg, load_or_exit
from edge_agent.events.model import Event
from edge_agent.meters.reading import Quality, Reading

UNITS = {"water_m3": "m3", "energy_kwh": "kWh", "power_w": "W"}
MAX_REPORTED_ROWS = 20


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "score-readings",
        help="score a CSV of meter readings with the anomaly scorer and print events as JSON lines",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("csv", metavar="READINGS.csv", help="header ts,meter_id,quantity,value ('-' = stdin)")
    add_config_arg(p)
    p.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        help="load and save learned state here (default: start from the prior, save nothing)",
    )
    p.add_argument("--summary", action="store_true", help="print each household's summary at the end")
    p.set_defaults(func=run_score)

    h = sub.add_parser(
        "households",
        help="print each household's learned routine, thresholds and current inactivity score",
    )
    add_config_arg(h)
    h.add_argument("--state-dir", type=Path, default=None, help="default: gateway.state_dir of the config")
    h.add_argument("--json", action="store_true", help="one JSON object per household")
    h.set_defaults(func=run_households)


# ------------------------------------------------------------------------------------------ CSV input
class CsvProblems:
    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.count = 0

    def add(self, line: int, why: str) -> None:
        self.count += 1
        if self.count <= MAX_REPORTED_ROWS:
            print(f"line {line}: {why}", file=self.out)


def parse_ts(text: str, tz: dt.tzinfo) -> float:
    """ISO 8601 to epoch seconds; a time without an offset is local time of the households."""
    t = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if t.tzinfo is None:
        t = t.replace(tzinfo=tz)
    return t.timestamp()


def read_csv(f: TextIO, tz: dt.tzinfo, problems: CsvProblems) -> list[Reading]:
    """Every well-formed row as a Reading, sorted by time (stable: rows of equal time keep file order)."""
    reader = csv.reader(f)
    header = next(reader, None)
    if header is None or [c.strip() for c in header[:4]] != ["ts", "meter_id", "quantity", "value"]:
        raise ValueError("the first line must be the header ts,meter_id,quantity,value")
    out: list[Reading] = []
    for row in reader:
        line = reader.line_num
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) < 4:
            problems.add(line, f"expected 4 fields, got {len(row)}")
            continue
        ts_s, meter, qty, val = (c.strip() for c in row[:4])
        try:
            ts = parse_ts(ts_s, tz)
        except ValueError:
            problems.add(line, f"bad time {ts_s!r}")
            continue
        if not meter:
            problems.add(line, "empty meter_id")
            continue
        if qty not in UNITS:
            problems.add(line, f"unknown quantity {qty!r} (expected {', '.join(UNITS)})")
            continue
        if val == "":
            out.append(Reading(ts, meter, qty, None, UNITS[qty], Quality.TIMEOUT))
            continue
        try:
            value = float(val)
        except ValueError:
            problems.add(line, f"bad value {val!r}")
            continue
        if value != value or value in (float("inf"), float("-inf")):
            problems.add(line, f"bad value {val!r}")
            continue
        out.append(Reading(ts, meter, qty, value, UNITS[qty]))
    out.sort(key=lambda r: r.ts)
    return out


def event_json(ev: Event) -> str:
    return json.dumps(
        {
            "ts": dt.datetime.fromtimestamp(ev.ts, dt.timezone.utc).isoformat(timespec="seconds"),
            "kind": ev.kind,
            "source": ev.source,
            "phase": ev.phase.value,
            "severity": ev.severity.name.lower(),
            "incident": ev.incident,
            "body": ev.body,
        },
        separators=(",", ":"),
    )


def run_score(args: argparse.Namespace) -> int:
    from edge_agent.anomaly.localtime import LocalCalendar
    from edge_agent.anomaly.replay import replay
    from edge_agent.anomaly.service import AnomalyScorer
    from edge_agent.clock import SimClock

    cfg = load_or_exit(args.config).config
    if not cfg.households:
        print(f"{args.config}: no households configured: nothing to score", file=sys.stderr)
        return 2
    problems = CsvProblems(sys.stderr)
    tz = LocalCalendar(cfg.anomaly.timezone).tz
    try:
        if args.csv == "-":
            readings = read_csv(sys.stdin, tz, problems)
        else:
            with open(args.csv, encoding="utf-8", newline="") as f:
                readings = read_csv(f, tz, problems)
    except (OSError, UnicodeDecodeError, ValueError, csv.Error) as exc:
        print(f"{args.csv}: {exc}", file=sys.stderr)
        return 2
    if not readings:
        print(f"{args.csv}: no readings", file=sys.stderr)
        return 0 if not problems.count else 1
    counts: dict[str, int] = {}
    reader_gone = False

    def emit(ev: Event) -> None:
        nonlocal reader_gone
        counts[ev.kind] = counts.get(ev.kind, 0) + 1
        if reader_gone:
            return
        try:
            print(event_json(ev), flush=False)
        except BrokenPipeError:  # `| head`: stop printing, keep scoring quietly (state may be saved)
            reader_gone = True
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())

    clock = SimClock(readings[0].ts)
    scorer = AnomalyScorer(cfg.anomaly, list(cfg.households), emit, clock, args.state_dir, autosave=False)
    fed = replay(scorer, clock, iter_readings(readings))
    if args.state_dir is not None:
        scorer.save()
    if args.summary:
        for s in scorer.summaries():
            print(json.dumps({"summary": s}), file=sys.stderr)
    known = {m for h in cfg.households for m in (h.water_meter, h.electricity_meter) if m}
    unknown = len({r.meter_id for r in readings} - known)
    print(
        f"scored {fed} readings of {len(cfg.households)} households"
        + (f"; {unknown} meters in the file belong to no household" if unknown else "")
        + (f"; {problems.count} malformed rows skipped" if problems.count else "")
        + f"; events: {json.dumps(counts, sort_keys=True)}",
        file=sys.stderr,
    )
    sys.stdout.flush()
    return 1 if problems.count else 0


def iter_readings(readings: list[Reading]) -> Iterator[Reading]:
    yield from readings


# ------------------------------------------------------------------------------------------ households
SPARK = " .:-=+*#%@"


def spark(values: list[float]) -> str:
    """Activity by hour as one character per hour (blank = never active, @ = always)."""
    return "".join(SPARK[min(len(SPARK) - 1, int(v * (len(SPARK) - 1) / 0.8 + 0.5))] for v in values)


def run_households(args: argparse.Namespace) -> int:
    from edge_agent.anomaly.service import AnomalyScorer
    from edge_agent.anomaly.state import state_path
    from edge_agent.clock import SystemClock

    cfg = load_or_exit(args.config).config
    state_dir: Path = args.state_dir or cfg.gateway.state_dir
    if not cfg.households:
        print(f"{args.config}: no households configured", file=sys.stderr)
        return 0

    def no_emit(ev: Event) -> None:
        return None

    scorer = AnomalyScorer(
        cfg.anomaly, list(cfg.households), no_emit, SystemClock(), state_dir, autosave=False
    )
    rows: list[dict[str, Any]] = scorer.summaries()
    for s in rows:
        s["state_file"] = str(state_path(state_dir, s["household"]))
        s["has_state"] = Path(s["state_file"]).exists()
    if args.json:
        for s in rows:
            print(json.dumps(s))
        return 0
    print(f"households of {args.config} (state in {state_dir}, local time {cfg.anomaly.timezone})\n")
    for s in rows:
        learned = f"{s['days_learned']} days learned" if s["has_state"] else "no saved state: the prior only"
        print(f"{s['household']}: {learned}; usual hours {s['usual_hours'] or '-'}")
        print(f"  activity by hour  |{spark(s['activity_by_hour'])}|  (00h ... 23h)")
        print(
            f"  standby {s['standby_w'][0]}-{s['standby_w'][1]} W; thresholds notice {s['thresholds']['notice']}"
            f" / alarm {s['thresholds']['alarm']} (nats)"
        )
        state = s["inactivity"] or "none"
        print(
            f"  scored up to {s['scored_until'] or '-'}; last activity {s['last_activity'] or '-'}; "
            f"silence score {s['silence_score']} (P {s['p_silence']}); inactivity: {state}"
        )
        extra = []
        if s["offline_meters"]:
            extra.append(f"offline: {', '.join(s['offline_meters'])}")
        if s["leak_open"]:
            extra.append("leak open")
        if s["away_now"]:
            extra.append("away now")
        if extra:
            print("  " + "; ".join(extra))
        print()
    return 0
