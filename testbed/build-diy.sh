#!/usr/bin/env bash
# Builds the do-it-yourself rival collector into testbed/bin/otelcol-diy with
# ocb (path from $OCB, default ../bin/ocb). The build is skipped when the
# binary is newer than diy/builder-config.yaml.
set -euo pipefail
cd "$(dirname "$0")"
OCB="${OCB:-../bin/ocb}"
out=bin/otelcol-diy
if [[ -x "$out" && "$out" -nt diy/builder-config.yaml ]]; then
	echo "build-diy: $out is up to date"
	exit 0
fi
if [[ ! -x "$OCB" ]]; then
	echo "build-diy: no ocb at $OCB; run 'make build' at the repository root or set OCB" >&2
	exit 1
fi
mkdir -p bin
"$OCB" --config diy/builder-config.yaml
cp bin/_build-diy/otelcol-diy "$out"
# The generated sources are not gofmt-formatted; keep them out of the tree.
rm -rf bin/_build-diy
echo "build-diy: wrote $out"
