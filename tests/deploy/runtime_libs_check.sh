#!/usr/bin/env bash
# Does the Docker runtime stage install every shared library the binaries
# link? No container engine runs in CI, so this checks what it can: for each
# binary, every library `ldd` resolves is mapped to its Debian package with
# `dpkg -S`, and that package must be listed in the package file that the
# Dockerfile's runtime stage installs (deploy/docker/runtime-packages.txt).
# Builder and runtime are both Debian 12, so package names agree.
#
#   runtime_libs_check.sh PACKAGES_FILE BINARY [BINARY...]
#
# Exit status: 0 covered; 1 a library is missing from the list, unresolved
# ("not found") or owned by no package; 2 usage error.
set -euo pipefail

if [[ $# -lt 2 ]]; then
  echo "usage: $0 PACKAGES_FILE BINARY [BINARY...]" >&2
  exit 2
fi
packages_file=$1
shift
if [[ ! -r $packages_file ]]; then
  echo "runtime_libs_check: cannot read $packages_file" >&2
  exit 2
fi
for tool in ldd dpkg-query; do
  if ! command -v "$tool" >/dev/null; then
    echo "runtime_libs_check: $tool not found (Debian/Ubuntu only)" >&2
    exit 2
  fi
done

# Package names listed in the file: first word of each non-comment line.
declare -A listed=()
while read -r pkg _; do
  [[ -z $pkg || $pkg == \#* ]] && continue
  listed[$pkg]=1
done <"$packages_file"

# The package owning a library path. Debian 12 has a merged /usr, and dpkg
# records some files under /lib and others under /usr/lib, so try the path,
# its resolved target, and the other spelling of each.
owner_of() {
  local path=$1 candidates=() c out
  candidates+=("$path")
  candidates+=("$(readlink -f "$path")")
  for c in "${candidates[@]}"; do
    case $c in
      /usr/*) candidates+=("${c#/usr}") ;;
      *) candidates+=("/usr$c") ;;
    esac
  done
  for c in "${candidates[@]}"; do
    if out=$(dpkg-query -S "$c" 2>/dev/null); then
      # "libfoo1:amd64: /path" -> libfoo1 (first owner; diversions aside)
      out=${out%%: *}
      out=${out%%,*}
      echo "${out%%:*}"
      return 0
    fi
  done
  return 1
}

failures=0
checked=0
for binary in "$@"; do
  if [[ ! -f $binary ]]; then
    echo "runtime_libs_check: $binary: no such file" >&2
    failures=$((failures + 1))
    continue
  fi
  if ! ldd_out=$(ldd "$binary" 2>&1); then
    echo "runtime_libs_check: $binary: ldd failed: $ldd_out" >&2
    failures=$((failures + 1))
    continue
  fi
  while read -r line; do
    lib=""
    case $line in
      *"=> not found"*)
        echo "MISSING $binary: ${line%% *} is not found on this machine" >&2
        failures=$((failures + 1))
        continue
        ;;
      *"=> /"*) lib=${line#*=> }; lib=${lib%% (*} ;;
      /*) lib=${line%% (*} ;;  # the dynamic loader
      *) continue ;;          # linux-vdso and friends
    esac
    checked=$((checked + 1))
    if ! pkg=$(owner_of "$lib"); then
      echo "UNOWNED $binary: $lib belongs to no Debian package (built by hand?)" >&2
      failures=$((failures + 1))
      continue
    fi
    if [[ -z ${listed[$pkg]:-} ]]; then
      echo "UNLISTED $binary: $lib comes from package $pkg, which $packages_file does not list" >&2
      failures=$((failures + 1))
    fi
  done <<<"$ldd_out"
done

echo "runtime_libs_check: $# binaries, $checked libraries, $failures problems"
[[ $failures -eq 0 && $checked -gt 0 ]]
