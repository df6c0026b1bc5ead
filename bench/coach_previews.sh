#!/bin/sh
# The ten profiles a strength coach read for issue 11, as Markdown previews into coach_previews/ (not committed).
# Usage (from the repository root): sh bench/coach_previews.sh [python]
PY=${1:-.venv/bin/python}
OUT=coach_previews
mkdir -p "$OUT"
run() { name=$1; shift; "$PY" -m bot preview --start 2027-03-01 --markdown "$@" > "$OUT/$name.md"; }
run 01-advanced-gym-marathon-4-weeks --mileage 100km --level advanced --goal endurance --long-run sun --hard tue,thu --equipment gym --race-date 2027-03-28 --race-distance marathon
run 02-intermediate-10k-in-week-1 --mileage 50km --level intermediate --goal speed --long-run sun --hard tue,thu --equipment gym --race-date 2027-03-06 --race-distance 10k
run 03-half-the-day-before --mileage 55km --level intermediate --goal general --long-run sun --hard wed --equipment dumbbells,box --race-date 2027-02-28 --race-distance half
run 04-beginner-no-kit-calf-resilience --mileage 25km --level beginner --goal injury-resilience --long-run sat --hard wed --equipment none --niggle calf
run 05-power-intermediate-gym --mileage 45km --level intermediate --goal power --long-run sun --hard tue --equipment gym
run 06-three-days-asked --mileage 60km --level intermediate --goal general --days 3 --long-run sun --hard tue,thu --equipment dumbbells
run 07-knee-niggle --mileage 40km --level intermediate --goal speed --long-run sun --hard wed --equipment gym --niggle knee
run 08-hamstring-niggle --mileage 70km --level advanced --goal speed --long-run sat --hard tue,thu --equipment gym --niggle hamstring
run 09-ultra-in-week-2 --mileage 90km --level advanced --goal endurance --long-run sat --hard wed --equipment gym --race-date 2027-03-13 --race-distance ultra
run 10-bands-only --mileage 35km --level intermediate --goal general --long-run sun --hard tue,thu --equipment bands
