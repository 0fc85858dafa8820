#!/usr/bin/env python3
"""Generates tests/engine/rules/<item>.test.yaml for every item of the rule pack (a developer
tool; CI runs the generated files, not this script).

They are engine tests, not the rule pack's: generated from the very rules they test, they
check that the C++ engine evaluates every rule as this script's reading of the rule language
does, and they change whenever a rule changes. What the rules *should* decide is written by
hand, from the standard's text, in rules/tests/ (the rule pack's tests).

For each item it writes tests that can fail: nothing known gives level 0 with level-1
criteria unknown; ideal evidence plus every attestation gives level 5; and, for every
automated criterion, evidence that falls short makes it fail and missing evidence makes it
unknown. Which evidence is "ideal" or "short" is decided per key below; a small evaluator of
the rule language checks each expectation before it is written, so a generated test states
what the rules mean, and `opsmaturity rules test` checks the C++ engine agrees.

Usage: scripts/dev/gen_rule_tests.py   (from the repository root)
"""
import glob
import os
import re
import sys

import yaml

CATALOG = "docs/evidence-catalog.md"
ALL_SIGNALS = ["application", "autoscaling", "container", "http", "http_traffic", "load_balancer", "logs", "middleware",
               "node", "probe", "tracing"]
ALL_TOPICS = ["anomaly", "capacity", "errors", "latency", "prediction", "probe", "slo",
              "target_down"]


def key_types():
    types = {}
    for line in open(CATALOG, encoding="utf-8"):
        m = re.match(r"\| `([^`]+)` \| (\w+) \|", line)
        if m:
            types[m.group(1)] = m.group(2)
    return types


TYPES = key_types()
# Bool keys whose good value is false.
NEGATIVE_BOOLS = ("archive_failing", "remote_write_plain")


def type_of(key):
    if key in TYPES:
        return TYPES[key]
    if key.startswith("plugin.") or key.startswith("file."):
        return "number" if key.endswith(("_seconds", "s")) else "string"
    raise SystemExit(f"unknown key {key}")


def ideal(key):
    t = type_of(key)
    if t == "list":
        if key.endswith(".signals"):
            return ALL_SIGNALS
        if key.endswith(".alert_topics"):
            return ALL_TOPICS
        if key.endswith(".notification_channels"):
            return ["email", "pagerduty", "webhook"]
        if key.endswith(".alert_severities"):
            return ["critical", "warning"]
        if key.endswith(".panel_types"):
            return ["nodeGraph", "timeseries"]
        if key.endswith(".variables"):
            return ["cluster", "instance"]
        return ["file", "production", "staging"]
    if t == "bool":
        return not key.endswith(NEGATIVE_BOOLS)
    if t == "string":
        return {"cache.role": "master"}.get(key, "ready")
    if "age_seconds" in key:
        return 3600
    if key.endswith(("deploy_failure_ratio", "revert_ratio")):
        return 0.0
    if key.endswith("_ratio"):
        return 1.0
    if key.endswith("monitoring.retention_seconds"):
        return 1296000
    if key.endswith("collection_interval_seconds"):
        return 15
    return 10


def short(key):
    t = type_of(key)
    if t == "list":
        return []
    if t == "bool":
        return key.endswith(NEGATIVE_BOOLS)
    if t == "string":
        return "none"
    if "age_seconds" in key or key.endswith(("monitoring.retention_seconds",
                                              "collection_interval_seconds")):
        return 1000000000
    if key.endswith(("deploy_failure_ratio", "revert_ratio")):
        return 1.0
    return 0


# A small evaluator of the rule language, enough for the shipped pack.
def ev(c, e):
    if "all" in c:
        r = [ev(x, e) for x in c["all"]]
        return "fail" if "fail" in r else "unknown" if "unknown" in r else "pass"
    if "any" in c:
        r = [ev(x, e) for x in c["any"]]
        return "pass" if "pass" in r else "unknown" if "unknown" in r else "fail"
    if "any_known" in c:
        r = [ev(x, e) for x in c["any_known"]]
        return "pass" if "pass" in r else "unknown" if all(x == "unknown" for x in r) else "fail"
    if "not" in c:
        r = ev(c["not"], e)
        return {"pass": "fail", "fail": "pass", "unknown": "unknown"}[r]
    if "exists" in c:
        return "pass" if c["exists"] in e else "fail"
    if "len" in c:
        if c["len"] not in e:
            return "unknown"
        v = len(e[c["len"]])
    else:
        if c["key"] not in e:
            return "unknown"
        v = e[c["key"]]
    for op, want in c.items():
        if op in ("key", "len"):
            continue
        ok = {"eq": lambda: v == want, "ne": lambda: v != want, "lt": lambda: v < want,
              "le": lambda: v <= want, "gt": lambda: v > want, "ge": lambda: v >= want,
              "in": lambda: v in want, "contains": lambda: want in v}[op]()
        return "pass" if ok else "fail"
    raise SystemExit(f"cannot evaluate {c}")


def keys_of(c, out):
    if isinstance(c, dict):
        for k, v in c.items():
            if k in ("key", "len", "exists"):
                out.add(v)
            else:
                keys_of(v, out)
    elif isinstance(c, list):
        for x in c:
            keys_of(x, out)
    return out


def flow(v):
    text = yaml.safe_dump(v, default_flow_style=True, allow_unicode=True, width=10000).strip()
    if text.endswith("\n..."):
        text = text[: -len("\n...")]
    return text


def generate(path):
    item = yaml.safe_load(open(path, encoding="utf-8"))
    name = os.path.basename(path)[: -len(".yaml")]
    crits = []
    for level in range(1, 6):
        lv = item["levels"][level]
        if isinstance(lv, dict):
            continue
        for c in lv:
            crits.append((level, c))
    auto = [(l, c) for l, c in crits if "when" in c and not c.get("attestation")]
    # evidenced or attested: the evidence decides when it shows the requirement
    hybrid = [(l, c) for l, c in crits if "when" in c and c.get("attestation")]
    attest = [c["id"] for _, c in crits if "when" not in c or c.get("attestation")]
    floors = {c["id"]: c["floor_of"] for _, c in crits if "floor_of" in c}
    whens = auto + hybrid
    keys = sorted(set().union(*[keys_of(c["when"], set()) for _, c in whens])) if whens else []
    best = {k: ideal(k) for k in keys}
    for _, c in crits:  # applies_to: the ideal system is one every criterion applies to
        for k in sorted(keys_of(c.get("applies_to", {}), set())):
            best[k] = ideal(k)
    out = [f"# Engine tests of {item['item']}, generated by scripts/dev/gen_rule_tests.py from",
           f"# rules/{name}.yaml; run with: opsmaturity rules test tests/engine/rules/{name}.test.yaml",
           "rules_dir: ../../../rules",
           "evaluation_time: 2026-11-24T12:00:00Z", "tests:"]

    def test(title, evidence, attested, expect):
        out.append(f"  - name: {title}")
        if evidence:
            out.append("    evidence:")
            for k in sorted(evidence):
                out.append(f"      {k}: {flow(evidence[k])}")
        if attested:
            out.append(f"    attested: {flow(attested)}")
        out.append("    expect:")
        for e in expect:
            out.append(f"      - {flow(e)}")

    l1 = [c["id"] for l, c in crits if l == 1]
    test("nothing known is level 0, with level-1 criteria unknown, not failed", {}, [],
         [{"item": item["item"], "level": 0, "progress": 0}] +
         [{"criterion": i, "state": "unknown"} for i in l1])
    for _, c in auto:
        assert ev(c["when"], best) == "pass", (c["id"], "ideal evidence must pass")
    test("ideal evidence and every attestation met is level 5", best, attest,
         [{"item": item["item"], "level": 5, "progress": 5}] +
         [{"criterion": c["id"], "state": "pass"} for _, c in auto])
    for level, c in auto:
        mine = keys_of(c["when"], set())
        worse = dict(best)
        for k in mine:
            worse[k] = short(k)
        if ev(c["when"], worse) == "fail":
            test(f"{c['id']} fails when its evidence falls short", worse, attest,
                 [{"criterion": c["id"], "state": "fail"},
                  {"item": item["item"], "level": level - 1}] if all(
                     ev(x["when"], worse) == "pass" for l, x in auto if l < level)
                 else [{"criterion": c["id"], "state": "fail"}])
        missing = {k: v for k, v in best.items() if k not in mine}
        assert ev(c["when"], missing) == "unknown", c["id"]
        test(f"{c['id']} is unknown without its evidence", missing, attest,
             [{"criterion": c["id"], "state": "unknown"}])
    for level, c in hybrid:
        others = [i for i in attest if i != c["id"]]
        assert ev(c["when"], best) == "pass", (c["id"], "ideal evidence must pass")
        test(f"{c['id']} passes on its evidence without an attestation", best, others,
             [{"criterion": c["id"], "state": "pass"}])
        worse = dict(best)
        for k in keys_of(c["when"], set()):
            worse[k] = short(k)
        assert ev(c["when"], worse) == "fail", c["id"]
        test(f"{c['id']} needs an attestation when its evidence falls short", worse, others,
             [{"criterion": c["id"], "state": "unknown"}])
        test(f"{c['id']} is attested when its evidence falls short", worse, attest,
             [{"criterion": c["id"], "state": "pass"}])
    # Attestations shown collected facts (hints): those facts, however good, do not pass them.
    for _, c in crits:
        if not c.get("hints") or "when" in c or "floor_of" in c:
            continue
        shown = dict(best)
        for k in c["hints"]:
            shown[k] = ideal(k)
        test(f"{c['id']} is not passed by its hints alone ({', '.join(c['hints'])})", shown,
             [i for i in attest if i != c["id"]], [{"criterion": c["id"], "state": "unknown"}])
    for floor, above in floors.items():
        others = [i for i in attest if i != floor]
        test(f"{floor} (a starting point) passes without its attestation once {above} passes",
             best, others, [{"criterion": floor, "state": "pass"}])
        if above in attest:
            test(f"{floor} is unknown without its attestation while {above} is not shown",
                 {k: v for k, v in best.items()
                  if not any(k in keys_of(c.get("when", {}), set())
                             for _, c in crits if c["id"] == above)},
                 [i for i in others if i != above],
                 [{"criterion": floor, "state": "unknown"}])
    hybrid_ids = {c["id"] for _, c in hybrid}
    attested_l1 = [i for i in attest if "/L1/" in i and i not in floors and i not in hybrid_ids]
    if attested_l1:
        test("a level-1 requirement without its attestation keeps the item at level 0", best,
             [i for i in attest if i != attested_l1[0]],
             [{"item": item["item"], "level": 0}, {"criterion": attested_l1[0], "state": "unknown"}])
    return name, "\n".join(out) + "\n"


def main():
    for path in sorted(glob.glob("rules/6.*.yaml")):
        name, text = generate(path)
        with open(f"tests/engine/rules/{name}.test.yaml", "w", encoding="utf-8") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
