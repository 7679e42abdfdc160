"""Slow clients against ``make serve``: does one user's slider stay responsive?

    python -m benchmarks.slow_clients            # 10 slow connections for 30 s
    python -m benchmarks.slow_clients --quick    # 10 s

Ten connections send a request's headers one byte every 0.5 s (never finishing them,
like a client on a bad link or a slowloris attack) for 30 s, while a probe sends the
lr-slider request (benchmarks/load.py's, rebuilt over HTTP) every 0.2 s, each on its own
connection, whether or not the last one has been answered. Reported: the probe's
latency percentiles and errors against ``make serve`` as configured (gunicorn.conf.py),
and, as the baseline in the same run, the same server with sync workers (what
``make serve`` used before: each slow connection holds a whole worker).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import time

from . import load
from .harness import HOST, Gunicorn

SLOW_CONNECTIONS = 10
BYTE_EVERY_S = 0.5
PROBE_EVERY_S = 0.2
DURATION_S = 30.0
PROBE_TIMEOUT_S = DURATION_S + 10  # a probe stuck behind the slow clients: its whole wait
TARGET_P99_MS = 150.0


async def _trickle(port: int, stop: float, sent: list) -> None:
    """One slow client: a request's headers, a byte at a time, never finished."""
    head = (f"POST {load.UPDATE_PATH} HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
            "Content-Type: application/json\r\nX-Slow: " + "a" * 4000).encode()
    with contextlib.suppress(OSError):
        _, writer = await asyncio.open_connection(HOST, port)
        try:
            for byte in head:
                if time.perf_counter() >= stop:
                    break
                writer.write(bytes([byte]))
                await writer.drain()
                sent[0] += 1
                await asyncio.sleep(BYTE_EVERY_S)
        except OSError:  # the server closed it: a defence, and fine
            sent[1] += 1
        finally:
            writer.close()


async def _probe(url: str, headers: dict, bodies: list[bytes], t0: float, stop: float,
                 records: list, timeout_s: float) -> None:
    import aiohttp

    timeout = aiohttp.ClientTimeout(total=timeout_s)
    async with aiohttp.ClientSession(timeout=timeout,
                                     connector=aiohttp.TCPConnector(force_close=True)) as session:
        async def one(body: bytes) -> None:
            start = time.perf_counter() - t0
            status, error, raw, wire = await load.post_update(session, url, body, headers)
            if error is None and status != 200:
                error = f"HTTP {status}"
            patch = False
            if error is None:
                error, patch = load.check_answer(raw)
            records.append(load.Record(start, time.perf_counter() - t0, status, error is None,
                                  error, wire, len(raw), patch))

        tasks = []
        index = 0
        while time.perf_counter() < stop:
            tasks.append(asyncio.ensure_future(one(bodies[index % len(bodies)])))
            index += 1
            await asyncio.sleep(PROBE_EVERY_S)
        await asyncio.gather(*tasks)


def measure(options: tuple = (), duration: float = DURATION_S,
            connections: int = SLOW_CONNECTIONS, probe_timeout: float = PROBE_TIMEOUT_S) -> dict:
    """The probe's figures with ``connections`` slow clients on a fresh server started
    with gunicorn ``options`` (added to make serve's command line); a probe request not
    answered within ``probe_timeout`` s counts as an error."""
    server = Gunicorn(options=options)
    try:
        server.start()
        captured = load.rebuild_request(server.url)
        bodies = load.drag_bodies(captured, load.drag_positions())
        headers = captured.replay_headers(server.url)
        url = server.url + captured.path
        load.warm_up(server, captured, bodies, headers, concurrency=2, seconds=2.0)

        async def scene():
            t0 = time.perf_counter()
            stop = t0 + duration
            sent = [0, 0]
            records: list[load.Record] = []
            slow = [asyncio.ensure_future(_trickle(server.port, stop, sent))
                    for _ in range(connections)]
            await asyncio.sleep(1.0)  # the slow ones are connected and trickling
            await _probe(url, headers, bodies, t0, stop, records, probe_timeout)
            await asyncio.gather(*slow)
            return records, sent

        records, sent = asyncio.run(scene())
        stats = load.summarize(records)
        return {"options": list(options), "slow_connections": connections,
                "duration_s": duration, "slow_bytes_sent": sent[0],
                "slow_closed_by_server": sent[1], **stats,
                "worker_class": _worker_class(server.log_text())}
    finally:
        server.stop()


def _worker_class(log: str) -> str:
    for line in log.splitlines():
        if "Using worker:" in line:
            return line.rsplit(":", 1)[1].strip()
    return "?"


def run(quick: bool = False, duration: float | None = None) -> dict:
    duration = duration or (10.0 if quick else DURATION_S)
    served = measure((), duration)
    # threads 1: gunicorn turns sync workers with more threads into gthread ones
    baseline = measure(("--worker-class", "sync", "--threads", "1"), duration)
    return {"served": served, "baseline_sync": baseline, "target_p99_ms": TARGET_P99_MS,
            "p99_ratio": round(baseline.get("p99_ms", 0) / max(served.get("p99_ms", 1), 1e-9),
                               1)}


def _line(name: str, stats: dict) -> str:
    return (f"  {name:<26} p50 {stats.get('p50_ms')} / p95 {stats.get('p95_ms')} / p99 "
            f"{stats.get('p99_ms')} / max {stats.get('max_ms')} ms, {stats['ok']} answered, "
            f"{stats['errors']} errors {stats.get('error_kinds') or ''}")


def report(result: dict) -> str:
    served, baseline = result["served"], result["baseline_sync"]
    ok = served.get("p99_ms", float("inf")) <= result["target_p99_ms"] and not served["errors"]
    return "\n".join([
        f"Slow clients: {served['slow_connections']} connections sending headers one byte "
        f"every {BYTE_EVERY_S} s for {served['duration_s']:g} s; a probe sends the lr-slider "
        f"request every {PROBE_EVERY_S} s",
        _line(f"make serve ({served['worker_class']})", served),
        _line(f"baseline ({baseline['worker_class']} workers)", baseline),
        f"  probe p99 {served.get('p99_ms')} ms (target <= {result['target_p99_ms']:g} ms, 0 "
        f"errors: {'PASS' if ok else 'MISS'}); the sync baseline's is "
        f"{result['p99_ratio']}x that",
    ])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--duration", type=float)
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    result = run(args.quick, args.duration)
    print(report(result))
    if args.json:
        with open(args.json, "w") as out:
            json.dump(result, out, indent=1)


if __name__ == "__main__":
    main()
