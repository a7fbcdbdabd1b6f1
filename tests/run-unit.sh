#!/usr/bin/env bash
# Runs the unit tests of one build directory (see tests/run-all.sh).
exec "$(dirname "$0")/run-all.sh" "$@"
