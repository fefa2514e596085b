#!/usr/bin/env bash
# Set up charrnn on a fresh Debian/Ubuntu machine: the Debian tools it drives, then the package.
#   bash install.sh          # tools + charrnn
#   bash install.sh --test   # also the test dependencies (pytest, Playwright's Python client)
set -euo pipefail
cd "$(dirname "$0")"

# abcmidi: abc2midi for validity checks, midi2abc to read MIDI files into the corpus;
# fluidsynth + fluid-soundfont-gm: audio; abcm2ps + ghostscript (lilypond for music21 users): sheet music;
# chromium: the listening-survey page's browser test.
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
# A Debian system Python refuses global pip installs (PEP 668): use a virtual environment there.
if [ -z "${VIRTUAL_ENV:-}" ] && ls "$(python3 -c 'import sysconfig; print(sysconfig.get_path("stdlib"))')"/EXTERNALLY-MANAGED >/dev/null 2>&1; then
  [ -d .venv ] || python3 -m venv .venv
  . .venv/bin/activate
  echo "install.sh: installed into .venv (system Python is externally managed); run 'source .venv/bin/activate' first"
fi
python3 -m pip install -q -e ".$EXTRAS"
