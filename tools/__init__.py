"""Offline harness and commands: synth, check, diff, bench."""
