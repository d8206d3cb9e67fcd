#!/usr/bin/env bash
# Installs the Debian packages Tactus builds against (FFTW single precision, libsndfile, libsoxr,
# ALSA, pkg-config; Ableton Link's headers and standalone asio for the separate GPL program
# tactus-link); with --test also what the tests drive the daemon with (ALSA's userspace plugins,
# aplay, a JACK server with a dummy backend, QLC+, Chromium and its WebDriver for the web page
# test, Ableton's LinkHut, tmux and iproute2 for the Link test). Skips apt entirely when all are there.
# Run as root or with sudo.
set -euo pipefail
packages=(libfftw3-dev libsndfile1-dev libsoxr-dev libasound2-dev pkg-config ableton-link-dev libasio-dev)
if [ "${1:-}" = "--test" ]; then
    packages+=(libasound2-plugins alsa-utils jackd2 qlcplus chromium chromium-driver ableton-link-utils tmux iproute2
               util-linux)
fi
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
