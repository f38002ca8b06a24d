"""Seeded synthetic data with a known truth, on Birmingham's real geography.

A consumer of ``analysis.data`` (contracts, offence groups), ``analysis.space`` (grids, the
4-week calendar) and ``analysis.harm`` (the harm index); nothing in the pipeline imports it.
"""

from analysis.synthetic.sample import SampleConfig, write_sample

__all__ = ["SampleConfig", "write_sample"]
