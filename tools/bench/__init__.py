"""python -m tools.bench [--runs N] [--smoke] [--only floor,phases,scale,policy,suite] [--json FILE]: performance table.

Sections (each figure the median of --runs runs; ratios are taken pair by pair within one run):

  floor   wall time of `python -m tools.synth STACK` and `python -m tools.check STACK` (subprocesses,
          interpreter start included) against the floor: the same commands, same harness, on an
          empty Pulumi program that only imports the SDKs (pulumi, pulumi_kubernetes, pulumi_random,
          pulumi_tls, pydantic, yaml) and registers nothing.
  phases  where one check's time goes, in-process: imports, program run, schema validation,
          policy pack start and analysis.
  scale   a generated stack with 1..100 `kubernetes` agent pools, synthesized in-process (one
          subprocess per size): time, peak memory, and cost per registered resource against a plain
          program that registers the very same resources (types, names, inputs, parents, providers,
          dependsOn) directly with the SDK's typed classes: the SDK's own per-resource cost.
  policy  the CrossGuard pack (`python -m tools.check --policy-config policy/config/<level>.json
          FILES...`) and Checkov (pinned, in its own git-ignored venv .bench-venv/, created on demand;
          never a runtime dependency) on the Pod Security corpus (../shared/corpus/psa), bare and
          wrapped in workload kinds: time and agreement with the corpus verdicts per check family.
  suite   the test suite once, as ./scripts/test.sh runs it (pytest on every core): wall and CPU
          time, test counts, and the ten files whose tests take longest (not in a smoke run).

--smoke runs one iteration of everything on small inputs (the test suite runs it); it uses Checkov
only if .bench-venv already has it.
"""
