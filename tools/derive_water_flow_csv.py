"""Derive tests/data/river_water_flow.csv from river's WaterFlow data set (a real, unlabelled series).

river ships ``datasets/water-flow.csv``: 1,268 hourly flows (litres per second) through a pipeline branch,
March-May 2022, with four anomalous segments described in its docstring but not labelled. We turn it into
the cumulative counter a water meter would report, scaled by 1/3600 (litres per second become litres per
hour: a steady household-sized flow with the real series' variability), in score-readings' CSV format.

river is not a project dependency: install it in a throwaway venv and run this with that venv's python:

    python3 -m venv /tmp/rivervenv && /tmp/rivervenv/bin/pip install river==0.26.1
    /tmp/rivervenv/bin/python tools/derive_water_flow_csv.py tests/data/river_water_flow.csv
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import sys


def main(out_path: str) -> int:
    import river

    src = os.path.join(os.path.dirname(river.__file__), "datasets", "water-flow.csv")
    with open(src, encoding="utf-8") as f:
        rows = list(csv.reader(f))[1:]
    total_m3 = 100.0
    with open(out_path, "w", encoding="utf-8", newline="") as f:
        f.write("ts,meter_id,quantity,value\n")
        for ts, flow_l_s in rows:
            t = dt.datetime.fromisoformat(ts).astimezone(dt.timezone.utc)
            total_m3 += float(flow_l_s) / 1000.0  # one hour at X l/s, scaled by 1/3600: X litres
            f.write(f"{t.isoformat(timespec='seconds')},water-river,water_m3,{total_m3:.3f}\n")
    print(f"{len(rows)} hourly readings -> {out_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "tests/data/river_water_flow.csv"))
