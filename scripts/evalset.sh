#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# evalset.sh DIR: fetch the photographs listed in
# internal/media/match/testdata/evalset.tsv from Debian packages into DIR and
# verify each file's sha256. The photographs are never committed; only the
# manifest is.
#
# Packages are downloaded with `apt-get download` into a cache
# (GROUNDTRUTH_DEB_CACHE, default ~/.cache/groundtruth/debs) and unpacked with
# `dpkg-deb -x`; both steps are skipped when already done, and files already in
# DIR with the right hash are left alone, so running it twice is cheap.
#
# Then: GROUNDTRUTH_EVALSET=DIR go test ./internal/media/match -run TestEvaluation -v
set -euo pipefail

die() { echo "evalset.sh: $*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: scripts/evalset.sh DIR (the directory to fill with the evaluation photographs)"
dest=$1
root=$(cd "$(dirname "$0")/.." && pwd)
manifest=$root/internal/media/match/testdata/evalset.tsv
cache=${GROUNDTRUTH_DEB_CACHE:-$HOME/.cache/groundtruth/debs}

[ -r "$manifest" ] || die "cannot read the manifest $manifest"
for tool in apt-get dpkg-deb sha256sum; do
	command -v "$tool" >/dev/null || die "$tool not found: this script needs a Debian-based system"
done
mkdir -p "$dest" "$cache" || die "cannot create $dest or $cache"

# deb PACKAGE prints the path of the cached .deb, downloading it if absent.
deb() {
	local pkg=$1 found
	found=$(find "$cache" -maxdepth 1 -name "${pkg}_*.deb" | sort -V | tail -n 1)
	if [ -z "$found" ]; then
		(cd "$cache" && apt-get download "$pkg" >&2) ||
			die "apt-get download $pkg failed: check the apt sources (apt-get update) and the network"
		found=$(find "$cache" -maxdepth 1 -name "${pkg}_*.deb" | sort -V | tail -n 1)
		[ -n "$found" ] || die "apt-get download $pkg left no ${pkg}_*.deb in $cache"
	fi
	echo "$found"
}

# unpacked PACKAGE prints the directory holding the unpacked package.
unpacked() {
	local pkg=$1 file dir
	file=$(deb "$pkg")
	dir=$cache/x/$(basename "$file" .deb)
	if [ ! -e "$dir/.done" ]; then
		rm -rf "$dir"
		mkdir -p "$dir"
		dpkg-deb -x "$file" "$dir" || die "dpkg-deb -x $file failed: delete it and run again"
		touch "$dir/.done"
	fi
	echo "$dir"
}

n=0 bad=0
while IFS=$'\t' read -r name pkg path sum; do
	case $name in '#'* | '') continue ;; esac
	[ -n "$sum" ] || die "malformed manifest line for $name: want name, package, path, sha256"
	out=$dest/$name
	if [ -f "$out" ] && [ "$(sha256sum <"$out" | cut -d' ' -f1)" = "$sum" ]; then
		n=$((n + 1))
		continue
	fi
	dir=$(unpacked "$pkg")
	src=$dir/$path
	if [ ! -f "$src" ]; then
		echo "evalset.sh: $name: $path is not in $(basename "$dir") (package changed?)" >&2
		bad=$((bad + 1))
		continue
	fi
	got=$(sha256sum <"$src" | cut -d' ' -f1)
	if [ "$got" != "$sum" ]; then
		echo "evalset.sh: $name: sha256 $got, manifest says $sum: $(basename "$dir") differs from the version in the manifest header" >&2
		bad=$((bad + 1))
		continue
	fi
	cp "$src" "$out.tmp" && mv "$out.tmp" "$out"
	n=$((n + 1))
done <"$manifest"

[ "$bad" -eq 0 ] || die "$bad file(s) missing or changed; $n ok in $dest"
echo "evalset.sh: $n photographs verified in $dest"
