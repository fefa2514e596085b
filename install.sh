#!/usr/bin/env bash
# Set up charrnn on a fresh Debian/Ubuntu machine: the Debian tools it drives, then the package.
#   bash install.sh          # tools + charrnn
#   bash install.sh --test   # also the test dependencies (pytest, Playwright's Python client)
set -euo pipefail
cd "$(dirname "$0")"

# abcmidi: abc2midi for validity checks; fluidsynth + fluid-soundfont-gm: audio;
# abcm2ps + ghostscript (lilypond for music21 users): sheet music; chromium: the listening-survey page's browser test.
APT_PACKAGES="abcmidi fluidsynth fluid-soundfont-gm lilypond abcm2ps ghostscript"
[ "${1:-}" = "--test" ] && APT_PACKAGES="$APT_PACKAGES chromium"
missing=$(for p in $APT_PACKAGES; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done)
if [ -n "$missing" ]; then
  SUDO=$([ "$(id -u)" = 0 ] && echo "" || echo sudo)
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
fi

EXTRAS=""
[ "${1:-}" = "--test" ] && EXTRAS="[test]"
python3 -m pip install -q -e ".$EXTRAS"
