#!/usr/bin/env sh
# Refresh static/vendor/ from the versions pinned in package-lock.json (`make dashboard-vendor`).
# Only needed when bumping a library: the vendored files are committed, so installing and
# running the service needs no Node.js and no network.
set -eu
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --ignore-scripts
out=static/vendor
mkdir -p "$out"
# the source map is not shipped, so drop the comment that would make devtools ask for it
sed '/^\/\/# sourceMappingURL=/d' node_modules/chart.js/dist/chart.umd.min.js >"$out/chart.umd.min.js"
{
  echo "Chart.js $(node -p 'require("./node_modules/chart.js/package.json").version')"
  cat node_modules/chart.js/LICENSE.md
  echo
  echo "@kurkle/color $(node -p 'require("./node_modules/@kurkle/color/package.json").version') (bundled in chart.umd.min.js)"
  cat node_modules/@kurkle/color/LICENSE.md
} >"$out/LICENSES.txt"
rm -rf node_modules
echo "vendored into $out:" && ls -l "$out"
