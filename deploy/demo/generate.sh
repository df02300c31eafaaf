#!/usr/bin/env bash
# 示例数据（合成）/ synthetic demo data generator.
#
#   deploy/demo/generate.sh [CATALOG_DIR] [OUT_DIR]
#
# Writes one CSV per member unit, demo-synthetic-<UNIT>.csv, in the format
# `halfskyctl submit` reads (Chinese headers), for the district 610303 and
# the years 2020–2024: every indicator the unit is responsible for (an
# indicator with several responsible units is in each of their files, with
# the same figures: each unit reports it). Deterministic: no randomness, no network; the same
# catalog gives byte-identical files. Every figure is invented: the
# 数据来源 column of every row says 示例数据（合成）.
#
# Every numeric indicator of the catalog gets a smooth series that meets its
# latest target (so nothing warns by accident) except the ones in OVERRIDES below,
# chosen so that every status and warning kind appears (see README.md).
# Qualitative objectives get a yearly narrative from each responsible unit,
# its own (naming the unit; column 填报单位 says whose, so that the files
# load with a statistics token too).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CATALOG=${1:-$ROOT/deploy/catalog}
OUT=${2:-$ROOT/deploy/demo}
mkdir -p "$OUT"
rm -f "$OUT"/demo-synthetic-*.csv

# id → values 2020..2024; "-" = not reported; "N/D" = numerator/denominator.
OVERRIDES=$(cat <<'T'
HEALTH-03 0 0 1 1 0
HEALTH-04 2/5210 1/5105 0/4980 2/4870 1/4765
HEALTH-05 95.1 96.0 96.8 97.9 98.4
HEALTH-06 50 52 54.1 56.3 58.5
HEALTH-07 40 41 42 43 55
HEALTH-08 70 71.5 73 74.5 76
HEALTH-09 40 40.8 41.5 42.3 43
HEALTH-11 3.0 3.1 3.2 3.3 3.4
HEALTH-17 12 11.2 11.0 10.5 10.8
EDUCATION-05 96.2 95.8 94.6 96.5 97
ECONOMY-02 44.1 43.8 43.6 42.9 42.5
DECISION-05 31 31.5 32 32.5 -
T
)

# code → name_zh of every member unit, one per line.
UNITS=$(sed -n 's/^member_units { code: "\([^"]*\)" name_zh: "\([^"]*\)".*/\1 \2/p' \
  "$CATALOG"/member_units.textproto)

cat "$CATALOG"/plan_*.textproto | LC_ALL=C awk -v out="$OUT" -v overrides="$OVERRIDES" \
  -v unit_names="$UNITS" '
function flush(   u) {
  if (id == "") { return }
  for (u = 1; u <= nunits; u++) { write_unit(units[u]) }
}
function write_unit(unit,   k, y, v, n, d, file, vals, parts) {
  file = out "/demo-synthetic-" unit ".csv"
  if (!(file in started)) {
    started[file] = 1
    print "指标代码,区域代码,年份,性别,城乡,分子,分母,数值,数据来源,备注,工作进展,自评,填报单位" > file
  }
  has_override = (id in ov)
  if (has_override) { split(ov[id], vals, " ") }
  for (y = 2020; y <= 2024; y++) {
    k = y - 2020
    if (kind == "INDICATOR_KIND_QUALITATIVE") {
      printf "%s,610303,%d,合计,全部,,,,示例数据（合成）,synthetic demo data,%d年度%s推进%s相关工作（示例文字）,基本达标,%s\n", id, y, y, uname[unit], id, unit >> file
      continue
    }
    if (has_override) {
      v = vals[k + 1]
      if (v == "-") { continue }
    } else {
      v = generic(k)
    }
    if (kind == "INDICATOR_KIND_RATE" || kind == "INDICATOR_KIND_PROPORTION") {
      if (index(v, "/") > 0) {
        split(v, parts, "/"); n = parts[1]; d = parts[2]
      } else {
        d = (kind == "INDICATOR_KIND_RATE") ? mult * 10 : 1000
        n = sprintf("%.1f", v * d / ((kind == "INDICATOR_KIND_RATE") ? mult : 100))
      }
      printf "%s,610303,%d,合计,全部,%s,%s,,示例数据（合成）,synthetic demo data,,,\n", id, y, n, d >> file
    } else {
      printf "%s,610303,%d,合计,全部,,,%s,示例数据（合成）,synthetic demo data,,,\n", id, y, v >> file
    }
  }
}
# A smooth series that meets the indicator`s latest target; without a
# number (逐步提高 …) it changes by 2 % a year, above the 1.5 % that the
# evaluation calls on track.
# An indicator with a 逐步提高/逐步降低 target besides a number (rise/fall)
# moves by 2 % a year while meeting the number.
function generic(k,   v) {
  if ((cmp == "COMPARATOR_AT_LEAST" || cmp == "COMPARATOR_MAINTAIN_AT_LEAST") && rise) {
    v = val * 1.03 * (1.02 ^ k)
    if (kind == "INDICATOR_KIND_PROPORTION" && v > 100) { v = 99 * (1.002 ^ (k - 4)) }
  } else if ((cmp == "COMPARATOR_AT_MOST" || cmp == "COMPARATOR_BELOW" || cmp == "COMPARATOR_MAINTAIN_AT_MOST") && fall) {
    v = val * 0.9 * (0.98 ^ k)
  } else if (cmp == "COMPARATOR_AT_LEAST" || cmp == "COMPARATOR_MAINTAIN_AT_LEAST") {
    v = val * 1.03 + 0.1 * k
    if (kind == "INDICATOR_KIND_PROPORTION" && v > 100) { v = (val + 100) / 2 }
    if (val == 0) { v = 1 + 0.1 * k }
  } else if (cmp == "COMPARATOR_AT_MOST" || cmp == "COMPARATOR_BELOW" || cmp == "COMPARATOR_MAINTAIN_AT_MOST") {
    v = val * (0.9 - 0.01 * k)
  } else if (cmp == "COMPARATOR_ABOUT") {
    v = val
  } else if (cmp == "COMPARATOR_DECREASE" || cmp == "COMPARATOR_DECREASE_EACH_YEAR") {
    v = 10 * (0.96 ^ k)
  } else if (kind == "INDICATOR_KIND_VALUE") {
    v = ((rmax > 0 && rmax < 75) ? rmax / 2 : 75) * (1.02 ^ k)
  } else if (kind == "INDICATOR_KIND_COUNT") {
    v = 10 + k
  } else {
    v = 50 * (1.02 ^ k)
  }
  if (kind == "INDICATOR_KIND_COUNT") { return sprintf("%d", v + 0.5) }
  return sprintf("%.2f", v)
}
BEGIN {
  n = split(unit_names, lines, "\n")
  for (i = 1; i <= n; i++) {
    split(lines[i], f, " ")
    uname[f[1]] = f[2]
  }
  n = split(overrides, lines, "\n")
  for (i = 1; i <= n; i++) {
    if (lines[i] == "") { continue }
    split(lines[i], f, " ")
    ov[f[1]] = substr(lines[i], length(f[1]) + 2)
  }
}
# Any other top-level block (objectives of the next file …) ends an
# indicator: its fields must not leak into the indicator before it.
/^[a-z_]+ \{/ && !/^indicators \{/ { flush(); inb = 0; id = ""; next }
/^indicators \{/ { flush(); inb = 1; id = ""; kind = ""; mult = 1; cmp = ""; val = 0; nunits = 0; rise = 0; fall = 0; rmax = 0; next }
inb && /^  id:/ { gsub(/"/, "", $2); id = $2 }
inb && /^  kind:/ { kind = $2 }
inb && /^  multiplier:/ { mult = $2 }
# The latest target (targets are listed by year).
inb && /^  targets \{/ { cmp = ""; val = 0 }
inb && /^    comparator:/ { cmp = $2; if (cmp == "COMPARATOR_INCREASE") { rise = 1 } if (cmp == "COMPARATOR_DECREASE") { fall = 1 } }
inb && /^  value_range \{/ { for (i = 1; i < NF; i++) { if ($i == "max:") { rmax = $(i + 1) } } }
inb && /^    value:/ { val = $2 }
inb && /^  responsible_unit_codes:/ { gsub(/"/, "", $2); units[++nunits] = $2 }
END { flush() }
'
echo "示例数据 / synthetic demo data: $(ls "$OUT"/demo-synthetic-*.csv | wc -l) files in $OUT" >&2
