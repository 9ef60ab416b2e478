#!/usr/bin/env python3
"""Measures CloudTrail detection on the intrusion fixtures (stdlib only).

Replays every scenario of tests/fixtures/cloudtrail/intrusions/manifest.json and the two benign
accounts (intrusions/background.jsonl, benign.jsonl) through the built logwarden binary, as
CloudTrail (the log stream is a CloudTrail stream name), and prints:

- per scenario, which attack steps are caught: a step is caught when an alert of a rule other
  than the generic ones (cis-cloudwatch-2-unauthorized-api-calls, cloudtrail-access-denied-burst)
  lists one of the step's event ids, and by which rules;
- the alerts that list one of the scenario's benign_event_ids (false alarms inside a scenario);
- alerts per 1,000 records on the two benign accounts, with storm control on as production runs;
- the Stratus Red Team techniques (stratus/*.jsonl) that no specific rule catches.

Steps are measured with storm control off (every alert listed, as a forensic replay) and on (as
production runs); both are printed.

Replay gives each line of a file its line number as the log event id; the script maps line
numbers back to the records' CloudTrail eventID.

Usage:
  scripts/measure_intrusions.py [--binary target/debug/logwarden] [--detectors FILE ...]
                                [--no-builtin] [--trusted-account ID ...] [--json] [--verbose]

Rule files can be measured without rebuilding: `--detectors FILE` adds files to the built-in
set; to measure edited built-in files, pass a copy of the whole detectors/ directory with
`--no-builtin --detectors COPY` (a user file may not reuse the name of a built-in Sigma rule).

The organisation's other accounts are given as trusted accounts, as a deployment would give them
(TRUSTED_ACCOUNTS / --trusted-account): principals of those accounts are not outsiders. The
defaults are the fixture organisation's accounts (its member accounts, not attackers).
"""

import argparse
import collections
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "cloudtrail")
INTRUSIONS = os.path.join(FIXTURES, "intrusions")
STREAM = "123456789012_CloudTrail_us-east-1"
GENERIC = {"cis-cloudwatch-2-unauthorized-api-calls", "cloudtrail-access-denied-burst"}
# The fixture organisation's member accounts (a deployment setting, like TRUSTED_ACCOUNTS).
ORG_ACCOUNTS = ["210987654321", "109876543210"]
# Steps that show credentials of a workload used from somewhere else: telling them apart from
# the workload's own calls needs per-session state (where the key was first used), which Sigma
# rules over single records cannot hold. They are reported, but left out of the target.
OUTSIDE_USE = {
    "lambda-credential-exfiltration.jsonl": {1},
    "ec2-credential-exfiltration-ssrf.jsonl": {1, 3},
    "ecs-task-credential-exfiltration.jsonl": {1},
}


NO_BUILTIN = []


def replay(binary, path, storm, detectors, trusted):
    cmd = [
        binary,
        "replay",
        "--format",
        "json",
        "--storm-control",
        "on" if storm else "off",
        "--log-group",
        "aws-cloudtrail-logs",
        "--log-stream",
        STREAM,
    ]
    cmd += NO_BUILTIN
    for d in detectors:
        cmd += ["--detectors", d]
    for t in trusted:
        cmd += ["--trusted-account", t]
    cmd.append(path)
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode not in (0, 1):
        sys.exit(f"replay failed ({out.returncode}): {' '.join(cmd)}\n{out.stderr}")
    return [json.loads(l) for l in out.stdout.splitlines() if l.strip()]


def line_ids(path):
    """Line number (as replay numbers them, from 1) -> CloudTrail eventID."""
    ids = {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                try:
                    ids[str(n)] = json.loads(line).get("eventID", "")
                except json.JSONDecodeError:
                    pass
    return ids


def alert_events(alert, ids):
    return {ids[e] for e in alert.get("event_ids", []) if e in ids}


def count_lines(path):
    with open(path, encoding="utf-8") as f:
        return sum(1 for l in f if l.strip())


def scenario(binary, name, spec, storm, detectors, trusted):
    path = os.path.join(INTRUSIONS, name)
    ids = line_ids(path)
    alerts = replay(binary, path, storm, detectors, trusted)
    steps = []
    for s in spec.get("steps", []):
        wanted = set(s["event_ids"])
        rules = sorted(
            {
                a["rule_id"]
                for a in alerts
                if a["rule_id"] not in GENERIC and alert_events(a, ids) & wanted
            }
        )
        steps.append(
            {
                "step": s["step"],
                "stage": s["stage"],
                "caught": bool(rules),
                "rules": rules,
                "outside_use": s["step"] in OUTSIDE_USE.get(name, set()),
                "what": s["what"],
            }
        )
    benign = set(spec.get("benign_event_ids", []))
    false_alarms = collections.Counter(
        a["rule_id"] for a in alerts if alert_events(a, ids) & benign
    )
    return {"steps": steps, "benign_alerts": dict(false_alarms), "alerts": len(alerts)}


def noise(binary, path, detectors, trusted):
    alerts = replay(binary, path, True, detectors, trusted)
    records = count_lines(path)
    by_rule = collections.Counter(a["rule_id"] for a in alerts)
    return {
        "records": records,
        "alerts": len(alerts),
        "per_1000": round(len(alerts) * 1000.0 / records, 2),
        "by_rule": dict(by_rule.most_common()),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--binary", default=os.path.join(ROOT, "target", "debug", "logwarden"))
    ap.add_argument("--detectors", action="append", default=[])
    ap.add_argument("--no-builtin", action="store_true", help="only the --detectors files")
    ap.add_argument("--trusted-account", action="append", default=None)
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument("--verbose", action="store_true", help="name the rules and steps")
    args = ap.parse_args()
    trusted = ORG_ACCOUNTS if args.trusted_account is None else args.trusted_account
    if args.no_builtin:
        NO_BUILTIN.append("--no-builtin")

    with open(os.path.join(INTRUSIONS, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    result = {"scenarios": {}, "noise": {}}
    for name, spec in manifest.items():
        if not spec.get("steps"):
            continue
        result["scenarios"][name] = {
            "storm_off": scenario(args.binary, name, spec, False, args.detectors, trusted),
            "storm_on": scenario(args.binary, name, spec, True, args.detectors, trusted),
        }
    for label, path in [
        ("background.jsonl", os.path.join(INTRUSIONS, "background.jsonl")),
        ("benign.jsonl", os.path.join(FIXTURES, "benign.jsonl")),
    ]:
        result["noise"][label] = noise(args.binary, path, args.detectors, trusted)

    stratus_dir = os.path.join(FIXTURES, "stratus")
    missed = []
    files = sorted(f for f in os.listdir(stratus_dir) if f.endswith(".jsonl"))
    for f in files:
        rules = {a["rule_id"] for a in replay(args.binary, os.path.join(stratus_dir, f), True, args.detectors, trusted)}
        if not rules - GENERIC:
            missed.append(f)
    result["stratus"] = {"techniques": len(files), "missed": missed}

    if args.json:
        print(json.dumps(result, indent=1))
        return

    totals = collections.Counter()
    print("steps caught by specific rules (storm control off / on):")
    for name, r in result["scenarios"].items():
        off, on = r["storm_off"], r["storm_on"]
        n = len(off["steps"])
        c_off = sum(s["caught"] for s in off["steps"])
        c_on = sum(s["caught"] for s in on["steps"])
        counted = [s for s in off["steps"] if not s["outside_use"]]
        counted_on = [s for s in on["steps"] if not s["outside_use"]]
        totals["steps"] += n
        totals["caught_off"] += c_off
        totals["caught_on"] += c_on
        totals["target_steps"] += len(counted)
        totals["target_caught_off"] += sum(s["caught"] for s in counted)
        totals["target_caught_on"] += sum(s["caught"] for s in counted_on)
        missed = [s["step"] for s in off["steps"] if not s["caught"]]
        print(
            f"  {name:42} {c_off:2}/{n:<2} / {c_on:2}/{n:<2}"
            f"  missed {missed or '-'}"
            f"  benign alerts {sum(off['benign_alerts'].values())}"
            + (f" {off['benign_alerts']}" if off["benign_alerts"] else "")
        )
        if args.verbose:
            for s in off["steps"]:
                flag = "x" if s["caught"] else " "
                tag = " (outside use)" if s["outside_use"] else ""
                print(f"      [{flag}] {s['step']:2} {s['stage']:20} {', '.join(s['rules']) or '-'}{tag}")
    t = totals
    print(
        f"  all steps: {t['caught_off']}/{t['steps']} / {t['caught_on']}/{t['steps']}; "
        f"without the outside-use steps: {t['target_caught_off']}/{t['target_steps']} "
        f"({100.0 * t['target_caught_off'] / max(t['target_steps'], 1):.0f} %) / "
        f"{t['target_caught_on']}/{t['target_steps']} "
        f"({100.0 * t['target_caught_on'] / max(t['target_steps'], 1):.0f} %)"
    )
    s = result["stratus"]
    print(f"Stratus techniques caught by a specific rule: {s['techniques'] - len(s['missed'])}/{s['techniques']}"
          + (f", missed {s['missed']}" if s["missed"] else ""))
    print("alerts per 1,000 records (storm control on):")
    for label, n in result["noise"].items():
        print(f"  {label:20} {n['alerts']:5} alerts / {n['records']} records = {n['per_1000']:.2f}")
        if args.verbose:
            for rule, c in n["by_rule"].items():
                print(f"      {c:5} {rule}")


if __name__ == "__main__":
    main()
