#!/usr/bin/env bash
# Rebuilds assets/jsQR.js, the in-browser QR decoder of the camera page (/verify/camera),
# from the npm registry: jsQR 1.4.0 (Apache-2.0), its pre-built UMD bundle `dist/jsQR.js`,
# unchanged. The result is committed, so nobody needs to run this to build or test;
# run it only to check the committed file or to move to another version.
set -euo pipefail
cd "$(dirname "$0")"
version=1.4.0
expected=bc40c8a15196236b2314db0856f72ca0b49980cd5413b8c852a7349f5fee0859
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack "jsqr@$version" --silent >/dev/null && tar -xzf "jsqr-$version.tgz")
cp "$work/package/dist/jsQR.js" jsQR.js
cp "$work/package/LICENSE" LICENSE.jsQR
echo "$expected  jsQR.js" | sha256sum --check --quiet
echo "assets/jsQR.js: jsQR $version, sha256 $expected"
