"""`make bench`: close-lake against its bounds and its peers, on this machine, in one run.

Every scenario starts the bundled Close simulator (target/release/close-sim) with the data and pacing
it names, runs the release binaries against it, and prints its figures and ratios. The run ends by
writing docs/benchmarks.md with every figure, the machine and the command (issue 11 names the targets).

  build    the release build `make bench` needs, timed (cold on a fresh clone)
  rate     20,000 activities and the other tables behind 100 ms and 300 ms of latency and 20 requests
           a second per endpoint group: wall time against the lower bound, 429s, pages per table
  tap      tap-closeio 1.6.6 and close-lake export the same five tables, no latency, no limit
  convert  >= 500 MB of Close-shaped pages to ZSTD Parquet: close-lake's converter against DuckDB
  memory   peak RSS exporting 200 thousand and 2 million activities
  noop     a scheduled run with nothing new
  cpu      CPU seconds per million records, per table, and a `perf` profile of the largest

Usage: python3 tests/bench/bench.py [--quick] [--only SCENARIO,...]
  --quick  smaller sizes, for trying the script (its docs/benchmarks.md is not to be committed)
  --only   run some scenarios and print their figures; docs/benchmarks.md is written only by a full run
  --report write docs/benchmarks.md again from the last full run's target/bench/bench.json
"""

import json
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RELEASE = os.path.join(ROOT, "target", "release")
SCRATCH = os.path.join(ROOT, "target", "bench")
QUICK = "--quick" in sys.argv
ONLY = sys.argv[sys.argv.index("--only") + 1].split(",") if "--only" in sys.argv else None
# The largest page each table's endpoint serves (docs/close-api.md).
PAGE = {"activities": 100, "leads": 200, "tasks": 100, "opportunities": 100, "event_log": 50,
        "contacts": 200, "custom_objects": 200}
TAP_TABLES = ["activities", "leads", "tasks", "users", "event_log"]
TAP_STREAMS = {"activities": "activities", "leads": "leads", "tasks": "tasks", "users": "users",
               "event_log": "event_log"}


def log(message):
    print(message, flush=True)


class Sim:
    """The simulator as a child process, at the address it prints."""

    def __init__(self, *args):
        self.log = tempfile.NamedTemporaryFile(prefix="sim-", suffix=".log", dir=SCRATCH, delete=False)
        self.proc = subprocess.Popen([os.path.join(RELEASE, "close-sim"), "--port", "0", *map(str, args)],
                                     stdout=self.log, stderr=self.log)
        for _ in range(6000):
            text = open(self.log.name).read()
            match = re.search(r"http://[0-9.:]+/api/v1", text)
            if match:
                self.url = match.group(0)
                return
            if self.proc.poll() is not None:
                sys.exit(f"close-sim exited: {text}")
            time.sleep(0.1)
        sys.exit("close-sim did not start")

    def requests(self):
        with urllib.request.urlopen(self.url.rsplit("/api/v1", 1)[0] + "/_sim/requests") as answer:
            return json.load(answer)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.proc.terminate()
        self.proc.wait()
        os.unlink(self.log.name)


def run_child(command, env=None, stdout_path=None):
    """Runs one child alone; returns (wall s, CPU s, peak RSS KiB, stdout). Output goes through files,
    never pipes, so a child that writes much cannot block while it is waited for; with `stdout_path`
    stdout stays in that file and the text returned is empty."""
    with (open(stdout_path, "w+") if stdout_path else tempfile.TemporaryFile("w+")) as out, \
            tempfile.TemporaryFile("w+") as err:
        start = time.monotonic()
        proc = subprocess.Popen(command, env=env, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - start
        if os.waitstatus_to_exitcode(status) != 0:
            err.seek(0)
            sys.exit(f"{' '.join(command[:3])} failed ({os.waitstatus_to_exitcode(status)}):\n{err.read()[-3000:]}")
        out.seek(0)
        text = "" if stdout_path else out.read()
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, text


def export_env(url, **extra):
    return dict(os.environ, CLOSE_API_KEY="sim-key", CLOSE_API_URL=url, CLOSE_LAKE_LAG="0s",
                CLOSE_LAKE_LOG="warn", **extra)


def export(url, lake, tables=None, prefix=()):
    command = [*prefix, os.path.join(RELEASE, "close-lake"), "export", "--dest", lake, "--start-date", "2020-01-01"]
    if tables:
        command += ["--tables", ",".join(tables)]
    wall, cpu, rss, out = run_child(command, env=export_env(url))
    return {"wall": wall, "cpu": cpu, "rss_kib": rss, "tables": summary(out)}


def summary(text):
    """The run summary as {table: {"rows", "files", "requests", "retries", "seconds"}}."""
    tables = {}
    for line in text.splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 10 and parts[1].isdigit():
            tables[parts[0]] = {"rows": int(parts[1]), "files": int(parts[2]), "requests": int(parts[5]),
                                "retries": int(parts[6]), "seconds": float(parts[8].rstrip("s"))}
    return tables


def total(tables, field):
    return sum(t[field] for t in tables.values())


# --- scenarios ---------------------------------------------------------------------------------


def build():
    """The release build, timed; `--timings` says which crates bound it (cold on a fresh clone)."""
    cold = not os.path.exists(os.path.join(RELEASE, "close-lake-bench"))
    start = time.monotonic()
    subprocess.run(["cargo", "build", "--release", "--workspace", "--bins", "--features", "close-lake/bench",
                    "--timings"], cwd=ROOT, check=True)
    result = {"seconds": round(time.monotonic() - start, 1), "cold": cold, "units": []}
    try:
        html = open(os.path.join(ROOT, "target", "cargo-timings", "cargo-timing.html")).read()
        units = json.loads(re.search(r"const UNIT_DATA = (\[.*?\]);", html, re.S).group(1))
    except (OSError, AttributeError, ValueError):
        return result
    result["crates"] = len(units)
    result["unit_seconds"] = round(sum(u["duration"] for u in units))
    units.sort(key=lambda u: -u["duration"])
    result["units"] = [{"name": f"{u['name']} {u['version']}{' ' + u['target'].strip() if u['target'].strip() else ''}",
                        "seconds": round(u["duration"], 1)} for u in units[:12]]
    return result


def rate_budget(latency_ms, limit=20, activities=20_000):
    n = activities // 10
    with Sim("--activities", activities, "--leads", n, "--tasks", n, "--events", n,
             "--latency-ms", latency_ms, "--rate-limit", limit) as sim:
        lake = tempfile.mkdtemp(prefix="rate-", dir=SCRATCH)
        run = export(sim.url, lake)
        counts = sim.requests()
        shutil.rmtree(lake)
    tables = run["tables"]
    busiest = max(counts, key=counts.get)
    retries = total(tables, "retries")
    bound = (counts[busiest] - retries_of(tables, busiest)) / limit
    pages = {t: {"sent": tables[t]["requests"] - tables[t]["retries"],
                 "needed": -(-tables[t]["rows"] // PAGE[t]) or 1}
             for t in PAGE if t in tables}
    result = {
        "latency_ms": latency_ms, "limit": limit, "activities": activities, "wall_s": round(run["wall"], 2),
        "busiest_group": busiest, "busiest_requests": counts[busiest], "bound_s": round(bound, 2),
        "ratio": round(run["wall"] / bound, 3), "requests": total(tables, "requests"), "retries": retries,
        "throttled_share": round(retries / max(total(tables, "requests"), 1), 4), "pages": pages,
    }
    log(f"rate budget at {latency_ms} ms: {result['wall_s']} s for a bound of {result['bound_s']} s "
        f"({counts[busiest]} {busiest} requests at {limit}/s): {result['ratio']}x the bound; 429s "
        f"{result['throttled_share']:.2%} of {result['requests']} requests")
    for table, p in pages.items():
        log(f"  {table:<15} pages sent {p['sent']:>5}, needed at full pages {p['needed']:>5}")
    return result


def retries_of(tables, group):
    table = {"activity": "activities", "lead": "leads", "task": "tasks", "event": "event_log",
             "opportunity": "opportunities", "search": "contacts"}.get(group)
    return tables.get(table, {}).get("retries", 0)


def bench_venv():
    """The peers, in a venv of their own: the tap pins old libraries the test venv must not get."""
    venv = os.path.join(ROOT, ".bench-venv")
    python = os.path.join(venv, "bin", "python")
    if not os.path.exists(os.path.join(venv, ".installed")):
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        subprocess.run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        "tap-closeio==1.6.6", "duckdb==1.4.4"], check=True)
        open(os.path.join(venv, ".installed"), "w").close()
    return python


TAP_MAIN = """
import sys
import tap_closeio.http
tap_closeio.http.BASE_URL = sys.argv.pop(1)
import tap_closeio
tap_closeio.main()
"""


def against_tap(activities):
    python = bench_venv()
    n = activities // 10
    # No latency and no limit: the simulator's RateLimit header announces a million a second, which
    # close-lake's governor paces by (the tap reads no header).
    with Sim("--activities", activities, "--leads", n, "--tasks", n, "--events", n, "--lenient-params",
             "--rate-limit", 1_000_000) as sim:
        work = tempfile.mkdtemp(prefix="tap-", dir=SCRATCH)
        config = os.path.join(work, "config.json")
        json.dump({"api_key": "sim-key", "start_date": "2020-01-01T00:00:00Z"}, open(config, "w"))
        main = os.path.join(work, "tap_main.py")
        open(main, "w").write(TAP_MAIN)
        out = subprocess.run([python, main, sim.url, "--config", config, "--discover"], check=True,
                             capture_output=True, text=True).stdout
        catalog = json.loads(out)
        catalog["streams"] = [s for s in catalog["streams"] if s["tap_stream_id"] in TAP_STREAMS.values()]
        for stream in catalog["streams"]:
            for entry in stream["metadata"]:
                if entry["breadcrumb"] == []:
                    entry["metadata"]["selected"] = True
        json.dump(catalog, open(os.path.join(work, "catalog.json"), "w"))
        records_file = os.path.join(work, "tap.jsonl")
        tap_wall, tap_cpu, _, _ = run_child([python, main, sim.url, "--config", config, "--catalog",
                                            os.path.join(work, "catalog.json")], stdout_path=records_file)
        tap_records = {}
        with open(records_file) as lines:
            for line in lines:
                if line.startswith('{"type": "RECORD"') or '"type": "RECORD"' in line[:40]:
                    stream = json.loads(line)["stream"]
                    tap_records[stream] = tap_records.get(stream, 0) + 1
        lake = tempfile.mkdtemp(prefix="lake-", dir=work)
        run = export(sim.url, lake, TAP_TABLES)
        shutil.rmtree(work)
    ours = total(run["tables"], "rows")
    theirs = sum(tap_records.values())
    result = {
        "activities": activities,
        "tap": {"records": theirs, "by_stream": tap_records, "wall_s": round(tap_wall, 2), "cpu_s": round(tap_cpu, 2),
                "records_per_s": round(theirs / tap_wall), "cpu_us_per_record": round(tap_cpu / theirs * 1e6, 2)},
        "close_lake": {"records": ours, "wall_s": round(run["wall"], 2), "cpu_s": round(run["cpu"], 2),
                       "records_per_s": round(ours / run["wall"]),
                       "cpu_us_per_record": round(run["cpu"] / ours * 1e6, 2)},
    }
    result["speed_ratio"] = round(result["close_lake"]["records_per_s"] / result["tap"]["records_per_s"], 1)
    result["cpu_ratio"] = round(result["tap"]["cpu_us_per_record"] / result["close_lake"]["cpu_us_per_record"], 1)
    log(f"against tap-closeio 1.6.6: tap {theirs} records in {tap_wall:.1f} s ({tap_cpu:.1f} CPU s); close-lake "
        f"{ours} in {run['wall']:.2f} s ({run['cpu']:.2f} CPU s): {result['speed_ratio']}x records/s, "
        f"{result['cpu_ratio']}x less CPU per record")
    return result


# Lines of prose for email bodies: Close-shaped activities carry long quoted threads.
WORDS = ("proposal pricing renewal quarter onboarding contract seats discount timeline integration "
         "meeting follow-up thanks regards budget approval security review legal signature team").split()


def long_body(rng, size):
    words = []
    length = 0
    while length < size:
        word = rng.choice(WORDS)
        words.append(word)
        length += len(word) + 1
    text = " ".join(words)
    lines = [text[i:i + 76] for i in range(0, len(text), 76)]
    return "\n".join(lines), "<div>" + "<br>".join(lines) + "</div>"


def fetch_all(url, path, limit, params=""):
    records, skip = [], 0
    while True:
        request = urllib.request.Request(f"{url}/{path}?_limit={limit}&_skip={skip}{params}")
        request.add_header("Authorization", "Basic c2ltLWtleTo=")
        with urllib.request.urlopen(request) as answer:
            page = json.load(answer)
        records += page["data"]
        skip += len(page["data"])
        if not page.get("has_more") or not page["data"]:
            return records


def write_pages(records, path, page_size, target_bytes, mutate):
    """Writes pages of `records` (cycled, each copy with a fresh id) until `target_bytes`; returns bytes."""
    written, copy = 0, 0
    with open(path, "w") as pages, open(path + ".ndjson", "w") as flat:
        while written < target_bytes:
            for start in range(0, len(records), page_size):
                page = [mutate(dict(r), copy) for r in records[start:start + page_size]]
                lines = [json.dumps(r, separators=(",", ":")) for r in page]
                pages.write('{"has_more":true,"data":[' + ",".join(lines) + "]}\n")
                flat.write("\n".join(lines) + "\n")
                written += sum(len(line) + 1 for line in lines)
                if written >= target_bytes:
                    break
            copy += 1
    return written


def conversion(target_mb):
    rng = random.Random(7)
    work = tempfile.mkdtemp(prefix="convert-", dir=SCRATCH)
    with Sim("--activities", 20_000, "--leads", 5_000, "--tasks", 10, "--events", 10) as sim:
        activities = fetch_all(sim.url, "activity/", 100)
        leads = fetch_all(sim.url, "lead/", 200)
    bodies = [long_body(rng, rng.randint(2_000, 12_000)) for _ in range(256)]

    def activity(record, copy):
        record["id"] = f"{record['id']}_{copy}"
        if record.get("_type") == "Email":
            # A line of its own opens every body, so no two are equal (a Parquet dictionary cannot help).
            text, html = bodies[rng.randrange(len(bodies))]
            opening = f"Hi {record['id']}, following up on #{rng.randrange(10**9)}\n"
            record["body_text"], record["body_html"] = opening + text, f"<p>{opening}</p>" + html
        return record

    def lead(record, copy):
        record["id"] = f"{record['id']}_{copy}"
        return record

    sizes = {
        "activities": write_pages(activities, os.path.join(work, "activities"), 100, target_mb * 0.8e6, activity),
        "leads": write_pages(leads, os.path.join(work, "leads"), 200, target_mb * 0.2e6, lead),
    }
    duckdb = bench_venv()
    result = {"input_mb": round(sum(sizes.values()) / 1e6), "tables": {}}
    ours_s = theirs_s = 0.0
    for table, size in sizes.items():
        pages = os.path.join(work, table)
        out = os.path.join(work, f"{table}-ours")
        os.makedirs(out)
        wall, cpu, rss, text = run_child([os.path.join(RELEASE, "close-lake-bench"), "convert", table, pages, out, "2"])
        ours = json.loads(text)
        columns = subprocess.run([os.path.join(RELEASE, "close-lake-bench"), "duckdb-columns", table], check=True,
                                 capture_output=True, text=True).stdout.strip()
        target = os.path.join(work, f"{table}-duckdb.parquet")
        script = (
            "import duckdb, json, sys, time\n"
            "db = duckdb.connect()\n"
            "db.execute('SET threads = 2')\n"
            "db.execute('SET enable_progress_bar = false')\n"
            "columns = json.loads(sys.argv[3])\n"
            "struct = '{' + ', '.join(f\"'{k}': '{v}'\" for k, v in columns.items()) + '}'\n"
            "start = time.monotonic()\n"
            "db.execute(f\"COPY (SELECT * FROM read_json('{sys.argv[1]}', format='newline_delimited', "
            "columns={struct}, maximum_object_size=67108864)) TO '{sys.argv[2]}' (FORMAT parquet, COMPRESSION zstd)\")\n"
            "print(json.dumps({'seconds': time.monotonic() - start, "
            "'rows': db.execute(f\"SELECT count(*) FROM '{sys.argv[2]}'\").fetchone()[0]}))\n"
        )
        d_wall, d_cpu, d_rss, d_text = run_child([duckdb, "-c", script, pages + ".ndjson", target, columns])
        theirs = json.loads(d_text)
        if theirs["rows"] != ours["rows"]:
            sys.exit(f"{table}: DuckDB wrote {theirs['rows']} rows, close-lake {ours['rows']}")
        mb = size / 1e6
        result["tables"][table] = {
            "mb": round(mb), "rows": ours["rows"],
            "close_lake": {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "mb_per_s": round(mb / wall, 1),
                           "parquet_mb": round(ours["parquet_bytes"] / 1e6, 1), "rss_mib": round(rss / 1024)},
            "duckdb": {"wall_s": round(d_wall, 2), "cpu_s": round(d_cpu, 2), "mb_per_s": round(mb / d_wall, 1),
                       "parquet_mb": round(os.path.getsize(target) / 1e6, 1), "rss_mib": round(d_rss / 1024)},
        }
        ours_s += wall
        theirs_s += d_wall
        t = result["tables"][table]
        log(f"convert {table}: {t['mb']} MB, {t['rows']} rows; close-lake {t['close_lake']['mb_per_s']} MB/s, "
            f"DuckDB {t['duckdb']['mb_per_s']} MB/s")
    shutil.rmtree(work)
    mb = sum(sizes.values()) / 1e6
    result["close_lake_mb_per_s"] = round(mb / ours_s, 1)
    result["duckdb_mb_per_s"] = round(mb / theirs_s, 1)
    result["ratio"] = round(result["close_lake_mb_per_s"] / result["duckdb_mb_per_s"], 2)
    log(f"convert {result['input_mb']} MB: close-lake {result['close_lake_mb_per_s']} MB/s, DuckDB "
        f"{result['duckdb_mb_per_s']} MB/s: {result['ratio']}x")
    return result


def memory(sizes):
    result = []
    for n in sizes:
        with Sim("--activities", n, "--leads", 10, "--tasks", 10, "--events", 10, "--rate-limit", 1_000_000) as sim:
            lake = tempfile.mkdtemp(prefix="memory-", dir=SCRATCH)
            run = export(sim.url, lake, ["activities"])
            shutil.rmtree(lake)
        rows = run["tables"]["activities"]["rows"]
        result.append({"activities": rows, "wall_s": round(run["wall"], 2), "rss_mib": round(run["rss_kib"] / 1024, 1),
                       "cpu_s": round(run["cpu"], 2)})
        log(f"memory: {rows} activities in {run['wall']:.1f} s, peak RSS {run['rss_kib'] / 1024:.0f} MiB")
    ratio = round(result[-1]["rss_mib"] / result[0]["rss_mib"], 2)
    log(f"memory: peak RSS at {result[-1]['activities']} is {ratio}x the peak at {result[0]['activities']}")
    return {"runs": result, "ratio": ratio}


def noop_and_cpu(activities):
    """A full export of every table, one table at a time (CPU per table), then a run with nothing new."""
    n = activities // 10
    with Sim("--activities", activities, "--leads", n, "--tasks", n, "--events", n, "--rate-limit", 1_000_000) as sim:
        lake = tempfile.mkdtemp(prefix="cpu-", dir=SCRATCH)
        per_table = {}
        for table in ["activities", "leads", "tasks", "event_log", "opportunities", "contacts", "custom_objects"]:
            run = export(sim.url, lake, [table])
            rows = run["tables"][table]["rows"]
            per_table[table] = {"rows": rows, "cpu_s": round(run["cpu"], 2),
                                "cpu_s_per_million": round(run["cpu"] / max(rows, 1) * 1e6, 1)}
            log(f"cpu {table:<15} {rows:>8} rows, {run['cpu']:.2f} CPU s: "
                f"{per_table[table]['cpu_s_per_million']} CPU s per million")
        export(sim.url, lake)
        noop = export(sim.url, lake)
        profile = perf_profile(sim.url, lake)
        shutil.rmtree(lake)
    requests = {t: v["requests"] for t, v in noop["tables"].items()}
    log(f"no-op run: {noop['wall']:.2f} s wall, {sum(requests.values())} requests over {len(requests)} tables "
        f"(most {max(requests.values())})")
    return {"per_table": per_table, "noop": {"wall_s": round(noop["wall"], 3), "requests": requests}, "profile": profile}


def perf_profile(url, lake):
    """Where the CPU of a fresh activities export goes, by `perf` samples (None without perf)."""
    if not shutil.which("perf"):
        return None
    data = os.path.join(SCRATCH, "perf.data")
    fresh = tempfile.mkdtemp(prefix="perf-", dir=SCRATCH)
    command = ["perf", "record", "-F", "999", "-g", "-o", data, "--", os.path.join(RELEASE, "close-lake"), "export",
               "--dest", fresh, "--start-date", "2020-01-01", "--tables", "activities"]
    proc = subprocess.run(command, env=export_env(url), capture_output=True, text=True)
    shutil.rmtree(fresh)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "perf failed"}
    report = subprocess.run(["perf", "report", "-i", data, "--no-children", "--stdio", "--sort", "dso,symbol",
                             "-g", "none", "--percent-limit", "0.7"], capture_output=True, text=True).stdout
    top = []
    for line in report.splitlines():
        match = re.match(r"\s+([\d.]+)%\s+(\S+)\s+\[.\]\s+(.*)", line)
        if match:
            top.append({"percent": float(match.group(1)), "object": match.group(2), "symbol": match.group(3).strip()[:110]})
    stages = {}
    for entry in top:
        stages[stage_of(entry["symbol"], entry["object"])] = round(
            stages.get(stage_of(entry["symbol"], entry["object"]), 0) + entry["percent"], 1)
    return {"top": top[:20], "stages": dict(sorted(stages.items(), key=lambda kv: -kv[1]))}


def stage_of(symbol, obj):
    s = symbol.lower()
    if "zstd" in s:
        return "ZSTD compression"
    if "parquet" in s:
        return "Parquet encoding"
    if "serde_json" in s or "rawvalue" in s or "decode" in s:
        return "JSON parsing"
    if "arrow" in s:
        return "Arrow builders"
    if "hyper" in s or "reqwest" in s or "h2::" in s or "rustls" in s or "tokio" in s:
        return "HTTP and runtime"
    if "mem" in s or "malloc" in s or "free" in s or "alloc" in s:
        return "memory (copy, allocation)"
    if "kernel" in obj or obj.startswith("["):
        return "kernel (network, files)"
    return "other"


# --- report ------------------------------------------------------------------------------------


def machine():
    cpu = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB, {platform.system()} {platform.release()}"


def verdict(ok):
    return "met" if ok else "**not met**"


def write_markdown(r):
    rate = r["rate"]
    tap = r["tap"]
    conv = r["convert"]
    mem = r["memory"]
    cpu = r["cpu"]
    lines = [
        "# Benchmarks",
        "",
        f"Written by `make bench` ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}) on {machine()}.",
        "Every figure below comes from that one run: the targets are issue 11's. Rerun with `make bench`;",
        "`python3 tests/bench/bench.py --quick` tries the script on smaller sizes (its figures are not these).",
        "",
        "| Target | Figure | |",
        "|---|---|---|",
    ]
    for x in rate:
        lines.append(f"| Rate budget at {x['latency_ms']} ms latency, {x['limit']} req/s per group: wall ≤ 1.15× bound "
                     f"| {x['wall_s']} s for a bound of {x['bound_s']} s: **{x['ratio']}×** | {verdict(x['ratio'] <= 1.15)} |")
        lines.append(f"| 429s under 1 % of requests ({x['latency_ms']} ms) | {x['retries']} of {x['requests']} "
                     f"({x['throttled_share']:.2%}) | {verdict(x['throttled_share'] < 0.01)} |")
        extra = sum(max(0, p["sent"] - p["needed"]) for p in x["pages"].values())
        pages = ", ".join(f"{t} {p['sent']}/{p['needed']}" for t, p in x["pages"].items())
        lines.append(f"| No more pages than full pages need ({x['latency_ms']} ms) | {extra} extra ({pages}) "
                     f"| {verdict(extra == 0)} |")
    lines += [
        f"| ≥ 20× tap-closeio's records per second | {tap['close_lake']['records_per_s']:,} against "
        f"{tap['tap']['records_per_s']:,}: **{tap['speed_ratio']}×** | {verdict(tap['speed_ratio'] >= 20)} |",
        f"| ≤ 1/20 of its CPU per record | {tap['close_lake']['cpu_us_per_record']} µs against "
        f"{tap['tap']['cpu_us_per_record']} µs: **{tap['cpu_ratio']}×** less | {verdict(tap['cpu_ratio'] >= 20)} |",
        f"| Conversion ≥ 1.5× DuckDB's MB/s ({conv['input_mb']} MB) | {conv['close_lake_mb_per_s']} against "
        f"{conv['duckdb_mb_per_s']} MB/s: **{conv['ratio']}×** | {verdict(conv['ratio'] >= 1.5)} |",
        f"| Peak RSS at {mem['runs'][-1]['activities']:,} activities ≤ 1.3× the peak at "
        f"{mem['runs'][0]['activities']:,}, < 300 MB | {mem['runs'][-1]['rss_mib']} MiB against "
        f"{mem['runs'][0]['rss_mib']} MiB: **{mem['ratio']}×** "
        f"| {verdict(mem['ratio'] <= 1.3 and mem['runs'][-1]['rss_mib'] * 1.048576 < 300)} |",
        f"| A run with nothing new: < 1 s, a handful of requests per table | {cpu['noop']['wall_s']} s, "
        f"at most {max(cpu['noop']['requests'].values())} requests a table | "
        f"{verdict(cpu['noop']['wall_s'] < 1)} |",
        f"| Set-up: the release build `make bench` times | {r['build']['seconds']} s "
        f"({'cold' if r['build']['cold'] else 'warm'}) | see Set-up below |",
        "",
        "## Rate budget",
        "",
        "The simulator adds the latency to every answer and enforces 20 requests a second per endpoint group",
        "with 429s and `RateLimit` headers, as Close does. The bound is the busiest group's successful pages",
        "divided by its limit: no exporter can finish sooner.",
        "",
        "| Latency | Activities | Wall | Bound (busiest group) | Ratio | Requests | 429s |",
        "|---|---|---|---|---|---|---|",
    ]
    for x in rate:
        lines.append(f"| {x['latency_ms']} ms | {x['activities']:,} | {x['wall_s']} s | {x['bound_s']} s "
                     f"({x['busiest_requests']} `{x['busiest_group']}`) | {x['ratio']}× | {x['requests']} | {x['retries']} |")
    lines += ["", "Pages per table (sent, and needed at the endpoint's largest page):", "",
              "| Table | " + " | ".join(f"{x['latency_ms']} ms" for x in rate) + " |",
              "|---|" + "---|" * len(rate)]
    for table in rate[0]["pages"]:
        lines.append(f"| {table} | " + " | ".join(f"{x['pages'][table]['sent']} / {x['pages'][table]['needed']}"
                                                 for x in rate) + " |")
    lines += [
        "",
        "## Against tap-closeio 1.6.6",
        "",
        f"Both export the five tables the tap has ({', '.join(TAP_TABLES)}) of the same simulated account",
        f"({tap['activities']:,} activities) with no latency and no limit; the tap writes Singer JSON lines to a file,",
        "close-lake writes the Delta lake. CPU is user + system time of the exporter's process (the simulator's",
        "is not counted for either).",
        "",
        "| | Records | Wall | CPU | Records/s | CPU µs/record |",
        "|---|---|---|---|---|---|",
        f"| tap-closeio | {tap['tap']['records']:,} | {tap['tap']['wall_s']} s | {tap['tap']['cpu_s']} s | "
        f"{tap['tap']['records_per_s']:,} | {tap['tap']['cpu_us_per_record']} |",
        f"| close-lake | {tap['close_lake']['records']:,} | {tap['close_lake']['wall_s']} s | {tap['close_lake']['cpu_s']} s | "
        f"{tap['close_lake']['records_per_s']:,} | {tap['close_lake']['cpu_us_per_record']} |",
        "",
        f"Records by stream, tap: {', '.join(f'{k} {v:,}' for k, v in sorted(tap['tap']['by_stream'].items()))}.",
        "",
        "## Conversion",
        "",
        "The same Close-shaped records (activities with 2-12 kB email bodies as text and HTML; leads with",
        "contacts, opportunities and custom fields) as pages of JSON: close-lake's converter",
        "(`close-lake-bench convert`, the export's decoder and Parquet settings, 2 threads) against DuckDB",
        "(`read_json` of the same records as JSON lines with the same column types, then `COPY ... TO` ZSTD",
        "Parquet, `threads = 2`). MB are of the records' JSON.",
        "",
        "| Table | MB | Rows | close-lake MB/s | DuckDB MB/s | close-lake CPU s | DuckDB CPU s | Parquet MB (ours / DuckDB) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for table, t in conv["tables"].items():
        lines.append(f"| {table} | {t['mb']} | {t['rows']:,} | {t['close_lake']['mb_per_s']} | {t['duckdb']['mb_per_s']} | "
                     f"{t['close_lake']['cpu_s']} | {t['duckdb']['cpu_s']} | {t['close_lake']['parquet_mb']} / "
                     f"{t['duckdb']['parquet_mb']} |")
    lines += [
        "",
        "## Memory",
        "",
        "| Activities | Wall | CPU | Peak RSS |",
        "|---|---|---|---|",
    ]
    for m in mem["runs"]:
        lines.append(f"| {m['activities']:,} | {m['wall_s']} s | {m['cpu_s']} s | {m['rss_mib']} MiB |")
    lines += [
        "",
        "## CPU per million records",
        "",
        "Each table exported alone from the simulator (no latency), CPU of the close-lake process:",
        "",
        "| Table | Rows | CPU s | CPU s per million |",
        "|---|---|---|---|",
    ]
    for table, t in cpu["per_table"].items():
        lines.append(f"| {table} | {t['rows']:,} | {t['cpu_s']} | {t['cpu_s_per_million']} |")
    profile = cpu["profile"]
    if profile and "stages" in profile:
        lines += ["", "Where an activities export spends its CPU (`perf record -F 999 -g`, self time of symbols",
                  "above 0.7 %, grouped by stage):", "", "| Stage | % of samples |", "|---|---|"]
        lines += [f"| {k} | {v} |" for k, v in profile["stages"].items()]
        lines += ["", "| % | Object | Symbol |", "|---|---|---|"]
        lines += [f"| {t['percent']} | {t['object']} | `{t['symbol'].strip()}` |" for t in profile["top"]]
    elif profile:
        lines += ["", f"`perf` could not profile here: {profile['error']}"]
    lines += [
        "",
        "## No-op run",
        "",
        f"After a full export of every table, a run with nothing new took {cpu['noop']['wall_s']} s; requests per table:",
        "",
        ", ".join(f"{t} {n}" for t, n in cpu["noop"]["requests"].items()) + ".",
        "",
        *open(os.path.join(ROOT, "tests", "bench", "limits.md")).read().splitlines(),
        "",
        "## Set-up",
        "",
        f"This run's release build: {r['build']['seconds']} s ({'cold, on a fresh clone' if r['build']['cold'] else 'warm'}).",
        "",
    ]
    if r["build"].get("units"):
        lines += [f"`cargo build --timings` of it: {r['build']['crates']} units, {r['build']['unit_seconds']} s of",
                  "compilation summed over both cores; the longest:", "", "| Unit | s |", "|---|---|"]
        lines += [f"| {u['name']} | {u['seconds']} |" for u in r["build"]["units"]]
        lines.append("")
    lines += open(os.path.join(ROOT, "tests", "bench", "setup.md")).read().splitlines()
    open(os.path.join(ROOT, "docs", "benchmarks.md"), "w").write("\n".join(lines) + "\n")


def main():
    if "--report" in sys.argv:
        # Renders docs/benchmarks.md again from the last full run (after tests/bench/setup.md changed).
        write_markdown(json.load(open(os.path.join(SCRATCH, "bench.json"))))
        return
    os.makedirs(SCRATCH, exist_ok=True)
    started = time.monotonic()
    activities = 5_000 if QUICK else 20_000
    scenarios = {
        "build": build,
        "rate": lambda: [rate_budget(100, activities=activities), rate_budget(300, activities=activities)],
        "tap": lambda: against_tap(activities),
        "convert": lambda: conversion(50 if QUICK else 520),
        "memory": lambda: memory([20_000, 200_000] if QUICK else [200_000, 2_000_000]),
        "cpu": lambda: noop_and_cpu(activities * 5),
    }
    results = {}
    for name, scenario in scenarios.items():
        if ONLY is None or name in ONLY or name == "build":
            results[name] = scenario()
    log(f"release build: {results['build']['seconds']} s ({'cold' if results['build']['cold'] else 'warm'})")
    results["seconds"] = round(time.monotonic() - started)
    json.dump(results, open(os.path.join(SCRATCH, "bench.json"), "w"), indent=1)
    if ONLY is None:
        write_markdown(results)
        log(f"docs/benchmarks.md written ({results['seconds']} s in all)"
            + (": --quick figures, not to be committed" if QUICK else ""))


if __name__ == "__main__":
    main()
