"""The markdown table that tools.bench prints."""
from __future__ import annotations

from typing import Optional

from .floor import TARGET_FLOOR_RATIO
from .policy import PACK_POLICIES
from .scale import TARGET_RESOURCE_RATIO


def pct(entry: Optional[dict]) -> str:
    if not entry:
        return "n/a"
    return f"{100 * entry['agree'] / entry['total']:.1f}% ({entry['agree']}/{entry['total']})"


def render(results: dict) -> str:
    lines = [f"# tools.bench: {results['cores']} cores, python {results['python']}, "
             f"median of {results['runs']} run(s){' (smoke)' if results['smoke'] else ''}", ""]
    if "floor" in results:
        lines += ["## Floor ratio (subprocess wall time s, interpreter start included; CPU s in brackets)", "",
                  "floor = same harness, empty program with the same imports; plain = same harness, a program "
                  "registering the same resources directly with the SDK's typed classes.", "",
                  "| stack | synth | check | floor synth | floor check | plain synth | plain check | "
                  "ours / floor | ours / plain |", "|---|---|---|---|---|---|---|---|---|"]
        for r in results["floor"]:
            cell = lambda k: f"{r[k]:.2f} [{r['cpu_' + k]:.2f}]"  # noqa: E731
            lines.append(f"| {r['stack']} | {cell('synth')} | {cell('check')} | {cell('floor_synth')} | "
                         f"{cell('floor_check')} | {cell('plain_synth')} | {cell('plain_check')} | "
                         f"{r['ratio']:.2f}x [{r['cpu_ratio']:.2f}x] | "
                         f"{r['plain_ratio']:.2f}x [{r['plain_cpu_ratio']:.2f}x] |")
        lines += ["", f"Target: synth + check <= {TARGET_FLOOR_RATIO}x the floor.", ""]
    if "phases" in results:
        stack, phases = results["phases"]["stack"], results["phases"]["seconds"]
        lines += [f"## Phases of one cold check of '{stack}' (in-process, s)", "", "| phase | s |", "|---|---|"]
        lines += [f"| {k} | {v:.3f} |" for k, v in phases.items()]
        lines.append("")
    if "scale" in results:
        lines += ["## Scale: generated stack with N `kubernetes` pools (in-process, warm)", "",
                  "| pools | resources | synth s | plain s | ms/resource ours | ms/resource plain | ratio | "
                  "peak MB ours | peak MB plain | schema s | policy s | max RSS MB |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in results["scale"]:
            lines.append(
                f"| {r['pools']} | {r['resources']} | {r['ours_s']:.3f} | {r['plain_s']:.3f} | "
                f"{1000 * r['ours_s'] / r['resources']:.2f} | {1000 * r['plain_s'] / r['resources']:.2f} | "
                f"{r['ratio']:.2f}x | {r['ours_peak_mb']:.1f} | {r['plain_peak_mb']:.1f} | "
                f"{r.get('schema_s', float('nan')):.2f} | {r.get('policy_s', float('nan')):.2f} | "
                f"{r['maxrss_mb']:.0f} |")
        last = results["scale"][-1]
        lines += ["", f"At {last['pools']} pools: cost per resource {last['ratio']:.2f}x the plain program's "
                      f"(target <= {TARGET_RESOURCE_RATIO}x); manifests identical to ours except "
                      f"{last['manifest_mismatches']}.", ""]
    if "policy" in results:
        p = results["policy"]
        lines += ["## Policy: pack vs Checkov on the Pod Security corpus", ""]
        if "skipped" in p:
            lines += [f"skipped: {p['skipped']}", ""]
        else:
            checkov_s = f"{p['checkov_s']:.2f}" if p["checkov_s"] is not None else "n/a"
            ratio = f"{p['checkov_over_pack']:.2f}x" if p["checkov_over_pack"] is not None else "n/a"
            lines += [f"{p['manifests']} manifests (148 fixtures x {', '.join(p['kinds'])}); {p['checkov']}; "
                      f"Checkov limited to the mapped checks ({', '.join(p['checkov_checks'])}).", "",
                      "| tool | wall s | Checkov / pack |", "|---|---|---|",
                      f"| pack (tools.check, baseline + restricted) | {p['pack_s']:.2f} | |",
                      f"| Checkov (one run over both levels' files) | {checkov_s} | {ratio} |", "",
                      "| family | pack agreement | Checkov agreement |", "|---|---|---|"]
            for family in PACK_POLICIES:
                if family in p["pack_agreement"]:
                    lines.append(f"| {family} | {pct(p['pack_agreement'].get(family))} | "
                                 f"{pct(p['checkov_agreement'].get(family))} |")
            lines.append("")
    if "suite" in results:
        s = results["suite"]
        lines += ["## Test suite (`./scripts/test.sh`'s pytest command, once)", ""]
        if "skipped" in s:
            lines += [f"skipped: {s['skipped']}", ""]
        else:
            counts = ", ".join(f"{n} {what}" for what, n in s["counts"].items())
            lines += [f"{counts}; wall {s['wall_s']:.1f} s with `-n {s['workers']}` (aim: under {s['aim_s']:.0f} s), "
                      f"CPU {s['cpu_s']:.1f} s over every worker and subprocess; the tests' own durations add up "
                      f"to {s['durations_sum_s']:.1f} s.", "", "| file | summed test s |", "|---|---|"]
            lines += [f"| {name} | {seconds:.1f} |" for name, seconds in s["slowest_files"]]
            lines.append("")
    return "\n".join(lines)
