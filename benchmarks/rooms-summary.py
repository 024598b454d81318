#!/usr/bin/env python3
"""Summarises benchmarks/rooms' c100 runs: python3 benchmarks/rooms-summary.py OUT "RATES" ROUNDS.

Per server and rate: the median deliveries/s, the lost lines of every round, malformed lines
(bytes of two senders interleaved mid-line), the client's CPU as cores busy (near the machine's
cores, the client is the limit, not the server) and the server's CPU time per delivery. Then, per
rate, Shout over ncat at the same offered load, and each server's highest rate at which every
round delivered every line intact.
"""
import json
import statistics
import sys

out, rates, rounds = sys.argv[1], [int(r) for r in sys.argv[2].split()], int(sys.argv[3])
servers = ("ncat", "shout", "shoutq")


def load(server, rate):
    runs = []
    for n in range(1, rounds + 1):
        try:
            with open(f"{out}/c100-{server}-r{rate}-{n}.json") as f:
                runs.append(json.load(f))
        except (OSError, ValueError):
            pass
    return runs


def median(runs, key):
    return statistics.median((r.get(key) or 0) for r in runs)


def intact(runs):
    return len(runs) == rounds and all(
        r["lost"] == 0 and r["duplicated"] == 0 and r["reordered"] == 0 and r.get("malformed", 0) == 0 for r in runs)


print(f"{'server':8} {'rate':>6} {'deliveries/s':>13} {'lost (each round)':>30} {'malformed':>10} {'client cores':>13} {'server us/deliv':>16}")
best = {}
for server in servers:
    for rate in rates:
        runs = load(server, rate)
        if not runs:
            continue
        if intact(runs):
            best[server] = (rate, median(runs, "deliveriesPerSecond"))
        print(f"{server:8} {rate:>6} {median(runs, 'deliveriesPerSecond'):>13,.0f} {str([r['lost'] for r in runs]):>30} "
              f"{median(runs, 'malformed'):>10,.0f} {median(runs, 'clientCores'):>13.2f} {median(runs, 'serverMicrosecondsPerDelivery'):>16.3f}")
print()
for rate in rates:
    ncat = load("ncat", rate)
    if not ncat:
        continue
    parts = []
    for server in servers[1:]:
        runs = load(server, rate)
        if runs:
            parts.append(f"{server} {median(runs, 'deliveriesPerSecond') / median(ncat, 'deliveriesPerSecond'):.2f}x deliveries/s, "
                         f"{median(runs, 'serverMicrosecondsPerDelivery') / median(ncat, 'serverMicrosecondsPerDelivery'):.2f}x CPU per delivery")
    print(f"rate {rate}: " + "; ".join(parts) + " (against ncat, medians)")
print()
for server in servers:
    if server in best:
        rate, dps = best[server]
        print(f"{server}: highest rate with every line intact in every round: {rate} lines/s per sender ({dps:,.0f} deliveries/s)")
    else:
        print(f"{server}: no rate with every line intact in every round")
