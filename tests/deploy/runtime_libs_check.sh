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

# Spellings under which dpkg may record a library path. Debian 12 has a
# merged /usr, and dpkg records some files under /lib and others under
# /usr/lib, so: the path, its resolved target, and the other form of each.
spellings() {
  local path=$1 real c
  real=$(readlink -f "$path")
  for c in "$path" "$real"; do
    echo "$c"
    case $c in
      /usr/*) echo "${c#/usr}" ;;
      *) echo "/usr$c" ;;
    esac
  done
}

# Pass 1: every library of every binary (ldd), unique.
declare -A libs_of=()   # binary -> newline-separated libraries
declare -A all_libs=()
failures=0
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
  list=""
  while read -r line; do
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
    list+="$lib"$'\n'
    all_libs[$lib]=1
  done <<<"$ldd_out"
  libs_of[$binary]=$list
done

# Pass 2: one dpkg-query for every spelling of every library (dpkg-query -S
# reads the whole package database per call, so calls are what costs).
declare -A owner=()    # spelling -> package
if [[ ${#all_libs[@]} -gt 0 ]]; then
  mapfile -t candidates < <(for lib in "${!all_libs[@]}"; do spellings "$lib"; done | sort -u)
  while IFS= read -r line; do
    # "libfoo1:amd64: /path" (or "pkg1, pkg2: /path" for shared paths)
    pkgs=${line%%: /*}
    path=/${line#*: /}
    pkg=${pkgs%%,*}
    owner[$path]=${pkg%%:*}
  done < <(dpkg-query -S "${candidates[@]}" 2>/dev/null || true)
fi

checked=0
for binary in "$@"; do
  while IFS= read -r lib; do
    [[ -z $lib ]] && continue
    checked=$((checked + 1))
    pkg=""
    while IFS= read -r c; do
      if [[ -n ${owner[$c]:-} ]]; then
        pkg=${owner[$c]}
        break
      fi
    done < <(spellings "$lib")
    if [[ -z $pkg ]]; then
      echo "UNOWNED $binary: $lib belongs to no Debian package (built by hand?)" >&2
      failures=$((failures + 1))
    elif [[ -z ${listed[$pkg]:-} ]]; then
      echo "UNLISTED $binary: $lib comes from package $pkg, which $packages_file does not list" >&2
      failures=$((failures + 1))
    fi
  done <<<"${libs_of[$binary]:-}"
done

echo "runtime_libs_check: $# binaries, $checked libraries, $failures problems"
[[ $failures -eq 0 && $checked -gt 0 ]]
