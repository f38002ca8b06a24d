#!/usr/bin/env bash
# Recreate every leaderboard in benchmarks/leaderboards/ (about 4 minutes on 2 cores).
# Run from the repository root after `make setup`.
set -euo pipefail
A=".venv/bin/analysis"
OUT=benchmarks/leaderboards
COMMON=(--cell-area 1 --period-days 28 --quiet --as-of 2026-11-24)

$A backtest data/external/cincinnati_burglary_2016-2018.csv.gz \
  --time-col offense_date --lon-col longitude --lat-col latitude --id-col incident_no \
  --target-crs EPSG:32616 --test-periods 13 "${COMMON[@]}" --out $OUT/cincinnati_burglary

$A backtest data/external/austin_aggravated_assaults_2019.csv.gz \
  --time-col date --lon-col longitude --lat-col latitude \
  --target-crs EPSG:32614 --test-periods 4 "${COMMON[@]}" --out $OUT/austin_assaults

$A backtest data/sample/crimes.csv.gz --format crimes --offence-group knife_crime_with_injury \
  --area data/sample/study_area.geojson --test-periods 13 --cutoff 2026-09-30 \
  "${COMMON[@]}" --out $OUT/synthetic_knife_1km2
.venv/bin/python benchmarks/synthetic_oracle.py --backtest $OUT/synthetic_knife_1km2 \
  --group knife_crime_with_injury --unit-set grid_1km2 --out $OUT/synthetic_knife_1km2/oracle.csv

$A backtest data/sample/crimes.csv.gz --format crimes --offence-group serious_violence \
  --area data/sample/study_area.geojson --test-periods 13 --cutoff 2026-09-30 \
  --cell-area 0.5 --period-days 28 --quiet --as-of 2026-11-24 --out $OUT/synthetic_sv_0.5km2
.venv/bin/python benchmarks/synthetic_oracle.py --backtest $OUT/synthetic_sv_0.5km2 \
  --group serious_violence --unit-set grid_0.5km2 --out $OUT/synthetic_sv_0.5km2/oracle.csv
