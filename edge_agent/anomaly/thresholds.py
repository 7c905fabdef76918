"""Alarm thresholds from a false-alarm budget, fitted to the household's own ordinary days.

Every ordinary day leaves one number: the highest silence score (-ln P of the silence given the routine)
that day reached. Silence scores of consecutive slots are correlated (people sleep in, go out for the
afternoon), so the textbook "P < 1/budget" is far too trigger-happy; instead the upper tail of these daily
maxima is fitted as exponential above their 80th percentile (peaks over threshold), and the threshold is
the score ordinary days exceed ``budget_per_year`` times a year. Until enough days are seen, the fit is
shrunk towards a cautious prior, so a new household starts with high thresholds and tightens over weeks.
"""

from __future__ import annotations

import math
from collections import deque

from edge_agent.anomaly.standby import quantile

TAIL_Q = 0.8
PRIOR_U = 10.0
"""Prior 80th percentile of daily maximum silence scores (nats): an ordinary night plus a late morning."""
PRIOR_BETA = 3.0
"""Prior mean excess over it (nats): wide, so cold-start thresholds are cautious."""
PRIOR_DAYS = 14.0
PRIOR_EXCESSES = 4.0
MIN_THRESHOLD = 4.0


class ThresholdModel:
    def __init__(self, days_kept: int, prior_u: float = PRIOR_U, prior_beta: float = PRIOR_BETA) -> None:
        self.daily_max: deque[float] = deque(maxlen=days_kept)
        self.prior_u = prior_u
        self.prior_beta = prior_beta
        self._fit: tuple[float, float] | None = None

    def add_day(self, max_score: float) -> None:
        self.daily_max.append(max_score)
        self._fit = None

    def fit(self) -> tuple[float, float]:
        """(u, beta): the tail's start and mean excess, shrunk towards the prior by the days seen."""
        if self._fit is None:
            m = list(self.daily_max)
            n = len(m)
            if n >= 5:
                u_obs = quantile(m, TAIL_Q)
                exc = [x - u_obs for x in m if x > u_obs]
            else:
                u_obs, exc = self.prior_u, []
            u = (n * u_obs + PRIOR_DAYS * self.prior_u) / (n + PRIOR_DAYS)
            beta = (sum(exc) + PRIOR_EXCESSES * self.prior_beta) / (len(exc) + PRIOR_EXCESSES)
            self._fit = (u, beta)
        return self._fit

    def highest(self) -> float:
        """The highest daily maximum kept (0 before any day)."""
        return max(self.daily_max, default=0.0)

    def threshold(self, budget_per_year: float) -> float:
        u, beta = self.fit()
        days_per_exceedance_of_u = 1.0 / (1.0 - TAIL_Q)
        return max(MIN_THRESHOLD, u + beta * math.log(365.0 / days_per_exceedance_of_u / budget_per_year))

    def to_dict(self) -> dict[str, object]:
        return {"daily_max": [round(x, 3) for x in self.daily_max]}

    def load(self, d: dict[str, object]) -> None:
        vals = d.get("daily_max")
        if isinstance(vals, list):
            self.daily_max.extend(float(x) for x in vals)
            self._fit = None
