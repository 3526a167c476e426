#!/usr/bin/env bash
# Installs the `clare` command for this user from this checkout:
#
#   deploy/install.sh              # into ~/.local (clare in ~/.local/bin)
#   deploy/install.sh PREFIX       # into PREFIX (clare in PREFIX/bin)
#
# then `clare service install` sets up the systemd --user unit for that install.
#
# What it does: `npm pack` (which builds dist/ through the `prepare` script) and
# `npm install -g --prefix PREFIX` of that tarball, the ordinary npm way: the
# production dependencies, at the versions of package-lock.json, are installed under
# PREFIX/lib/node_modules/clare, and
# better-sqlite3's native module is built for this machine's Node (prebuilt
# download, or from source, ~1–3 minutes). Running it again upgrades in place;
# `systemctl --user restart clare` then runs the new version (agents keep running).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
prefix=${1:-$HOME/.local}
mkdir -p "$prefix"
prefix=$(cd "$prefix" && pwd)

cd "$repo"
if [[ ! -d node_modules ]]; then
  echo "install: npm ci (build tools for dist/)"
  npm ci --no-audit --no-fund
fi

stage=$(mktemp -d)
# package-lock.json travels in the tarball as npm-shrinkwrap.json, so the install gets
# exactly the dependency versions this checkout was tested with (dev ones omitted).
trap 'rm -rf "$stage" "$repo/npm-shrinkwrap.json"' EXIT
cp package-lock.json npm-shrinkwrap.json
echo "install: building and packing"
tarball=$(npm pack --silent --pack-destination "$stage" | tail -n 1)
rm -f npm-shrinkwrap.json
echo "install: npm install -g --prefix $prefix $tarball"
npm install -g --no-audit --no-fund --prefix "$prefix" "$stage/$tarball"

bin="$prefix/bin/clare"
"$bin" --version >/dev/null
echo "install: installed $("$bin" --version) at $bin"
case ":$PATH:" in
  *":$prefix/bin:"*) ;;
  *) echo "install: $prefix/bin is not on PATH; add it, e.g. echo 'export PATH=\"$prefix/bin:\$PATH\"' >> ~/.bashrc" ;;
esac
echo "next: clare init (once per machine), then clare service install"
