"""Forecasting: counts per unit and period, baselines, the backtest and its metrics.

``panel`` builds counts and the leakage-proof view at each origin; ``baselines``,
``hotspots``, ``selfexciting`` and ``regression`` hold the field's standard forecasters;
``distributions`` and ``metrics`` score them; ``backtest`` runs the rolling origin.
"""
