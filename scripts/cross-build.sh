#!/usr/bin/env bash
# Cross-builds wufault and wufault-agent for linux, windows and darwin on
# amd64 and arm64 (static, CGO_ENABLED=0, -trimpath), into dist/ (ignored by
# git), with dist/SHA256SUMS. The binaries carry the module version and the
# VCS revision (wufault --version) when built from a git clone.
#
#   scripts/cross-build.sh            # all targets
#   OUT=/tmp/rel scripts/cross-build.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-dist}
rm -rf "$out"
mkdir -p "$out"
for os in linux windows darwin; do
  for arch in amd64 arm64; do
    ext=""
    [ "$os" = windows ] && ext=".exe"
    for cmd in wufault wufault-agent; do
      bin="$out/${cmd}_${os}_${arch}${ext}"
      GOOS=$os GOARCH=$arch CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o "$bin" "./cmd/$cmd"
      echo "built $bin ($(wc -c <"$bin") bytes)"
    done
  done
done
(cd "$out" && sha256sum -- * >SHA256SUMS)
echo "checksums in $out/SHA256SUMS"
