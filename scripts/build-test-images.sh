#!/bin/sh
# Builds the images the docker tests run, from this machine's own files (no registry is needed):
#   drover-test/busybox:1  Debian's busybox-static as a whole root filesystem
#   drover-test/hello:1    this machine's node, its libraries and examples/hello, plus busybox
#   drover-test/hello:2    the same with MESSAGE=v2 (a second revision to roll out to)
# Usage: scripts/build-test-images.sh [--force]
set -eu
cd "$(dirname "$0")/.."
force=${1:-}
have() { [ -z "$force" ] && docker image inspect "$1" >/dev/null 2>&1; }

# A static busybox runs in an image with nothing else in it (ldd fails on static programs).
busybox=/bin/busybox
if [ ! -x "$busybox" ] || ldd "$busybox" >/dev/null 2>&1; then
  echo "build-test-images: a static busybox is needed (apt-get install -y busybox-static)" >&2
  exit 1
fi

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

busybox_root() {
  mkdir -p "$1/bin" "$1/tmp" "$1/etc"
  cp "$busybox" "$1/bin/busybox"
  for applet in $("$busybox" --list); do [ -e "$1/bin/$applet" ] || ln -s busybox "$1/bin/$applet"; done
  chmod 1777 "$1/tmp"
  echo "root:x:0:0:root:/root:/bin/sh" > "$1/etc/passwd"
  echo "nobody:x:65534:65534:nobody:/:/bin/sh" >> "$1/etc/passwd"
  echo "root:x:0:" > "$1/etc/group"
}

if ! have drover-test/busybox:1; then
  busybox_root "$root/busybox"
  tar -C "$root/busybox" -c . | docker import --change 'CMD ["sh"]' --change 'ENV PATH=/bin' - drover-test/busybox:1 >/dev/null
  echo "built drover-test/busybox:1"
fi

if ! have drover-test/hello:1 || ! have drover-test/hello:2; then
  hello="$root/hello"
  busybox_root "$hello"
  node=$(command -v node)
  mkdir -p "$hello/usr/local/bin" "$hello/app"
  cp "$node" "$hello/usr/local/bin/node"
  # The node binary's shared libraries, at the paths its loader looks for them.
  for lib in $(ldd "$node" | grep -o '/[^ ]*'); do
    mkdir -p "$hello$(dirname "$lib")"
    cp -L "$lib" "$hello$lib"
  done
  cp examples/hello/server.js "$hello/app/server.js"
  for version in 1 2; do
    tar -C "$hello" -c . | docker import \
      --change 'CMD ["node", "/app/server.js"]' --change 'WORKDIR /app' \
      --change 'ENV PATH=/usr/local/bin:/bin' --change 'ENV HOST=0.0.0.0' --change "ENV MESSAGE=v$version" --change 'EXPOSE 8080' \
      - "drover-test/hello:$version" >/dev/null
    echo "built drover-test/hello:$version"
  done
fi
