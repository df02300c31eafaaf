#!/usr/bin/env bash
# 加载示例数据并完成 2024 年报送审核 / load the synthetic demo data and its 2024 review.
#
#   deploy/demo/load.sh HALFSKYCTL SERVER [SECRETS_DIR]
#
# Every member unit submits its deploy/demo/demo-synthetic-<UNIT>.csv
# (generated first when there is none) with its own token
# (SECRETS_DIR/unit-<UNIT>.token) and then 报送 its 2024 form; the statistics
# bureau (SECRETS_DIR/statistics.token) approves every form (已审核, its
# values locked) except the People's Congress office's (RETURNED_UNIT),
# which it returns (已退回) with a reason: its DECISION-05 for 2024 is not
# reported. Without SECRETS_DIR (a HALFSKY_NO_AUTH=1 deployment) no token is
# sent. Re-runnable: a form an earlier run approved is unlocked, with a
# reason, before its file is loaded again.
#
# SERVER is the submission service (HOST:PORT). Exits non-zero, naming the
# step, on the first failure.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CTL=${1:?usage: load.sh HALFSKYCTL SERVER [SECRETS_DIR]}
SERVER=${2:?usage: load.sh HALFSKYCTL SERVER [SECRETS_DIR]}
SECRETS=${3:-}
YEAR=2024
RETURNED_UNIT=${RETURNED_UNIT:-PEOPLES_CONGRESS}
RETURN_REASON="2024年 DECISION-05 区人大代表中女性比例未报送，请补报后重新报送"

say() { printf '%s\n' "$*"; }
fail() { printf 'deploy/demo/load.sh: %s\n' "$*" >&2; exit 1; }

token_of() {  # token_of NAME → the token, "" without SECRETS
  [ -n "$SECRETS" ] || return 0
  [ -f "$SECRETS/$1.token" ] || fail "no token $SECRETS/$1.token"
  cat "$SECRETS/$1.token"
}

ctl() {  # ctl TOKEN ARGS...
  local token=$1
  shift
  HALFSKY_TOKEN=$token "$CTL" "$@" --server "$SERVER"
}

cd "$ROOT"
[ -n "$(ls deploy/demo/demo-synthetic-*.csv 2>/dev/null)" ] || bash deploy/demo/generate.sh
stats=$(token_of statistics)

# Every member unit of the catalog (a unit responsible for no indicator has
# no file, and an empty form it still submits).
mapfile -t units < <(grep -o 'code: "[A-Z0-9_]*"' deploy/catalog/member_units.textproto | cut -d'"' -f2)
[ ${#units[@]} -gt 0 ] || fail "no member units in deploy/catalog/member_units.textproto"

# An earlier run's approved form locks its values: unlock it first (the
# reason is kept in its history). FORM_STATE (not approved) is expected.
approved=$(ctl "$stats" review list --year "$YEAR" --state approved --format json) ||
  fail "review list failed"
for unit in "${units[@]}"; do
  if grep -Eq "\"unit_code\": *\"$unit\"" <<<"$approved"; then
    ctl "$stats" review unlock --unit "$unit" --year "$YEAR" \
      --reason "重新加载示例数据 / reloading the demo data" >/dev/null ||
      fail "unlocking $unit's $YEAR form failed"
  fi
done

for unit in "${units[@]}"; do
  [ -f "deploy/demo/demo-synthetic-$unit.csv" ] || continue
  token=$(token_of "unit-$unit")
  ctl "$token" submit "deploy/demo/demo-synthetic-$unit.csv" || fail "loading $unit's file failed"
done

say "==> 2024 报送审核 / review: every unit submits, the bureau approves (${RETURNED_UNIT} returned)"
for unit in "${units[@]}"; do
  token=$(token_of "unit-$unit")
  ctl "$token" review submit --unit "$unit" --year "$YEAR" >/dev/null ||
    fail "$unit's $YEAR 报送 failed"
  if [ "$unit" = "$RETURNED_UNIT" ]; then
    ctl "$stats" review return --unit "$unit" --year "$YEAR" --reason "$RETURN_REASON" ||
      fail "returning $unit's $YEAR form failed"
  else
    ctl "$stats" review approve --unit "$unit" --year "$YEAR" >/dev/null ||
      fail "approving $unit's $YEAR form failed"
  fi
done
say "demo review done: $((${#units[@]} - 1)) forms 已审核, 1 已退回 ($RETURNED_UNIT)"
