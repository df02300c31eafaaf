#!/usr/bin/env python3
"""Policy check of rendered halfsky manifests (house rules the API schema
cannot express).

    python3 tests/deploy/k8s_policy_check.py RENDERED.yaml [...]

Needs only Python 3 and PyYAML (Debian: python3 python3-yaml).

For every pod template (Deployment, StatefulSet, DaemonSet, Job, CronJob,
Pod) and every container and init container in it:
  * liveness and readiness probes; halfsky containers (image halfsky-*) use
    native gRPC probes, TCP probes, or HTTP GET /healthz[/SERVICE] on their
    port named metrics (the server's own health status in plaintext, where
    the gRPC port speaks TLS); others may also use exec; a gRPC probe's port
    is a number that the container exposes;
  * resource requests and limits for cpu and memory, requests <= limits;
  * effective security context (container over pod): runAsNonRoot, a fixed
    non-zero runAsUser, readOnlyRootFilesystem, allowPrivilegeEscalation
    false, capabilities drop ALL and add nothing, not privileged,
    seccompProfile RuntimeDefault (or Localhost);
  * automountServiceAccountToken false on the pod and on ServiceAccounts;
  * a container with a port named `metrics` has the Prometheus scrape
    annotations pointing at that port;
  * terminationGracePeriodSeconds longer than --drain_delay + --grace_period;
  * a ConfigMap or Secret stays below the API's 1 MiB object limit (the
    catalog ConfigMap grows with the catalog);
and for the halfsky services:
  * each ClusterIP Service selecting a halfsky service has a port named grpc;
  * submission runs more than one replica only on PostgreSQL (every
    container passes --store=postgres:..., none --db, no volume claims),
    SQLite submission (--db or --store=sqlite:) runs exactly one, and
    --store never carries a password (user:password@ or password=);
  * aggregation has one active writer: a Deployment with replicas 1 and
    strategy Recreate, or with --leader_election=postgres:CONNINFO (no
    password in it, PGPASSWORD from a Secret) on every container, liveness
    and startup on the overall health status, readiness on
    halfsky.v1.AggregationService (gRPC, or HTTP /healthz/ of it; never TCP:
    a standby would be Ready) and a rollout that may stop every
    old pod (maxUnavailable 100%); no HorizontalPodAutoscaler targets it;
  * the evaluation primary (StatefulSet evaluation, the one SQLite writer)
    runs one replica and no HorizontalPodAutoscaler targets it;
  * an evaluation read replica (a container passing --follow=HOST:PORT)
    follows a Service of the rendered manifests that selects the primary's
    pods on that port, keeps no store (no --db, no volumeClaimTemplates);
    where replicas run, the client-facing Service `evaluation` selects them
    and an HPA scaling them keeps at least 2.
  * the cache's Redis address (--redis, $(VAR) expanded from the rendered
    ConfigMaps): sentinel://... lists at least 3 sentinels, each a pod of a
    StatefulSet here, with --redis_sentinel_password_file; a plain
    HOST:PORT has no sentinel flags; more than one Redis server needs a
    Sentinel set of at least 3;
  * the calls between halfsky services: each upstream a container names
    (--submission, --aggregation, --evaluation, --follow; $(VAR) expanded)
    is a Service of these manifests with that port, selecting a workload;
    where a default-deny NetworkPolicy is in force (podSelector {}, as in
    prod), an egress rule of the caller and an ingress rule of the callee
    allow that flow; a container whose own port
    speaks TLS (--tls_cert) calls upstream with --upstream_tls_ca (the
    others speak TLS too: plaintext calls would fail);
  * the web console (Deployment web, sessions in its memory) runs one
    replica unless Service web pins clients (sessionAffinity: ClientIP),
    exposes its --http_listen port as a container port named http, and,
    where a default-deny NetworkPolicy is in force, admits any source on it.
  * Redis over TLS (components/redis-tls): a container passing
    --redis_tls_tunnel has --redis=127.0.0.1:PORT (never sentinel://: the
    sentinels name the servers' own addresses, which bypass the tunnel) and
    a tunnel container in its pod (image halfsky-redis-tunnel, a native
    sidecar or a container) whose stunnel.conf, from a rendered ConfigMap,
    has a client section accepting on 127.0.0.1:PORT only, with a CAfile,
    verifyChain = yes and checkHost (or checkIP) set; a pod with a tunnel
    passes --redis_tls_tunnel. Tunnel containers may use exec probes (they
    listen on loopback, out of the kubelet's TCP probe's reach).
Native sidecars (init containers with restartPolicy Always) are checked as
containers (probes included).
Exit status: 0 no violation, 1 violations (printed), 2 usage error.
"""

import re
import sys

import yaml

WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet"}
HALFSKY_SERVICES = {"submission", "aggregation", "evaluation", "evaluation-replica", "web"}
# Flags naming another halfsky service's gRPC address (HOST:PORT).
UPSTREAM_FLAGS = ("submission", "aggregation", "evaluation", "follow")

_QUANTITY = re.compile(r"^([+-]?[0-9.]+)([a-zA-Z]*)$")
_SUFFIX = {
    "": 1, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")


def quantity(value):
    m = _QUANTITY.match(str(value))
    if not m or m.group(2) not in _SUFFIX:
        return None
    return float(m.group(1)) * _SUFFIX[m.group(2)]


def seconds(duration):
    """absl/Go duration such as 20s, 1m30s, 500ms -> seconds."""
    unit = {"ms": 1e-3, "s": 1, "m": 60, "h": 3600}
    parts = _DURATION.findall(duration)
    if not parts:
        return None
    return sum(float(n) * unit[u] for n, u in parts)


def pod_template(obj):
    kind = obj.get("kind")
    spec = obj.get("spec") or {}
    if kind == "Pod":
        return obj.get("metadata") or {}, spec
    if kind == "CronJob":
        tpl = ((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}
        return tpl.get("metadata") or {}, tpl.get("spec") or {}
    if kind in WORKLOAD_KINDS:
        tpl = spec.get("template") or {}
        return tpl.get("metadata") or {}, tpl.get("spec") or {}
    return None, None


def flag_value(args, name):
    for a in args or []:
        if isinstance(a, str) and a.startswith("--" + name + "="):
            return a.split("=", 1)[1]
    return None


def check_container(where, c, pod_sc, problems, is_init):
    image = str(c.get("image", ""))
    halfsky = image.split("/")[-1].startswith("halfsky-") and not is_tunnel(c)
    ports = {p.get("containerPort") for p in c.get("ports") or []}

    if not is_init or c.get("restartPolicy") == "Always":
        for probe_name in ("livenessProbe", "readinessProbe"):
            probe = c.get(probe_name)
            if not probe:
                problems.append(f"{where}: no {probe_name}")
                continue
            allowed = ("grpc", "tcpSocket", "httpGet") if halfsky else ("grpc", "tcpSocket", "exec")
            handlers = [h for h in ("grpc", "tcpSocket", "exec", "httpGet") if h in probe]
            if not handlers or handlers[0] not in allowed:
                problems.append(f"{where}: {probe_name} must use one of {', '.join(allowed)}")
            if halfsky and "httpGet" in probe:
                http = probe["httpGet"] or {}
                path = str(http.get("path", ""))
                if http.get("port") != "metrics":
                    problems.append(f"{where}: {probe_name}.httpGet must use the port named metrics")
                if not (path == "/healthz" or path.startswith("/healthz/")):
                    problems.append(f"{where}: {probe_name}.httpGet.path must be /healthz or "
                                    "/healthz/SERVICE")
            if "grpc" in probe:
                port = (probe["grpc"] or {}).get("port")
                if not isinstance(port, int):
                    problems.append(f"{where}: {probe_name}.grpc.port must be a number")
                elif port not in ports:
                    problems.append(f"{where}: {probe_name}.grpc.port {port} is not a container port")

    res = c.get("resources") or {}
    for section in ("requests", "limits"):
        for r in ("cpu", "memory"):
            if (res.get(section) or {}).get(r) is None:
                problems.append(f"{where}: no resources.{section}.{r}")
    for r in ("cpu", "memory"):
        req = quantity((res.get("requests") or {}).get(r, ""))
        lim = quantity((res.get("limits") or {}).get(r, ""))
        if req is not None and lim is not None and req > lim:
            problems.append(f"{where}: resources.requests.{r} exceeds the limit")

    sc = c.get("securityContext") or {}

    def eff(key):
        return sc[key] if key in sc else pod_sc.get(key)

    if eff("runAsNonRoot") is not True:
        problems.append(f"{where}: runAsNonRoot must be true")
    uid = eff("runAsUser")
    if not isinstance(uid, int) or uid == 0:
        problems.append(f"{where}: runAsUser must be a fixed non-zero UID")
    if sc.get("readOnlyRootFilesystem") is not True:
        problems.append(f"{where}: readOnlyRootFilesystem must be true")
    if sc.get("allowPrivilegeEscalation") is not False:
        problems.append(f"{where}: allowPrivilegeEscalation must be false")
    if sc.get("privileged") is True:
        problems.append(f"{where}: privileged")
    caps = sc.get("capabilities") or {}
    if "ALL" not in (caps.get("drop") or []):
        problems.append(f"{where}: capabilities must drop ALL")
    if caps.get("add"):
        problems.append(f"{where}: capabilities.add must be empty")
    seccomp = (eff("seccompProfile") or {}).get("type")
    if seccomp not in ("RuntimeDefault", "Localhost"):
        problems.append(f"{where}: seccompProfile.type must be RuntimeDefault")


def selects(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def check_evaluation(objects, hpas, problems):
    """The evaluation primary and its read replicas."""
    services = {(o.get("metadata") or {}).get("name"): o for o in objects if o.get("kind") == "Service"}
    primary = None
    for obj in objects:
        if obj.get("kind") == "StatefulSet" and (obj.get("metadata") or {}).get("name") == "evaluation":
            primary = obj
    primary_labels = {}
    if primary is not None:
        spec = primary.get("spec") or {}
        primary_labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
        if spec.get("replicas", 1) != 1:
            problems.append("StatefulSet/evaluation: the evaluation primary must run exactly one replica")
        for hpa in hpas:
            ref = (hpa.get("spec") or {}).get("scaleTargetRef") or {}
            if (ref.get("kind"), ref.get("name")) == ("StatefulSet", "evaluation"):
                problems.append(f"HorizontalPodAutoscaler/{hpa['metadata']['name']}: the evaluation "
                                "primary must not be autoscaled (scale its read replicas)")
    for obj in objects:
        tmeta, pod = pod_template(obj)
        if pod is None:
            continue
        ident = f"{obj.get('kind')}/{(obj.get('metadata') or {}).get('name', '?')}"
        for c in pod.get("containers") or []:
            follow = flag_value(c.get("args"), "follow")
            if not follow:
                continue
            host, _, port = follow.rpartition(":")
            svc = services.get(host.split(".")[0])
            if svc is None:
                problems.append(f"{ident}: --follow={follow} names no Service of these manifests")
            else:
                sspec = svc.get("spec") or {}
                if not selects(sspec.get("selector") or {}, primary_labels):
                    problems.append(f"{ident}: --follow={follow}: Service {host} does not select the "
                                    "evaluation primary's pods")
                if port not in {str(p.get("port")) for p in sspec.get("ports") or []}:
                    problems.append(f"{ident}: --follow={follow}: Service {host} has no port {port}")
            if flag_value(c.get("args"), "db") is not None or (obj.get("spec") or {}).get("volumeClaimTemplates"):
                problems.append(f"{ident}: an evaluation read replica keeps no store (no --db, no PVC)")
            labels = tmeta.get("labels") or {}
            client = services.get("evaluation")
            if client is not None and not selects((client.get("spec") or {}).get("selector") or {}, labels):
                problems.append(f"Service/evaluation: clients must reach the read replicas ({ident})")
            for hpa in hpas:
                hspec = hpa.get("spec") or {}
                ref = hspec.get("scaleTargetRef") or {}
                if (ref.get("kind"), ref.get("name")) == (obj.get("kind"), obj["metadata"]["name"]):
                    if hspec.get("minReplicas", 1) < 2:
                        problems.append(f"HorizontalPodAutoscaler/{hpa['metadata']['name']}: keep at "
                                        "least 2 evaluation read replicas (minReplicas)")


AGGREGATION_HEALTH_SERVICE = "halfsky.v1.AggregationService"


def password_in_conninfo(conninfo):
    return bool(re.search(r"://[^/@]*:[^/@]*@", conninfo)
                or re.search(r"(^|[\s?&])password=", conninfo))


def check_aggregation(ident, obj, hpa_targets, problems):
    """One active aggregator: a single replica (strategy Recreate), or
    several that elect a leader (--leader_election=postgres:...)."""
    spec = obj.get("spec") or {}
    _, pod = pod_template(obj)
    containers = (pod or {}).get("containers") or []
    elections = [flag_value(c.get("args"), "leader_election") for c in containers]
    electing = bool(containers) and all((e or "").startswith("postgres:") for e in elections)
    for e in elections:
        if e is not None and not e.startswith("postgres:"):
            problems.append(f"{ident}: --leader_election={e}: only postgres:CONNINFO is known")
        if e is not None and password_in_conninfo(e):
            problems.append(f"{ident}: --leader_election must not carry the password "
                            "(PGPASSWORD from a Secret)")
    if obj.get("kind") != "Deployment":
        problems.append(f"{ident}: aggregation is a Deployment")
    replicas = spec.get("replicas", 1)
    if not electing:
        if replicas != 1:
            problems.append(f"{ident}: aggregation without --leader_election=postgres: must run "
                            "exactly one replica (two would race on the cursor)")
        if (spec.get("strategy") or {}).get("type") != "Recreate":
            problems.append(f"{ident}: aggregation without --leader_election needs strategy "
                            "Recreate (one active replica)")
    else:
        for c in containers:
            where = f"{ident} container {c.get('name', '?')}"
            # A standby is healthy: liveness and startup ask for the overall
            # status, or a standby would be restarted for not being leader.
            for probe_name in ("livenessProbe", "startupProbe"):
                probe = c.get(probe_name) or {}
                grpc = probe.get("grpc") or {}
                http = probe.get("httpGet") or {}
                if grpc.get("service") or str(http.get("path", "/healthz")) != "/healthz":
                    problems.append(f"{where}: {probe_name} must not name a health service "
                                    "(a standby would be restarted)")
            readiness = c.get("readinessProbe") or {}
            grpc = readiness.get("grpc")
            http = readiness.get("httpGet")
            if grpc is not None and grpc.get("service") != AGGREGATION_HEALTH_SERVICE:
                problems.append(f"{where}: a gRPC readinessProbe of an electing aggregation must "
                                f"ask for service {AGGREGATION_HEALTH_SERVICE} (only the leader "
                                "serves)")
            if http is not None and http.get("path") != "/healthz/" + AGGREGATION_HEALTH_SERVICE:
                problems.append(f"{where}: an HTTP readinessProbe of an electing aggregation must "
                                f"ask for /healthz/{AGGREGATION_HEALTH_SERVICE} (only the leader "
                                "serves)")
            if "tcpSocket" in readiness:
                problems.append(f"{where}: a TCP readinessProbe makes the standby Ready: ask for "
                                f"{AGGREGATION_HEALTH_SERVICE} (gRPC, or HTTP "
                                f"/healthz/{AGGREGATION_HEALTH_SERVICE} on the metrics port)")
            if not any(e.get("name") == "PGPASSWORD" and (e.get("valueFrom") or {}).get("secretKeyRef")
                       for e in c.get("env") or []):
                problems.append(f"{where}: --leader_election needs PGPASSWORD from a Secret")
        rolling = spec.get("strategy") or {}
        if rolling.get("type", "RollingUpdate") == "RollingUpdate":
            unavailable = str((rolling.get("rollingUpdate") or {}).get("maxUnavailable", "25%"))
            if unavailable not in ("100%", str(replicas)) and replicas > 1:
                problems.append(f"{ident}: only the leader is Ready: maxUnavailable must be 100% "
                                f"(got {unavailable}), or the rollout waits forever for a second "
                                "Ready pod")
    if ("Deployment", "aggregation") in hpa_targets:
        problems.append(f"{ident}: aggregation must not be autoscaled")


_VAR = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")


def expand(arg, container, configmaps):
    """Expands $(VAR) in arg as the kubelet would, from the container's env
    (value, or configMapKeyRef into the rendered ConfigMaps). None when a
    variable cannot be resolved here (a Secret, the downward API)."""
    env = {e.get("name"): e for e in container.get("env") or []}
    unresolved = []

    def one(m):
        e = env.get(m.group(1))
        if e is None:
            unresolved.append(m.group(1))
            return m.group(0)
        if "value" in e:
            return str(e.get("value") or "")
        ref = (e.get("valueFrom") or {}).get("configMapKeyRef") or {}
        data = (configmaps.get(ref.get("name")) or {}).get("data") or {}
        if ref.get("key") not in data:
            unresolved.append(m.group(1))
            return m.group(0)
        return str(data[ref["key"]] or "")

    out = _VAR.sub(one, arg)
    return None if unresolved else out


def check_redis(objects, problems):
    """The Redis address of the services that use the cache, as rendered:
    with a sentinel:// address, at least 3 sentinels, each a pod of a
    StatefulSet of these manifests (POD.SERVICE), and sentinel credentials;
    with a plain HOST:PORT, no sentinel flags (the binary refuses them). A
    Redis StatefulSet of more than one server needs 3 sentinels."""
    configmaps = {(o.get("metadata") or {}).get("name"): o for o in objects if o.get("kind") == "ConfigMap"}
    statefulsets = {(o.get("metadata") or {}).get("name"): o for o in objects if o.get("kind") == "StatefulSet"}
    services = {(o.get("metadata") or {}).get("name") for o in objects if o.get("kind") == "Service"}
    pods = set()  # "pod.service" of every StatefulSet pod
    for name, sts in statefulsets.items():
        spec = sts.get("spec") or {}
        for i in range(spec.get("replicas", 1)):
            pods.add(f"{name}-{i}.{spec.get('serviceName', '')}")
    redis = statefulsets.get("redis")
    sentinel_sets = [o for o in statefulsets.values()
                     if any("--sentinel" in " ".join(map(str, (c.get("command") or []) + (c.get("args") or [])))
                            or "sentinel" in str(c.get("name", ""))
                            for c in ((o.get("spec") or {}).get("template") or {}).get("spec", {}).get("containers") or [])]
    if redis is not None and (redis.get("spec") or {}).get("replicas", 1) > 1:
        if not any((o.get("spec") or {}).get("replicas", 1) >= 3 for o in sentinel_sets):
            problems.append("StatefulSet/redis: more than one Redis server needs a Sentinel set of at "
                            "least 3 (components/sentinel-redis)")
    for obj in objects:
        _, pod = pod_template(obj)
        if pod is None:
            continue
        ident = f"{obj.get('kind')}/{(obj.get('metadata') or {}).get('name', '?')}"
        for c in pod.get("containers") or []:
            args = c.get("args") or []
            raw = flag_value(args, "redis")
            if raw is None:
                continue
            addr = expand(raw, c, configmaps)
            if addr is None:
                problems.append(f"{ident}: --redis={raw}: a variable that these manifests do not define")
                continue
            sentinel_flags = {}
            for flag in ("redis_sentinel_user", "redis_sentinel_password_file"):
                v = flag_value(args, flag)
                sentinel_flags[flag] = expand(v, c, configmaps) if v is not None else ""
            if not addr.startswith("sentinel://"):
                for flag, v in sentinel_flags.items():
                    if v:
                        problems.append(f"{ident}: --{flag}={v} with --redis={addr}: only with a "
                                        "sentinel:// address (the service refuses to start)")
                continue
            hosts, _, master = addr[len("sentinel://"):].partition("/")
            sentinels = [h for h in hosts.split(",") if h]
            if not master:
                problems.append(f"{ident}: --redis={addr} names no master")
            if len(sentinels) < 3:
                problems.append(f"{ident}: --redis={addr}: list at least 3 sentinels (quorum 2)")
            for h in sentinels:
                # POD.SERVICE[.NAMESPACE...] of a Service here must be a pod
                # of its StatefulSet; other hosts are outside these manifests.
                labels = h.rpartition(":")[0].split(".")
                if len(labels) >= 2 and labels[1] in services and f"{labels[0]}.{labels[1]}" not in pods:
                    problems.append(f"{ident}: --redis: sentinel {h} is no pod of a StatefulSet "
                                    f"governed by Service {labels[1]}")
            if not sentinel_flags["redis_sentinel_password_file"]:
                problems.append(f"{ident}: --redis={addr} without --redis_sentinel_password_file "
                                "(the sentinels' default user is off)")


def match_selector(selector, labels):
    """A LabelSelector (matchLabels, matchExpressions) against labels; {}
    matches everything."""
    selector = selector or {}
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in selector.get("matchExpressions") or []:
        key, op, values = e.get("key"), e.get("operator"), e.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def rule_port_matches(rule, port):
    ports = rule.get("ports")
    if not ports:
        return True
    for p in ports:
        if p.get("protocol", "TCP") != "TCP":
            continue
        if "port" not in p or p.get("port") == port:
            return True
        end = p.get("endPort")
        if isinstance(p.get("port"), int) and end and p["port"] <= port <= end:
            return True
    return False


def peer_is_pod(peer, labels):
    """A NetworkPolicy peer that names pods of this namespace matching
    labels (a namespaceSelector or ipBlock peer is about other traffic)."""
    return "podSelector" in peer and "namespaceSelector" not in peer and \
        match_selector(peer.get("podSelector"), labels)


def peer_is_anywhere(peer):
    return (peer.get("ipBlock") or {}).get("cidr") == "0.0.0.0/0" and not peer["ipBlock"].get("except")


def default_deny(policies, direction):
    """Whether a policy of these manifests selects every pod for direction
    (the "deny everything, then allow" design of overlays/prod). Only there
    are flows judged: a variant with a few policies but none of that kind
    (plaintext-ha: components/sentinel-redis alone) was not designed as a
    whole and is not judged here."""
    for np in policies:
        spec = np.get("spec") or {}
        if spec.get("podSelector") == {} and direction in (spec.get("policyTypes") or []):
            return True
    return False


def flow_allowed(policies, direction, selected_labels, other_labels, port):
    """Whether NetworkPolicies let traffic through in one direction:
    direction "Egress" (selected = the caller, other = the callee) or
    "Ingress" (selected = the callee, other = the caller, None = any source
    outside the namespace). No policy of that type selecting the pod: allowed."""
    if not default_deny(policies, direction):
        return True
    applying = []
    for np in policies:
        spec = np.get("spec") or {}
        types = spec.get("policyTypes") or (["Ingress"] + (["Egress"] if spec.get("egress") else []))
        if direction in types and match_selector(spec.get("podSelector"), selected_labels):
            applying.append(spec)
    if not applying:
        return True
    key, peers_key = ("egress", "to") if direction == "Egress" else ("ingress", "from")
    for spec in applying:
        for rule in spec.get(key) or []:
            if not rule_port_matches(rule, port):
                continue
            peers = rule.get(peers_key)
            if not peers:
                return True
            for peer in peers:
                if other_labels is None and peer_is_anywhere(peer):
                    return True
                if other_labels is not None and peer_is_pod(peer, other_labels):
                    return True
    return False


def workloads_of(objects):
    """(ident, template labels, pod spec) of every workload."""
    out = []
    for obj in objects:
        tmeta, pod = pod_template(obj)
        if pod is None:
            continue
        ident = f"{obj.get('kind')}/{(obj.get('metadata') or {}).get('name', '?')}"
        out.append((ident, tmeta.get("labels") or {}, pod, obj))
    return out


def container_port(pod, name_or_number):
    for c in pod.get("containers") or []:
        for p in c.get("ports") or []:
            if name_or_number in (p.get("name"), p.get("containerPort")):
                return p.get("containerPort")
    return None


def check_upstreams(objects, problems):
    """Every call between halfsky services goes to a Service that exists,
    has the port, selects a workload, and is let through by the
    NetworkPolicies; TLS callers verify TLS callees."""
    configmaps = {(o.get("metadata") or {}).get("name"): o for o in objects if o.get("kind") == "ConfigMap"}
    services = {(o.get("metadata") or {}).get("name"): o for o in objects if o.get("kind") == "Service"}
    policies = [o for o in objects if o.get("kind") == "NetworkPolicy"]
    workloads = workloads_of(objects)
    for ident, labels, pod, _ in workloads:
        for c in pod.get("containers") or []:
            image = str(c.get("image", ""))
            if not image.split("/")[-1].startswith("halfsky-"):
                continue
            args = c.get("args") or []
            where = f"{ident} container {c.get('name', '?')}"
            named = []
            for flag in UPSTREAM_FLAGS:
                raw = flag_value(args, flag)
                if raw is None or raw == "":
                    continue
                addr = expand(raw, c, configmaps)
                if addr is None:
                    problems.append(f"{where}: --{flag}={raw}: a variable that these manifests do not define")
                    continue
                named.append((flag, addr))
            if named and flag_value(args, "tls_cert") and not flag_value(args, "upstream_tls_ca"):
                problems.append(f"{where}: serves TLS (--tls_cert) but calls "
                                f"{', '.join('--' + f for f, _ in named)} without --upstream_tls_ca "
                                "(the services it calls speak TLS too)")
            for flag, addr in named:
                host, _, port_text = addr.rpartition(":")
                svc = services.get(host.split(".")[0])
                if svc is None or not port_text.isdigit():
                    # --follow is checked by check_evaluation; outside hosts are the operator's.
                    if flag != "follow" and svc is None and "." not in host:
                        problems.append(f"{where}: --{flag}={addr} names no Service of these manifests")
                    continue
                sspec = svc.get("spec") or {}
                sport = next((p for p in sspec.get("ports") or [] if str(p.get("port")) == port_text), None)
                if sport is None:
                    problems.append(f"{where}: --{flag}={addr}: Service {host} has no port {port_text}")
                    continue
                targets = [(i, lab, pd) for i, lab, pd, _ in workloads
                           if selects(sspec.get("selector") or {}, lab)]
                if not targets:
                    problems.append(f"{where}: --{flag}={addr}: Service {host} selects no workload")
                for t_ident, t_labels, t_pod in targets:
                    tport = container_port(t_pod, sport.get("targetPort", sport.get("port")))
                    if tport is None:
                        problems.append(f"{where}: --{flag}={addr}: {t_ident} has no port "
                                        f"{sport.get('targetPort')}")
                        continue
                    if not flow_allowed(policies, "Egress", labels, t_labels, tport):
                        problems.append(f"{where}: --{flag}={addr}: no NetworkPolicy egress rule lets "
                                        f"it reach {t_ident} on port {tport}")
                    if not flow_allowed(policies, "Ingress", t_labels, labels, tport):
                        problems.append(f"{where}: --{flag}={addr}: no NetworkPolicy ingress rule lets "
                                        f"{t_ident} admit it on port {tport}")


def check_web(objects, problems):
    """The web console: sign-ins in memory (one replica, or clients pinned
    to a pod), its HTTP port exposed and open to browsers."""
    services = {(o.get("metadata") or {}).get("name"): o for o in objects if o.get("kind") == "Service"}
    policies = [o for o in objects if o.get("kind") == "NetworkPolicy"]
    for ident, labels, pod, obj in workloads_of(objects):
        if (obj.get("metadata") or {}).get("name") != "web":
            continue
        svc = services.get("web")
        affinity = ((svc or {}).get("spec") or {}).get("sessionAffinity") == "ClientIP"
        replicas = (obj.get("spec") or {}).get("replicas", 1)
        if replicas != 1 and not affinity:
            problems.append(f"{ident}: the web console keeps sign-ins in memory: one replica, or "
                            "Service web with sessionAffinity: ClientIP (got replicas "
                            f"{replicas})")
        for c in pod.get("containers") or []:
            listen = flag_value(c.get("args"), "http_listen")
            if listen is None:
                problems.append(f"{ident} container {c.get('name', '?')}: no --http_listen (the "
                                "console would listen on 127.0.0.1 only)")
                continue
            port = int(listen.rpartition(":")[2] or 0)
            named = {p.get("containerPort"): p.get("name") for p in c.get("ports") or []}
            if named.get(port) != "http":
                problems.append(f"{ident}: --http_listen={listen}: port {port} must be a container "
                                "port named http")
            if svc is not None and not any(p.get("targetPort") in ("http", port)
                                           for p in (svc.get("spec") or {}).get("ports") or []):
                problems.append(f"Service/web: no port targets the console's http port {port}")
            if not flow_allowed(policies, "Ingress", labels, None, port):
                problems.append(f"{ident}: no NetworkPolicy admits browsers (any source) on the "
                                f"console's port {port}")


TUNNEL_IMAGE = "halfsky-redis-tunnel"


def is_tunnel(container):
    """The Redis TLS tunnel (components/redis-tls): image halfsky-redis-tunnel."""
    image = str(container.get("image", "")).split("/")[-1]
    return image.split("@")[0].split(":")[0] == TUNNEL_IMAGE


def stunnel_sections(text):
    """stunnel.conf -> {section: {option: value}}; "" holds the global
    options. Later lines win; ';' and '#' start comments."""
    sections = {"": {}}
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in ";#":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1].strip()
            sections.setdefault(current, {})
            continue
        key, sep, value = line.partition("=")
        if sep:
            sections[current][key.strip()] = value.strip()
    return sections


def tunnel_config(pod, container, configmaps):
    """The text of the stunnel.conf a tunnel container runs (its first
    argument, a file in a ConfigMap volume it mounts), or None with the
    reason."""
    args = [str(a) for a in (container.get("command") or [])[1:] + (container.get("args") or [])]
    conf = next((a for a in args if a.endswith(".conf")), None)
    if conf is None:
        return None, "names no .conf file in its args"
    volumes = {v.get("name"): v for v in pod.get("volumes") or []}
    for m in container.get("volumeMounts") or []:
        mount = str(m.get("mountPath", "")).rstrip("/")
        if not conf.startswith(mount + "/"):
            continue
        cm = (volumes.get(m.get("name")) or {}).get("configMap") or {}
        data = (configmaps.get(cm.get("name")) or {}).get("data") or {}
        key = conf[len(mount) + 1:]
        for item in cm.get("items") or []:
            if item.get("path") == key:
                key = item.get("key")
        if key in data:
            return str(data[key]), None
        return None, f"{conf}: no key {key} in ConfigMap {cm.get('name')} of these manifests"
    return None, f"{conf} is in no ConfigMap volume it mounts"


def check_redis_tls(objects, problems):
    """A Redis client behind a TLS tunnel talks to the tunnel on loopback,
    and the tunnel verifies the server (components/redis-tls)."""
    configmaps = {(o.get("metadata") or {}).get("name"): o for o in objects if o.get("kind") == "ConfigMap"}
    for obj in objects:
        _, pod = pod_template(obj)
        if pod is None:
            continue
        ident = f"{obj.get('kind')}/{(obj.get('metadata') or {}).get('name', '?')}"
        every = (pod.get("initContainers") or []) + (pod.get("containers") or [])
        tunnels = [c for c in every if is_tunnel(c)]
        clients = [c for c in pod.get("containers") or [] if not is_tunnel(c)
                   and flag_value(c.get("args"), "redis") is not None]
        tunnel_ports = set()
        for t in tunnels:
            where = f"{ident} container {t.get('name', '?')}"
            if t in (pod.get("initContainers") or []) and t.get("restartPolicy") != "Always":
                problems.append(f"{where}: a tunnel init container must be a native sidecar "
                                "(restartPolicy: Always), or it blocks the pod's start")
            text, why = tunnel_config(pod, t, configmaps)
            if text is None:
                problems.append(f"{where}: the tunnel's stunnel.conf {why}")
                continue
            sections = stunnel_sections(text)
            client_sections = {n: o for n, o in sections.items()
                               if n and o.get("client", sections[""].get("client", "no")) == "yes"}
            if not client_sections:
                problems.append(f"{where}: stunnel.conf has no client section (client = yes)")
            for name, opts in client_sections.items():
                def opt(key):
                    return opts.get(key, sections[""].get(key))
                label = f"{where}: stunnel.conf [{name}]"
                if opt("verifyChain") != "yes":
                    problems.append(f"{label}: verifyChain = yes is required (the tunnel must "
                                    "verify the Redis server's certificate chain)")
                if not (opt("CAfile") or opt("CApath")):
                    problems.append(f"{label}: no CAfile (the CA that signed the Redis server)")
                if not (opt("checkHost") or opt("checkIP")):
                    problems.append(f"{label}: checkHost (or checkIP) is required: a chain alone "
                                    "accepts any server with a certificate from that CA")
                accept = str(opt("accept") or "")
                host, _, port = accept.rpartition(":")
                if host not in ("127.0.0.1", "localhost", "::1", "[::1]"):
                    problems.append(f"{label}: accept = {accept}: the plaintext side must listen "
                                    "on loopback only (127.0.0.1:PORT)")
                tunnel_ports.add(port)
        for c in clients:
            where = f"{ident} container {c.get('name', '?')}"
            tunnelled = any(a == "--redis_tls_tunnel" or a == "--redis_tls_tunnel=true"
                            for a in c.get("args") or [])
            addr = expand(flag_value(c.get("args"), "redis"), c, configmaps)
            if tunnels and not tunnelled:
                problems.append(f"{where}: a pod with a Redis TLS tunnel passes --redis_tls_tunnel "
                                "(its Redis address is the tunnel's loopback end)")
            if not tunnelled or addr is None:
                continue
            if addr.startswith("sentinel://"):
                problems.append(f"{where}: --redis_tls_tunnel with --redis={addr}: a TLS tunnel "
                                "works with one Redis address, not with Sentinel (the sentinels "
                                "name the servers' own addresses, which bypass the tunnel)")
                continue
            host, _, port = addr.rpartition(":")
            if host not in ("127.0.0.1", "localhost", "[::1]"):
                problems.append(f"{where}: --redis_tls_tunnel with --redis={addr}: must be the "
                                "tunnel's loopback end (127.0.0.1:PORT)")
            if not tunnels:
                problems.append(f"{where}: --redis_tls_tunnel but no tunnel container "
                                f"(image {TUNNEL_IMAGE}) in the pod")
            elif port not in tunnel_ports:
                problems.append(f"{where}: --redis={addr}: no tunnel of the pod accepts on port "
                                f"{port}")

EXCHANGE_UPPER_FLAGS = ("upper_submission", "upper_exchange")


def egress_outside_allowed(policies, labels, port):
    """Whether the pod with labels may open a connection to an address
    outside the cluster's pods on port: an egress rule of a policy selecting
    it with no peers, or an ipBlock peer (any CIDR: narrowing it to the
    upper instance's addresses is the operator's). Allowed when no
    default-deny Egress applies."""
    if not default_deny(policies, "Egress"):
        return True
    applying = []
    for np in policies:
        spec = np.get("spec") or {}
        types = spec.get("policyTypes") or (["Ingress"] + (["Egress"] if spec.get("egress") else []))
        if "Egress" in types and match_selector(spec.get("podSelector"), labels):
            applying.append(spec)
    if not applying:
        return True
    for spec in applying:
        for rule in spec.get("egress") or []:
            if not rule_port_matches(rule, port):
                continue
            peers = rule.get("to")
            if not peers or any("ipBlock" in peer for peer in peers):
                return True
    return False


def check_exchange(objects, problems):
    """halfsky-exchange (components/exchange, exchange-upward,
    exchange-tls): one pod whose SQLite log is on a persistent volume; a
    district's upper instance is a resolvable address outside these
    manifests, reachable through the NetworkPolicies, with an area token;
    TLS when the rest of the instance is on TLS."""
    configmaps = {(o.get("metadata") or {}).get("name"): o for o in objects if o.get("kind") == "ConfigMap"}
    services = {(o.get("metadata") or {}).get("name") for o in objects if o.get("kind") == "Service"}
    policies = [o for o in objects if o.get("kind") == "NetworkPolicy"]
    workloads = workloads_of(objects)
    suite_tls = any(flag_value(c.get("args"), "tls_cert")
                    for _, labels, pod, _ in workloads
                    if labels.get("app.kubernetes.io/name") in HALFSKY_SERVICES
                    for c in pod.get("containers") or [])
    for ident, labels, pod, obj in workloads:
        for c in pod.get("containers") or []:
            if not str(c.get("image", "")).split("/")[-1].startswith("halfsky-exchange"):
                continue
            where = f"{ident} container {c.get('name', '?')}"
            args = c.get("args") or []
            spec = obj.get("spec") or {}
            if spec.get("replicas", 1) != 1:
                problems.append(f"{where}: the exchange runs exactly one replica (one SQLite log, "
                                "one reconciler)")
            database = flag_value(args, "database")
            claims = {(t.get("metadata") or {}).get("name") for t in spec.get("volumeClaimTemplates") or []}
            claims |= {v.get("name") for v in pod.get("volumes") or [] if "persistentVolumeClaim" in v}
            persistent = [m.get("mountPath", "").rstrip("/") + "/" for m in c.get("volumeMounts") or []
                          if m.get("name") in claims]
            if not database or not any(database.startswith(p) for p in persistent):
                problems.append(f"{where}: --database={database} must be on a persistent volume "
                                "(the retry schedule and, at a city, the districts' reports)")
            if suite_tls and not flag_value(args, "tls_cert"):
                problems.append(f"{where}: the other services serve TLS but the exchange does not "
                                "(add components/exchange-tls)")
            upper = [(f, flag_value(args, f)) for f in EXCHANGE_UPPER_FLAGS]
            upper = [(f, raw) for f, raw in upper if raw]
            if not upper:
                continue
            if not flag_value(args, "upper_token_file"):
                problems.append(f"{where}: --upper_submission without --upper_token_file (the area token)")
            if flag_value(args, "upper_exchange") and not flag_value(args, "evaluation"):
                problems.append(f"{where}: --upper_exchange without --evaluation sends no report")
            for flag, raw in upper:
                addr = expand(raw, c, configmaps)
                if addr is None:
                    problems.append(f"{where}: --{flag}={raw}: a variable that these manifests do not "
                                    "define (ConfigMap halfsky-exchange-upper)")
                    continue
                host, _, port_text = addr.rpartition(":")
                if not host or not port_text.isdigit():
                    problems.append(f"{where}: --{flag}={addr} is not HOST:PORT")
                    continue
                if host.split(".")[0] in services and host.count(".") <= 2:
                    problems.append(f"{where}: --{flag}={addr} names a Service of this instance, "
                                    "not the upper instance")
                if not egress_outside_allowed(policies, labels, int(port_text)):
                    problems.append(f"{where}: --{flag}={addr}: no NetworkPolicy egress rule lets it "
                                    f"out of the cluster on port {port_text} (exchange-upper-egress)")


def check(objects):
    problems = []
    hpa_targets = set()
    hpas = [o for o in objects if o.get("kind") == "HorizontalPodAutoscaler"]
    for obj in hpas:
        ref = (obj.get("spec") or {}).get("scaleTargetRef") or {}
        hpa_targets.add((ref.get("kind"), ref.get("name")))
    check_evaluation(objects, hpas, problems)
    check_redis(objects, problems)
    check_upstreams(objects, problems)
    check_web(objects, problems)
    check_redis_tls(objects, problems)
    check_exchange(objects, problems)

    for obj in objects:
        kind = obj.get("kind")
        meta = obj.get("metadata") or {}
        name = meta.get("name", "?")
        ident = f"{kind}/{name}"

        if kind == "ServiceAccount" and obj.get("automountServiceAccountToken") is not False:
            problems.append(f"{ident}: automountServiceAccountToken must be false")

        if kind in ("ConfigMap", "Secret"):
            size = sum(len(str(v).encode("utf-8"))
                       for key in ("data", "binaryData", "stringData")
                       for v in (obj.get(key) or {}).values())
            if size > 1000 * 1024:
                problems.append(f"{ident}: {size} bytes of data, over the 1 MiB object limit")

        if kind == "Service":
            selected = ((obj.get("spec") or {}).get("selector") or {}).get("app.kubernetes.io/name")
            if selected in HALFSKY_SERVICES:
                names = {p.get("name") for p in (obj.get("spec") or {}).get("ports") or []}
                if "grpc" not in names:
                    problems.append(f"{ident}: a halfsky Service needs a port named grpc")

        if kind in WORKLOAD_KINDS and name == "submission":
            spec = obj.get("spec") or {}
            _, pod = pod_template(obj)
            stores = []
            for c in (pod or {}).get("containers") or []:
                args = c.get("args") or []
                store = flag_value(args, "store")
                if store is not None and password_in_conninfo(store):
                    problems.append(f"{ident}: --store must not carry the password "
                                    "(use --store_password_file or PGPASSWORD from a Secret)")
                stores.append("postgres" if (store or "").startswith("postgres:") else "sqlite")
            on_postgres = bool(stores) and all(s == "postgres" for s in stores)
            replicas = spec.get("replicas", 1)
            if replicas != 1 and not on_postgres:
                problems.append(f"{ident}: submission on SQLite must run exactly one replica "
                                "(several replicas need --store=postgres:)")
            if on_postgres and spec.get("volumeClaimTemplates"):
                problems.append(f"{ident}: submission on PostgreSQL keeps no volume")

        if kind in WORKLOAD_KINDS and name == "aggregation":
            check_aggregation(ident, obj, hpa_targets, problems)

        tmeta, pod = pod_template(obj)
        if pod is None:
            continue
        if pod.get("automountServiceAccountToken") is not False:
            problems.append(f"{ident}: pod automountServiceAccountToken must be false")
        pod_sc = pod.get("securityContext") or {}
        annotations = tmeta.get("annotations") or {}
        containers = pod.get("containers") or []
        if not containers:
            problems.append(f"{ident}: no containers")
        for is_init, group in ((True, pod.get("initContainers") or []), (False, containers)):
            for c in group:
                where = f"{ident} container {c.get('name', '?')}"
                check_container(where, c, pod_sc, problems, is_init)
                for p in c.get("ports") or []:
                    if p.get("name") == "metrics":
                        if annotations.get("prometheus.io/scrape") != "true":
                            problems.append(f"{where}: metrics port without prometheus.io/scrape: \"true\"")
                        if annotations.get("prometheus.io/port") != str(p.get("containerPort")):
                            problems.append(f"{where}: prometheus.io/port does not name the metrics port")
                args = c.get("args") or []
                grace = flag_value(args, "grace_period")
                if grace is not None:
                    total = (seconds(grace) or 0) + (seconds(flag_value(args, "drain_delay") or "1s") or 0)
                    tgps = pod.get("terminationGracePeriodSeconds", 30)
                    if tgps <= total:
                        problems.append(
                            f"{where}: terminationGracePeriodSeconds {tgps} must exceed "
                            f"--drain_delay + --grace_period ({total:g}s)")
    return problems


def main(argv):
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    objects = []
    for path in argv:
        with open(path, encoding="utf-8") as f:
            objects.extend(d for d in yaml.safe_load_all(f) if d)
    problems = check(objects)
    for p in problems:
        print("POLICY " + p, file=sys.stderr)
    workloads = sum(1 for o in objects if pod_template(o)[1] is not None)
    print(f"k8s_policy_check: {len(objects)} objects, {workloads} workloads, {len(problems)} violations")
    if workloads == 0:
        print("k8s_policy_check: no workload found: nothing was checked", file=sys.stderr)
        return 1
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
