#!/usr/bin/env python3
"""Summarises benchmarks/rooms' c100 runs: python3 benchmarks/rooms-summary.py OUT "RATES" ROUNDS.

Reads the JSON of either generator (benchmarks/c/roomgen or `shout bench room`). Per server and
rate: the median deliveries/s, the lost and malformed lines of every round, the client's CPU (cores
busy and µs per delivery: near one core, the client is the limit, not the server) and the server's
CPU time per delivery. Then each server's zero-loss throughput, RFC 2544 style: the highest offered
rate at which every round delivered every line intact (nothing lost, malformed, duplicated or
reordered, no member closed) and kept up with it (roomgen only: the senders got at least 99 % of
their lines out at the rate, and the last delivery came within 0.5 s of the last line sent; a
broker that slows its senders down loses nothing but does not keep up), and Shout over ncat, of that and of the deliveries/s at each rate.
"""
import json
import statistics
import sys

out, rates, rounds = sys.argv[1], [int(r) for r in sys.argv[2].split()], int(sys.argv[3])
servers = ("ncat", "shout", "shoutq")


def from_bench(r):
    """`shout bench room --json` names its numbers in snake_case with units; roomgen in camelCase."""
    if "deliveries_per_second" not in r:
        return r
    seconds = r.get("measured_seconds") or 0
    return {**r, "deliveriesPerSecond": r["deliveries_per_second"], "expected": r["deliveries_owed"],
            "clientCpuSeconds": r["client_cpu_seconds"], "clientCores": r["client_cpu_seconds"] / seconds if seconds else 0,
            "serverMicrosecondsPerDelivery": r.get("server_cpu_us_per_delivery")}


def load(server, rate):
    runs = []
    for n in range(1, rounds + 1):
        try:
            with open(f"{out}/c100-{server}-r{rate}-{n}.json") as f:
                runs.append(from_bench(json.load(f)))
        except (OSError, ValueError):
            pass
    return runs


def client_us(r):
    if "clientMicrosecondsPerDelivery" in r:
        return r["clientMicrosecondsPerDelivery"]
    return r["clientCpuSeconds"] * 1e6 / r["delivered"] if r.get("delivered") else 0


def median(runs, key):
    values = [(key(r) if callable(key) else r.get(key)) or 0 for r in runs]
    return statistics.median(values) if values else 0


def kept_up(r):
    if "sentPerSecond" not in r:
        return True  # shout bench room: no such figures
    # drainSeconds is from the last line written to the end of the run, which for a run that lost
    # nothing is its last delivery
    return r["sentPerSecond"] >= 0.99 * r["rate"] * r["senders"] and r["drainSeconds"] <= 0.5


def intact(runs):
    return len(runs) == rounds and all(
        r.get("failure") is None and r["lost"] == 0 and r["duplicated"] == 0 and r["reordered"] == 0
        and r.get("malformed", 0) == 0 and r.get("closedMembers", 0) == 0 and kept_up(r) for r in runs)


def busy(runs):
    """Median share of core 0 and core 1 busy with anything during the runs (roomgen only)."""
    cores = [r["coreBusy"] for r in runs if len(r.get("coreBusy", [])) >= 2]
    if not cores:
        return "-"
    return f"{statistics.median(c[0] for c in cores):.2f},{statistics.median(c[1] for c in cores):.2f}"


def short(n):
    return f"{n / 1e6:.1f}M" if n >= 1e6 else f"{n / 1e3:.0f}k" if n >= 1e4 else str(n)


print(f"{'server':7} {'rate':>6} {'offered/s':>10} {'delivered/s':>12} {'lost (each round)':>24} {'malformed':>18} "
      f"{'client cores':>12} {'client us/d':>11} {'server cores':>12} {'server us/d':>11} {'core0,1 busy':>12} {'p50 ms':>7} {'p99 ms':>7}")
best, intact_rates = {}, {}
for server in servers:
    for rate in rates:
        runs = load(server, rate)
        if not runs:
            continue
        offered = runs[0].get("offeredPerSecond", rate * 10 * 99)
        if intact(runs):
            best[server] = (rate, median(runs, "deliveriesPerSecond"))
            intact_rates.setdefault(server, []).append(rate)
        # "!" marks a round that failed, "~" one that did not keep up with the offered rate
        lost = ",".join(short(r["lost"]) + ("!" if r.get("failure") else "" if kept_up(r) else "~") for r in runs)
        bad = ",".join(short(r.get("malformed", 0)) for r in runs)
        print(f"{server:7} {rate:>6} {offered:>10,.0f} {median(runs, 'deliveriesPerSecond'):>12,.0f} {lost:>24} {bad:>18} "
              f"{median(runs, 'clientCores'):>12.2f} {median(runs, client_us):>11.4f} {median(runs, 'serverCores'):>12.2f} {median(runs, 'serverMicrosecondsPerDelivery'):>11.4f} "
              f"{busy(runs):>12} "
              f"{median(runs, lambda r: r['latency']['p50']) / 1000:>7.1f} {median(runs, lambda r: r['latency']['p99']) / 1000:>7.1f}")
print()
for rate in rates:
    ncat = load("ncat", rate)
    if not ncat or not median(ncat, "deliveriesPerSecond"):
        continue
    parts = []
    for server in servers[1:]:
        runs = load(server, rate)
        if runs:
            cpu = median(ncat, "serverMicrosecondsPerDelivery")
            parts.append(f"{server} {median(runs, 'deliveriesPerSecond') / median(ncat, 'deliveriesPerSecond'):.2f}x deliveries/s"
                         + (f", {median(runs, 'serverMicrosecondsPerDelivery') / cpu:.2f}x CPU per delivery" if cpu else ""))
    print(f"rate {rate}: " + "; ".join(parts) + " (against ncat, medians)")
print()
for server in servers:
    if server in best:
        rate, dps = best[server]
        print(f"{server}: zero-loss throughput {rate} lines/s per sender ({dps:,.0f} deliveries/s); "
              f"intact at {' '.join(map(str, intact_rates[server]))}")
    else:
        print(f"{server}: no rate with every line intact in every round")
if "ncat" in best:
    for server in servers[1:]:
        if server in best:
            print(f"zero-loss throughput {server}/ncat: {best[server][1] / best['ncat'][1]:.2f}x")
