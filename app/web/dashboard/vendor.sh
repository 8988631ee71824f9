#!/usr/bin/env sh
# Refresh static/vendor/ from the versions pinned in package-lock.json (`make dashboard-vendor`):
# Chart.js for the dashboard, Swagger UI for the API reference (/docs).
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
# the API reference page (/docs): Swagger UI's browser bundle and stylesheet, run by
# static/js/apidocs.js (no inline script: the page's CSP allows none)
ui=node_modules/swagger-ui-dist
mkdir -p "$out/swagger-ui"
sed '/^\/\/# sourceMappingURL=/d' "$ui/swagger-ui-bundle.js" >"$out/swagger-ui/swagger-ui-bundle.js"
sed '/^\/\*# sourceMappingURL=/d' "$ui/swagger-ui.css" >"$out/swagger-ui/swagger-ui.css"
{
  echo "swagger-ui-dist $(node -p 'require("./node_modules/swagger-ui-dist/package.json").version')"
  cat "$ui/LICENSE"
  echo
  cat "$ui/NOTICE" 2>/dev/null || true
  echo
  echo "Bundled in swagger-ui-bundle.js (its own list):"
  cat "$ui/swagger-ui-bundle.js.LICENSE.txt"
} >"$out/swagger-ui/LICENSES.txt"
rm -rf node_modules
echo "vendored into $out:" && ls -l "$out"
