#!/usr/bin/env bash
# Installs, from Debian, what the Python client (python/) and its test suite need:
#   python3-grpcio, python3-protobuf   the client's two dependencies
#   protobuf-compiler                  protoc, which generates the message modules from proto/
#   python3-crc32c                     optional for the package: its fastest crc32c (a C
#                                      extension, 5.7x the numpy path), which a checked get needs
#   python3-numpy, python3-torch       optional for the package; the tests use them (torch for
#                                      the real-model prefix-reuse test and the adapters)
# grpc_python_plugin (protobuf-compiler-grpc) is not needed: the client calls RPCs by method
# path over a generic channel, as the TypeScript client does, so only messages are generated.
#
# Idempotent and quiet: packages already installed are skipped, and when all are there it does
# nothing and prints one line. `apt-get update` runs only if an install fails for want of it.
# .ci/run calls it (as root) so that CI never skips the Python suite; on a machine where you are
# not root it prints what to install and exits 1. KVC_PYTHON_DEPS=0 skips it.
set -euo pipefail

packages=(python3-grpcio python3-protobuf protobuf-compiler python3-crc32c python3-numpy python3-torch)

if [ "${KVC_PYTHON_DEPS:-1}" = "0" ]; then
  echo "python deps: KVC_PYTHON_DEPS=0, not installing ${packages[*]}"
  exit 0
fi

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "python deps: ${packages[*]} already installed"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "python deps: missing ${missing[*]}; run as root: apt-get install -y ${missing[*]}" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
trap 'rm -f "$log"' EXIT
started=$(date +%s)
if ! apt-get install -y -qq "${missing[@]}" >"$log" 2>&1; then
  # A fresh machine may have no package lists yet.
  if ! { apt-get update -qq && apt-get install -y -qq "${missing[@]}"; } >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    echo "python deps: apt-get could not install ${missing[*]}" >&2
    exit 1
  fi
fi
echo "python deps: installed ${missing[*]} in $(( $(date +%s) - started )) s"
