"""Offline harness and commands: synth, check, diff, bench."""
import gc

# A tool is a short process that imports the Pulumi SDK, pulumi-kubernetes' generated types and the
# config models (hundreds of thousands of objects that live until exit) and renders the program.
# At the default young-generation threshold (700) the collector walks that growing graph over and
# over during start-up, up to a fifth of a tool's CPU time; this threshold wins back about half of
# that. Cycles are still collected, less often.
gc.set_threshold(10_000, 10, 10)
