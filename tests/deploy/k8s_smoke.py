#!/usr/bin/env python3
"""Boot a built service exactly as a rendered pod would start it.

    python3 tests/deploy/k8s_smoke.py RENDERED.yaml KIND/NAME BINARY

Takes the first container of workload KIND/NAME (e.g. StatefulSet/submission)
from the rendered manifests, materialises its volumes in a temporary root —
ConfigMaps and Secrets from the rendered objects, laid out as the kubelet
does (files are symlinks through `..data`), emptyDirs and PVCs as empty
directories — resolves env from ConfigMaps, rewrites the mount paths in the
args to the temporary root and the listen addresses to 127.0.0.1:0, then
starts BINARY with those args plus --address_file. The pod's catalog, token
file and flags must let the service reach SERVING (the address file
appears); then SIGTERM must stop it cleanly (exit 0) within the pod's
terminationGracePeriodSeconds.

Only for services whose start needs no other service (submission; the
web console, whose upstream channels connect lazily).
Exit status: 0 started and stopped cleanly, 1 it did not, 2 usage error.
"""

import base64
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

import yaml


def find(objects, kind, name):
    for o in objects:
        if o.get("kind") == kind and (o.get("metadata") or {}).get("name") == name:
            return o
    return None


def materialise(volume, objects, root):
    """Creates the volume's files under root; returns the directory."""
    path = os.path.join(root, "volumes", volume["name"])
    os.makedirs(path)
    files = {}
    if "configMap" in volume:
        cm = find(objects, "ConfigMap", volume["configMap"]["name"])
        if cm is None:
            raise SystemExit(f"ConfigMap {volume['configMap']['name']} is not in the manifests")
        files = {k: v.encode("utf-8") for k, v in (cm.get("data") or {}).items()}
    elif "secret" in volume:
        secret = find(objects, "Secret", volume["secret"]["secretName"])
        if secret is None:
            raise SystemExit(f"Secret {volume['secret']['secretName']} is not in the manifests")
        files = {k: base64.b64decode(re.sub(r"\s", "", v)) for k, v in (secret.get("data") or {}).items()}
        files.update({k: v.encode("utf-8") for k, v in (secret.get("stringData") or {}).items()})
    if files:
        # The kubelet's atomic-writer layout: ..<timestamp>/ holds the files,
        # ..data points at it, and each key is a symlink through ..data.
        stamp = os.path.join(path, "..2026_01_01_00_00_00.000000001")
        os.makedirs(stamp)
        for key, content in files.items():
            with open(os.path.join(stamp, key), "wb") as f:
                f.write(content)
        os.symlink(os.path.basename(stamp), os.path.join(path, "..data"))
        for key in files:
            os.symlink(os.path.join("..data", key), os.path.join(path, key))
    return path


def main(argv):
    if len(argv) != 3 or "/" not in argv[1]:
        print(__doc__, file=sys.stderr)
        return 2
    manifest, target, binary = argv
    binary = os.path.abspath(binary)
    kind, name = target.split("/", 1)
    with open(manifest, encoding="utf-8") as f:
        objects = [o for o in yaml.safe_load_all(f) if o]
    workload = find(objects, kind, name)
    if workload is None:
        print(f"SMOKE {target} is not in {manifest}", file=sys.stderr)
        return 1
    pod = workload["spec"]["template"]["spec"]
    container = pod["containers"][0]
    grace = pod.get("terminationGracePeriodSeconds", 30)

    root = tempfile.mkdtemp(prefix="halfsky-smoke-")
    volumes = {v["name"]: v for v in pod.get("volumes") or []}
    for claim in workload["spec"].get("volumeClaimTemplates") or []:
        volumes[claim["metadata"]["name"]] = {"name": claim["metadata"]["name"], "emptyDir": {}}
    mounts = {}
    for m in container.get("volumeMounts") or []:
        mounts[m["mountPath"]] = materialise(volumes[m["name"]], objects, root)

    env = {}
    for e in container.get("env") or []:
        if "value" in e:
            env[e["name"]] = e["value"]
        elif "configMapKeyRef" in (e.get("valueFrom") or {}):
            ref = e["valueFrom"]["configMapKeyRef"]
            env[e["name"]] = (find(objects, "ConfigMap", ref["name"]) or {}).get("data", {}).get(ref["key"], "")

    args = []
    for a in container.get("args") or []:
        a = re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: env.get(m.group(1), m.group(0)), a)
        if a.startswith(("--listen=", "--metrics_listen=", "--http_listen=")):
            a = a.split("=", 1)[0] + "=127.0.0.1:0"
        flag, eq, value = a.partition("=")
        for mount_path in sorted(mounts, key=len, reverse=True):
            if eq and (value == mount_path or value.startswith(mount_path + "/")):
                a = flag + "=" + mounts[mount_path] + value[len(mount_path):]
                break
        args.append(a)
    address_file = os.path.join(root, "address")
    args.append("--address_file=" + address_file)

    log_path = os.path.join(root, "log")
    print(f"k8s_smoke: {os.path.basename(binary)} {' '.join(args)}")
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([binary] + args, stdout=log, stderr=subprocess.STDOUT, cwd=root)
    try:
        deadline = time.monotonic() + 60
        while not os.path.exists(address_file) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        if not os.path.exists(address_file):
            print(f"SMOKE {target}: the service did not start (exit {proc.poll()}):", file=sys.stderr)
            print(open(log_path, encoding="utf-8", errors="replace").read(), file=sys.stderr)
            return 1
        with open(address_file, encoding="utf-8") as f:
            print(f"k8s_smoke: serving: {f.read().strip()}")
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            print(f"SMOKE {target}: still running {grace}s after SIGTERM "
                  "(the kubelet would SIGKILL it)", file=sys.stderr)
            return 1
        if rc != 0:
            print(f"SMOKE {target}: exit {rc} after SIGTERM:", file=sys.stderr)
            print(open(log_path, encoding="utf-8", errors="replace").read(), file=sys.stderr)
            return 1
        print(f"k8s_smoke: {target} started with the pod's args, catalog and tokens, and stopped cleanly")
        return 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        subprocess.run(["rm", "-rf", root], check=False)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
