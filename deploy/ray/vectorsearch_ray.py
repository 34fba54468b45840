"""VectorSearch on Ray: shards built as Ray tasks, one shard server per shard as a Ray actor
(restarted by Ray when it dies), and a router that merges their answers.

    ray start --head                                    # or a cluster you already run
    python deploy/ray/vectorsearch_ray.py build --input base.fvecs --shards 10 --dir shards -- --index ivf --nlist 1000
    python deploy/ray/vectorsearch_ray.py up --dir shards --port 8080
    curl -s localhost:8080/v1/search -d '{"vector": [...], "k": 10, "nprobe": 16}'
    python deploy/ray/vectorsearch_ray.py stop

Every task and actor runs the `vectorsearch` executable (--binary, $VECTORSEARCH_BINARY, or the
repository's .build/release/vectorsearch): on a cluster it must be at that path on every node,
and --input and --dir must be on storage every node sees (NFS, a shared volume). Nothing else
about the cluster is assumed: the same commands run on one machine and on many.
"""
import argparse
import ctypes
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request

import ray

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_BINARY = os.path.join(HERE, "..", "..", ".build", "release", "vectorsearch")
NAMESPACE = "vectorsearch"


def binary(path=None):
    path = os.path.abspath(path or os.environ.get("VECTORSEARCH_BINARY") or DEFAULT_BINARY)
    if not os.access(path, os.X_OK):
        sys.exit(f"no vectorsearch executable at {path} (swift build -c release, or --binary)")
    return path


def die_with_parent():
    """In the child, before exec: SIGKILL when the actor's process dies, so a restarted actor
    finds its port free and no orphan server answers for it."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


# ---------------------------------------------------------------------------------------------
# Building


@ray.remote(num_cpus=1)
def run_build(command):
    """One `vectorsearch build` (a shard, or the shared quantizer) on one core; its status line."""
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    lines = [line for line in done.stderr.splitlines() if line.startswith("built ")]
    return {"seconds": time.monotonic() - started, "status": lines[-1] if lines else ""}


def build(args):
    exe = binary(args.binary)
    os.makedirs(args.dir, exist_ok=True)
    extra = args.build_args
    # Every build reads the input; IVF shards first share one trained quantizer.
    common = [exe, "build", "--input", os.path.abspath(args.input)]
    started = time.monotonic()
    quantizer = None
    if "ivf" in extra and "--quantizer" not in extra:
        # One task trains the lists every shard shares, on every core of the largest node.
        cores = max(int(node["Resources"].get("CPU", 1)) for node in ray.nodes() if node["Alive"])
        quantizer = os.path.join(os.path.abspath(args.dir), "quantizer.vsidx")
        print(f"training the shared quantizer on {cores} cores -> {quantizer}", flush=True)
        result = ray.get(run_build.options(num_cpus=cores).remote(
            common + ["--threads", str(cores)] + extra + ["--train-only", "--output", quantizer]))
        print(f"  {result['status']} ({result['seconds']:.1f} s)", flush=True)
    tasks = []
    for shard in range(args.shards):
        output = os.path.join(os.path.abspath(args.dir), f"shard-{shard}.vsidx")
        command = common + ["--threads", "1"] + extra + ["--shard", f"{shard}/{args.shards}", "--output", output]
        if quantizer:
            command += ["--quantizer", quantizer]
        tasks.append(run_build.remote(command))
    pending = list(tasks)
    while pending:
        ready, pending = ray.wait(pending, num_returns=1)
        result = ray.get(ready[0])
        print(f"  [{args.shards - len(pending)}/{args.shards}] {result['status']} ({result['seconds']:.1f} s)", flush=True)
    seconds = time.monotonic() - started
    shards = [os.path.join(os.path.abspath(args.dir), f"shard-{i}.vsidx") for i in range(args.shards)]
    with open(os.path.join(args.dir, "shards.json"), "w") as f:
        json.dump({"shards": shards, "quantizer": quantizer, "build_args": extra, "seconds": seconds}, f, indent=2)
    print(f"built {args.shards} shards in {seconds:.1f} s with {int(ray.cluster_resources().get('CPU', 0))} CPUs "
          f"-> {os.path.join(args.dir, 'shards.json')}", flush=True)


# ---------------------------------------------------------------------------------------------
# Serving


@ray.remote(num_cpus=0, max_restarts=-1, max_task_retries=-1)
class Server:
    """One `vectorsearch serve` process. The actor dies when its server does, and Ray restarts
    it (a new server on the same port)."""

    def __init__(self, arguments, port, host):
        self.process = subprocess.Popen(
            arguments + ["--port", str(port), "--host", host], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, preexec_fn=die_with_parent)
        line = self.process.stdout.readline()
        if "listening on" not in line:
            raise RuntimeError(f"vectorsearch serve did not start: {line}{self.process.stdout.read()[-2000:]}")
        node = ray.util.get_node_ip_address() if host in ("0.0.0.0", "::") else host
        self.url = f"http://{node}:{port}"
        threading.Thread(target=self._watch, daemon=True).start()

    def _watch(self):
        for _ in self.process.stdout:  # drain the server's output
            pass
        self.process.wait()
        os._exit(1)  # the server is gone: so is the actor, and Ray starts it again

    def address(self):
        return self.url


def actor_name(shard):
    return "router" if shard is None else f"shard-{shard}"


def up(args):
    exe = binary(args.binary)
    manifest = json.load(open(os.path.join(args.dir, "shards.json")))
    key = ["--api-key-file", os.path.abspath(args.api_key_file)] if args.api_key_file else []
    servers = []
    for shard, path in enumerate(manifest["shards"]):
        servers.append(Server.options(name=actor_name(shard), namespace=NAMESPACE, lifetime="detached").remote(
            [exe, "serve", "--index", path] + (["--mmap"] if args.mmap else []) + key, args.base_port + shard, args.host))
    urls = ray.get([server.address.remote() for server in servers])
    for shard, url in enumerate(urls):
        print(f"shard {shard}: {url}", flush=True)
    router = Server.options(name=actor_name(None), namespace=NAMESPACE, lifetime="detached").remote(
        [exe, "serve", "--shards", ",".join(urls), "--shard-timeout", str(args.shard_timeout)] + key, args.port, args.host)
    print(f"router: {ray.get(router.address.remote())}", flush=True)


def stop(args):
    names = [actor.get("name") for actor in ray.util.list_named_actors(all_namespaces=True)
             if actor.get("namespace") == NAMESPACE]
    for name in names:
        ray.kill(ray.get_actor(name, namespace=NAMESPACE), no_restart=True)
    print(f"stopped {len(names)} actors: {', '.join(sorted(names))}" if names else "nothing running")


def status(args):
    for entry in sorted(ray.util.list_named_actors(all_namespaces=True), key=lambda a: a.get("name", "")):
        if entry.get("namespace") != NAMESPACE:
            continue
        actor = ray.get_actor(entry["name"], namespace=NAMESPACE)
        try:
            url = ray.get(actor.address.remote(), timeout=5)
            health = urllib.request.urlopen(url + "/v1/health", timeout=2).status
            print(f"{entry['name']}: {url} health {health}")
        except Exception as error:  # a restarting actor, a server not answering
            print(f"{entry['name']}: not answering ({error})")


def kill_shard(args):
    """Kills one shard's actor (and its server), as a crash would; Ray restarts it."""
    ray.kill(ray.get_actor(actor_name(args.shard), namespace=NAMESPACE), no_restart=False)
    print(f"killed shard-{args.shard}; Ray restarts it")


def probe(args):
    """Queries the router without pause for --seconds (rows of an fvecs file in turn) and prints,
    per second, how many answers were full, partial (naming the shards left out) and failed."""
    import struct
    data = open(args.queries, "rb").read()
    d = struct.unpack_from("<i", data, 0)[0]
    rows = [list(struct.unpack_from(f"<{d}f", data, i + 4)) for i in range(0, len(data), 4 + 4 * d)]
    bodies = [json.dumps({"vector": row, "k": args.k, **json.loads(args.settings)}).encode() for row in rows]
    headers = {"Content-Type": "application/json"}
    if args.api_key_file:
        headers["Authorization"] = "Bearer " + open(args.api_key_file).read().strip()
    started = time.monotonic()
    totals = {"full": 0, "partial": 0, "failed": 0}
    second, counts, missing = 0, dict(totals), set()
    n = 0
    while time.monotonic() - started < args.seconds:
        request = urllib.request.Request(args.url + "/v1/search", data=bodies[n % len(bodies)], headers=headers, method="POST")
        n += 1
        try:
            answer = json.load(urllib.request.urlopen(request, timeout=10))
            kind = "partial" if answer.get("partial") else "full"
            missing.update(failure.split(": ")[0] for failure in answer.get("failed_shards", []))
        except Exception:
            kind = "failed"
        counts[kind] += 1
        totals[kind] += 1
        now = int(time.monotonic() - started)
        if now != second:
            print(f"second {second}: full {counts['full']} partial {counts['partial']} failed {counts['failed']}"
                  + (f" (left out: {', '.join(sorted(missing))})" if missing else ""), flush=True)
            second, counts, missing = now, {"full": 0, "partial": 0, "failed": 0}, set()
    print(f"PROBE full={totals['full']} partial={totals['partial']} failed={totals['failed']} seconds={args.seconds}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--address", default=os.environ.get("RAY_ADDRESS"),
                        help="the Ray cluster (default: $RAY_ADDRESS, else the one `ray start` runs here; build alone starts a local one)")
    parser.add_argument("--binary", help="the vectorsearch executable")
    commands = parser.add_subparsers(dest="command", required=True)
    b = commands.add_parser("build", help="build N shards as Ray tasks (arguments after -- go to `vectorsearch build`)")
    b.add_argument("--input", required=True)
    b.add_argument("--shards", type=int, required=True)
    b.add_argument("--dir", required=True, help="where the shards go (shared storage on a cluster)")
    b.add_argument("--cpus", type=int, help="a local cluster's CPUs, i.e. builds at once (default: every core)")
    b.add_argument("build_args", nargs="*", help="e.g. -- --index ivf --nlist 1000")
    u = commands.add_parser("up", help="start one server per shard and the router, as detached Ray actors")
    u.add_argument("--dir", required=True)
    u.add_argument("--host", default="127.0.0.1", help="the address to bind (0.0.0.0 on a cluster)")
    u.add_argument("--port", type=int, default=8080, help="the router's port")
    u.add_argument("--base-port", type=int, default=9100, help="shard i listens on BASE+i")
    u.add_argument("--shard-timeout", type=int, default=2000, help="milliseconds before a shard's answer is left out")
    u.add_argument("--api-key-file")
    u.add_argument("--mmap", action="store_true", help="open the shards memory-mapped")
    commands.add_parser("stop", help="stop the router and every shard server")
    commands.add_parser("status", help="list the servers and their health")
    k = commands.add_parser("kill-shard", help="kill one shard's actor, as a crash would (Ray restarts it)")
    k.add_argument("shard", type=int)
    p = commands.add_parser("probe", help="query the router without pause and count full, partial and failed answers")
    p.add_argument("--url", default="http://127.0.0.1:8080")
    p.add_argument("--queries", required=True, help="query vectors (fvecs)")
    p.add_argument("--seconds", type=float, default=20)
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--settings", default="{}", help='search settings as JSON, e.g. \'{"nprobe": 16}\'')
    p.add_argument("--api-key-file")
    args = parser.parse_args()
    if args.command == "probe":
        return probe(args)
    if args.command == "build" and args.shards < 1:
        parser.error("--shards must be at least 1")
    if args.command == "build" and not args.address:
        # A local Ray instance for this command alone, even when `ray start` runs one here.
        ray.init(address="local", num_cpus=args.cpus, include_dashboard=False, log_to_driver=False)
    else:
        ray.init(address=args.address or "auto", namespace=NAMESPACE, log_to_driver=False)
    {"build": build, "up": up, "stop": stop, "status": status, "kill-shard": kill_shard}[args.command](args)


if __name__ == "__main__":
    main()
