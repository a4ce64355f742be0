#!/usr/bin/env python3
"""Memory of `serve` under bulk batches of large inline images (issue 7, point 7).

    bench/bulk_memory.py BASE_URL API_KEY SERVE_PID IMAGE [--batches 10] [--items 100]

Sends `--batches` batches, one after the other, of `--items` copies of IMAGE as base64 to
POST /api/v1/generate/bulk, waits for each to finish, and samples the server's
/proc/PID/status meanwhile. The server needs a bulk body limit above the body's size
(ALTFRAME_MAX_BULK_BODY_BYTES), rate limits and credits for the batches. Prints one JSON
object; sizes are MB (10^6 bytes):

    idle_rss_mb              RSS before the first batch
    body_mb                  size of one request body
    peak_first_batch_mb      VmHWM (the kernel's peak RSS) once the first batch has finished
    peak_mb                  VmHWM after the last batch
    batches[]                per batch: seconds and highest RSS sampled while submitting and
                             while processing, and the RSS once the server went quiet after it
    growth_mb                RSS after the last batch minus RSS after the first
Stdlib only.
"""
import argparse
import base64
import http.client
import json
import os
import sys
import tempfile
import threading
import time
import urllib.parse

MB = 1_000_000


def status_kb(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise SystemExit(f"no {field} for pid {pid}")


def mb(kb):
    return round(kb * 1024 / MB, 1)


class Sampler:
    """Highest VmRSS seen since the last `take`, sampled every few milliseconds."""

    def __init__(self, pid, every=0.005):
        self.pid, self.every = pid, every
        self.highest = 0
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stopped.is_set():
            rss = status_kb(self.pid, "VmRSS")
            with self.lock:
                self.highest = max(self.highest, rss)
            time.sleep(self.every)

    def take(self):
        with self.lock:
            highest, self.highest = self.highest, 0
        return highest

    def stop(self):
        self.stopped.set()
        self.thread.join()


def write_body(image_path, items, out):
    encoded = base64.b64encode(open(image_path, "rb").read())
    item = b'{"image_base64":"' + encoded + b'"}'
    out.write(b'{"images":[')
    for i in range(items):
        if i:
            out.write(b",")
        out.write(item)
    # regenerate: every item is the same image, and each must reach the model.
    out.write(b'],"regenerate":true}')
    out.flush()
    return out.tell()


def request(base, method, path, key, body=None, length=None):
    url = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=600, blocksize=1 << 20)
    headers = {"x-api-key": key}
    if body is not None:
        headers["Content-Type"] = "application/json"
        headers["Content-Length"] = str(length)
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    if response.status >= 300:
        raise SystemExit(f"{method} {path}: {response.status} {data[:300]!r}")
    return json.loads(data)


def wait_until_quiet(pid, seconds=2.0):
    """Lets the server finish what follows a batch (projections, settlement) before reading RSS."""
    time.sleep(seconds)
    return status_kb(pid, "VmRSS")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base_url")
    parser.add_argument("api_key")
    parser.add_argument("pid", type=int)
    parser.add_argument("image")
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--items", type=int, default=100)
    parser.add_argument("--timeout", type=float, default=900, help="seconds a batch may take")
    args = parser.parse_args()

    result = {"idle_rss_mb": mb(status_kb(args.pid, "VmRSS")),
              "image_bytes": os.path.getsize(args.image), "items": args.items, "batches": []}
    sampler = Sampler(args.pid)
    with tempfile.TemporaryFile() as body:
        length = write_body(args.image, args.items, body)
        result["body_mb"] = round(length / MB, 1)
        for n in range(args.batches):
            sampler.take()
            body.seek(0)
            started = time.perf_counter()
            accepted = request(args.base_url, "POST", "/api/v1/generate/bulk", args.api_key,
                               body=body, length=length)
            submitted = time.perf_counter()
            peak_submit = sampler.take()
            deadline = submitted + args.timeout
            while True:
                batch = request(args.base_url, "GET", accepted["status_url"], args.api_key)
                if batch["status"] != "processing":
                    break
                if time.perf_counter() > deadline:
                    raise SystemExit(f"batch {accepted['batch_id']} still processing")
                time.sleep(0.2)
            finished = time.perf_counter()
            peak_processing = sampler.take()
            after = wait_until_quiet(args.pid)
            result["batches"].append({
                "status": batch["status"], "completed": batch["completed"], "failed": batch["failed"],
                "submit_s": round(submitted - started, 2), "processing_s": round(finished - submitted, 2),
                "peak_submit_mb": mb(peak_submit), "peak_processing_mb": mb(peak_processing),
                "rss_after_mb": mb(after)})
            if n == 0:
                result["peak_first_batch_mb"] = mb(status_kb(args.pid, "VmHWM"))
            print(f"batch {n + 1}: {json.dumps(result['batches'][-1])}", file=sys.stderr)
    sampler.stop()
    result["peak_mb"] = mb(status_kb(args.pid, "VmHWM"))
    rss = [b["rss_after_mb"] for b in result["batches"]]
    result["growth_mb"] = round(rss[-1] - rss[0], 1) if rss else 0.0
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
