#!/usr/bin/env bash
# Installs Tactus as a service: builds the release binary, installs it to $PREFIX/bin (default
# /usr/local), the config to /etc/tactus/tactus.toml (kept if present), the systemd units, and a
# system user `tactus` in group `audio` (and the sudo user in group `tactus`, for the socket).
# Run as root. Then: systemctl enable --now tactus
# With --link, also the Ableton Link bridge tactus-link (GPL-2.0-or-later, link/README.md) and its unit.
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=${PREFIX:-/usr/local}
destdir=${DESTDIR:-}
tools/install-deps.sh
# The Swift runtime linked in statically: the service needs no toolchain at run time, and only
# the pages of the runtime it touches stay resident (18.5 MiB RSS instead of 22 MiB; bench/RESULTS.md).
swift build -c release --product tactus --static-swift-stdlib --scratch-path .build-install
install -D -m 0755 .build-install/release/tactus "$destdir$prefix/bin/tactus"
install -d -m 0755 "$destdir/etc/tactus"
if [ ! -e "$destdir/etc/tactus/tactus.toml" ]; then
    install -m 0644 config/tactus.toml "$destdir/etc/tactus/tactus.toml"
fi
install -D -m 0644 systemd/tactus.service "$destdir/etc/systemd/system/tactus.service"
install -D -m 0644 systemd/tactus@.service "$destdir/etc/systemd/system/tactus@.service"
sed -i "s|/usr/local/bin/tactus|$prefix/bin/tactus|" "$destdir/etc/systemd/system/tactus.service" \
    "$destdir/etc/systemd/system/tactus@.service"
install -D -m 0644 README.md "$destdir$prefix/share/doc/tactus/README.md"
if [ "${1:-}" = "--link" ]; then
    swift build -c release --product tactus-link --static-swift-stdlib --scratch-path .build-install
    install -D -m 0755 .build-install/release/tactus-link "$destdir$prefix/bin/tactus-link"
    install -D -m 0644 systemd/tactus-link.service "$destdir/etc/systemd/system/tactus-link.service"
    sed -i "s|/usr/local/bin/tactus-link|$prefix/bin/tactus-link|" "$destdir/etc/systemd/system/tactus-link.service"
    install -D -m 0644 link/README.md "$destdir$prefix/share/doc/tactus/link/README.md"
    install -D -m 0644 link/LICENSE "$destdir$prefix/share/doc/tactus/link/LICENSE"
fi
if [ -z "$destdir" ]; then
    getent group audio >/dev/null || groupadd --system audio
    getent group tactus >/dev/null || groupadd --system tactus
    id tactus >/dev/null 2>&1 || useradd --system --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin --gid tactus --groups audio tactus
    # The JSON-line socket is 0660, group tactus (output.jsonl_socket_mode): the person who
    # installs may read it with `tactus monitor` (after logging in again).
    if [ -n "${SUDO_USER:-}" ] && [ "$SUDO_USER" != root ]; then
        usermod -a -G tactus "$SUDO_USER" \
            && echo "added $SUDO_USER to group tactus (log in again to use tactus monitor)" >&2
    fi
    command -v systemctl >/dev/null && systemctl daemon-reload 2>/dev/null || true
fi
echo "installed: $prefix/bin/tactus, /etc/tactus/tactus.toml, systemd units;" \
    "start with: systemctl enable --now tactus" >&2
