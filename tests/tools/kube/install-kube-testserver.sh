#!/usr/bin/env bash
# Unpack the prebuilt kube-testserver (a real Kubernetes API server: the
# apiextensions-apiserver of Kubernetes 1.36 serving the built-in kinds, see
# start-kube-testserver.sh) into PREFIX/bin and check its sha256; install etcd
# (Debian's etcd-server) when it is missing and we are root. Idempotent.
# Usage: install-kube-testserver.sh SRC_DIR [PREFIX]
#   SRC_DIR holds bin/kube-testserver.gz and bin/kube-testserver.sha256
#   (CI: ../shared/tools/kube). Prints the binary's path.
set -euo pipefail
die() { echo "install-kube-testserver: error: $*" >&2; exit 1; }
SRC="${1:?usage: install-kube-testserver.sh SRC_DIR [PREFIX]}"
PREFIX="${2:-./.tools}"
GZ="$SRC/bin/kube-testserver.gz"
[ -f "$GZ" ] && [ -f "$SRC/bin/kube-testserver.sha256" ] || die "missing $GZ or its .sha256"
want="$(cut -c1-64 "$SRC/bin/kube-testserver.sha256")"
mkdir -p "$PREFIX/bin"
BIN="$(cd "$PREFIX/bin" && pwd)/kube-testserver"
if ! { [ -x "$BIN" ] && [ "$(sha256sum "$BIN" | cut -c1-64)" = "$want" ]; }; then
  gzip -dc "$GZ" >"$BIN.tmp.$$" || { rm -f "$BIN.tmp.$$"; die "cannot unpack $GZ"; }
  got="$(sha256sum "$BIN.tmp.$$" | cut -c1-64)"
  [ "$got" = "$want" ] || { rm -f "$BIN.tmp.$$"; die "sha256 mismatch: got $got, want $want"; }
  chmod 0755 "$BIN.tmp.$$" && mv -f "$BIN.tmp.$$" "$BIN"
fi
if ! command -v etcd >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || die "etcd is missing; apt-get install etcd-server as root"
  echo "install-kube-testserver: installing etcd-server" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=300 etcd-server >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null 2>&1; DEBIAN_FRONTEND=noninteractive apt-get install -y -q etcd-server >/dev/null 2>&1; } \
    || die "apt-get install etcd-server failed"
fi
for t in openssl curl; do command -v $t >/dev/null || die "missing $t"; done
echo "$BIN"
