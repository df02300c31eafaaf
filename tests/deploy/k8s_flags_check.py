#!/usr/bin/env python3
"""Do the manifests pass only flags the built binaries define?

    python3 tests/deploy/k8s_flags_check.py RENDERED.yaml [...] \\
        --binary halfsky-submission=PATH [--binary NAME=PATH ...]

A flag the binary does not know makes it exit at start (absl flags), which
no schema or policy check can see. For every container whose image is
halfsky-NAME (any registry, any tag) and for which --binary NAME=PATH is
given, each `--flag` in command/args must appear in `PATH --helpfull`.
Containers of images without a binary are reported as unchecked.
Exit status: 0 every flag known, 1 unknown flags, 2 usage error.
"""

import re
import subprocess
import sys

import yaml

_HELP_FLAG = re.compile(r"^\s+--([A-Za-z0-9_]+) \(")


def known_flags(binary):
    # absl prints the help to stdout and exits non-zero; that is expected.
    out = subprocess.run([binary, "--helpfull"], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, timeout=60, check=False).stdout
    flags = set()
    for line in out.decode("utf-8", "replace").splitlines():
        m = _HELP_FLAG.match(line)
        if m:
            flags.add(m.group(1))
            flags.add("no" + m.group(1))  # boolean negation
    return flags


def image_name(image):
    last = str(image).split("/")[-1]
    return last.split("@")[0].split(":")[0]


def containers(obj):
    spec = obj.get("spec") or {}
    tpl = (spec.get("template") or {}).get("spec") or {}
    for group in ("initContainers", "containers"):
        for c in tpl.get(group) or []:
            yield c


def main(argv):
    files, binaries = [], {}
    it = iter(argv)
    for a in it:
        if a == "--binary":
            name, _, path = next(it, "").partition("=")
            if not name or not path:
                print("--binary wants NAME=PATH", file=sys.stderr)
                return 2
            binaries[name] = path
        else:
            files.append(a)
    if not files or not binaries:
        print(__doc__, file=sys.stderr)
        return 2
    flags = {name: known_flags(path) for name, path in binaries.items()}
    for name, f in flags.items():
        if not f:
            print(f"FLAGS {binaries[name]} --helpfull listed no flags", file=sys.stderr)
            return 1

    problems, checked, unchecked = [], 0, set()
    for path in files:
        with open(path, encoding="utf-8") as fh:
            for obj in yaml.safe_load_all(fh):
                if not obj:
                    continue
                for c in containers(obj):
                    image = image_name(c.get("image", ""))
                    if not image.startswith("halfsky"):
                        continue
                    if image not in flags:
                        unchecked.add(image)
                        continue
                    for arg in (c.get("command") or []) + (c.get("args") or []):
                        if not isinstance(arg, str) or not arg.startswith("--"):
                            continue
                        flag = arg[2:].split("=", 1)[0]
                        checked += 1
                        if flag not in flags[image]:
                            problems.append(f"{path}: {obj.get('kind')}/{obj['metadata']['name']} "
                                            f"passes --{flag}, which {image} does not define")
    for p in problems:
        print("FLAGS " + p, file=sys.stderr)
    for image in sorted(unchecked):
        print(f"k8s_flags_check: no binary given for image {image}: not checked")
    print(f"k8s_flags_check: {checked} flags checked, {len(problems)} unknown")
    if checked == 0:
        print("k8s_flags_check: no flag was checked", file=sys.stderr)
        return 1
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
