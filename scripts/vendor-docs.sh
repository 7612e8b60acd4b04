#!/usr/bin/env bash
# Re-vendors the Swagger UI assets that /api/v1/docs and /api/v2/docs serve from the binary (go:embed),
# so that the docs work offline: no page ever loads a script or a stylesheet from a CDN.
#
#   scripts/vendor-docs.sh [VERSION]     (default: the version recorded in the VERSION file)
#
# It fetches the swagger-ui-dist package from the npm registry with npm itself, copies the two files the
# page needs plus the licence, strips the source-map comment (the map is not vendored, and browsers
# would ask for it), and records the version and checksums in VERSION. Commit the result.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=internal/httpapi/docs/assets/swagger-ui
version="${1:-$(sed -n 's/^swagger-ui-dist \([0-9.]*\)$/\1/p' "$dest/VERSION" 2>/dev/null || true)}"
version="${version:-5.35.0}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "swagger-ui-dist@$version" >/dev/null && tar xzf swagger-ui-dist-*.tgz)
mkdir -p "$dest"
sed '/^\/\/# sourceMappingURL=/d' "$tmp/package/swagger-ui-bundle.js" > "$dest/swagger-ui-bundle.js"
sed 's#/\*\# sourceMappingURL=[^*]*\*/##' "$tmp/package/swagger-ui.css" > "$dest/swagger-ui.css"
cp "$tmp/package/LICENSE" "$dest/LICENSE"
cp "$tmp/package/NOTICE" "$dest/NOTICE"
{
  echo "swagger-ui-dist $version"
  echo "source: npm package swagger-ui-dist@$version (files: swagger-ui-bundle.js, swagger-ui.css, LICENSE, NOTICE)"
  echo "re-vendor: make vendor-docs [DOCS_UI_VERSION=x.y.z]"
  (cd "$dest" && sha256sum swagger-ui-bundle.js swagger-ui.css)
} > "$dest/VERSION"
echo "vendored swagger-ui-dist $version into $dest"
