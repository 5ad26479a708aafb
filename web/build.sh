#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Copies the front-end libraries that the map and dashboard use from
# web/node_modules (installed by `npm ci`, versions pinned in
# package-lock.json) into internal/web/static/vendor, which the Go build
# embeds. The vendor directory is generated: it is not committed.
set -euo pipefail
cd "$(dirname "$0")"

nm=node_modules
if [[ ! -d $nm/leaflet ]]; then
  echo "web/build.sh: $nm is missing: run 'npm ci' in web/ (or 'make assets')" >&2
  exit 1
fi
out=../internal/web/static/vendor
rm -rf "$out"
mkdir -p "$out"/leaflet/images "$out"/markercluster "$out"/world-atlas "$out"/topojson-client "$out"/chart.js "$out"/licenses

cp $nm/leaflet/dist/leaflet.js $nm/leaflet/dist/leaflet.css "$out"/leaflet/
cp $nm/leaflet/dist/images/*.png "$out"/leaflet/images/
cp $nm/leaflet.markercluster/dist/leaflet.markercluster.js \
   $nm/leaflet.markercluster/dist/MarkerCluster.css "$out"/markercluster/
cp $nm/world-atlas/countries-50m.json "$out"/world-atlas/
cp $nm/topojson-client/dist/topojson-client.min.js "$out"/topojson-client/
cp $nm/chart.js/dist/chart.umd.js "$out"/chart.js/

# The licences travel with the files, since the binary embeds them.
cp $nm/leaflet/LICENSE "$out"/licenses/leaflet.txt
cp $nm/leaflet.markercluster/MIT-LICENCE.txt "$out"/licenses/leaflet.markercluster.txt
cp $nm/world-atlas/LICENSE "$out"/licenses/world-atlas.txt
cp $nm/topojson-client/LICENSE "$out"/licenses/topojson-client.txt
cp $nm/chart.js/LICENSE.md "$out"/licenses/chart.js.txt

# A source-map comment would make browsers with developer tools open ask
# for a .map file that is not shipped.
sed -i -e '/^\/\/# sourceMappingURL=/d' "$out"/leaflet/leaflet.js "$out"/markercluster/leaflet.markercluster.js "$out"/chart.js/chart.umd.js

echo "web/build.sh: copied the front-end libraries into internal/web/static/vendor"
