#!/bin/sh
# Builds the images the docker tests run, from this machine's own files (no registry is needed):
#   drover-test/busybox:1  Debian's busybox-static as a whole root filesystem
#   drover-test/hello:1    this machine's node, its libraries and examples/hello, plus busybox
#   drover-test/hello:2    the same with MESSAGE=v2 (a second revision to roll out to)
#   drover-test/postgres:N this machine's PostgreSQL N server binaries (Debian's), with an entrypoint
#                          that does what the official postgres image's does for drover (built only
#                          where the binaries are installed)
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

# Copies the shared libraries that programs (or libraries) load into a root, at the paths the
# loader looks for them.
libraries_of() {
  into=$1; shift
  for file in "$@"; do
    for lib in $(ldd "$file" | grep -o '/[^ ]*'); do
      [ -e "$into$lib" ] && continue
      mkdir -p "$into$(dirname "$lib")"
      cp -L "$lib" "$into$lib"
    done
  done
}

# Copies files, and the libraries they load, into a root at the same paths.
with_libraries() {
  into=$1; shift
  for file in "$@"; do
    mkdir -p "$into$(dirname "$file")"
    cp -L "$file" "$into$file"
  done
  libraries_of "$into" "$@"
}

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
  libraries_of "$hello" "$node"
  cp examples/hello/server.js "$hello/app/server.js"
  for version in 1 2; do
    tar -C "$hello" -c . | docker import \
      --change 'CMD ["node", "/app/server.js"]' --change 'WORKDIR /app' \
      --change 'ENV PATH=/usr/local/bin:/bin' --change 'ENV HOST=0.0.0.0' --change "ENV MESSAGE=v$version" --change 'EXPOSE 8080' \
      - "drover-test/hello:$version" >/dev/null
    echo "built drover-test/hello:$version"
  done
fi

pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -n "$pg_bin" ] && [ -x "$pg_bin/postgres" ]; then
  major=$(basename "$(dirname "$pg_bin")")
  if ! have "drover-test/postgres:$major"; then
    pg="$root/postgres"
    busybox_root "$pg"
    echo "postgres:x:999:999:postgres:/var/lib/postgresql:/bin/sh" >> "$pg/etc/passwd"
    echo "postgres:x:999:" >> "$pg/etc/group"
    with_libraries "$pg" "$pg_bin/postgres" "$pg_bin/initdb" "$pg_bin/psql" "$pg_bin/pg_isready" "$pg_bin/pg_ctl"
    # What initdb and the server load: the share folder, the modules (not the LLVM JIT, which is
    # optional and ten times the rest) and the time zones.
    pg_lib="/usr/lib/postgresql/$major/lib"
    with_libraries "$pg" $(ls "$pg_lib"/*.so | grep -v llvmjit)
    mkdir -p "$pg/usr/share/postgresql" "$pg/usr/share" "$pg/var/run/postgresql" "$pg/var/lib/postgresql/data" "$pg/usr/local/bin"
    cp -a "/usr/share/postgresql/$major" "$pg/usr/share/postgresql/"
    cp -a /usr/share/zoneinfo "$pg/usr/share/"
    chown 999:999 "$pg/var/lib/postgresql" "$pg/var/lib/postgresql/data" "$pg/var/run/postgresql"
    chmod 1777 "$pg/var/lib/postgresql/data"
    cat > "$pg/usr/local/bin/docker-entrypoint.sh" <<'ENTRYPOINT'
#!/bin/sh
# What the official postgres image's entrypoint does, as far as drover relies on it: any command
# but `postgres` runs as it is; for `postgres`, as root, own PGDATA and drop to the postgres user;
# on an empty PGDATA, initdb with POSTGRES_PASSWORD for the postgres superuser, password
# authentication from any address, listening on every address.
set -eu
[ "${1:-}" = postgres ] || exec "$@"
if [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  chown -R postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 700 "$PGDATA"
  exec su -p -s /bin/sh postgres -c 'exec "$0" "$@"' "$0" "$@"
fi
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  printf '%s' "$POSTGRES_PASSWORD" > /tmp/pwfile
  initdb -D "$PGDATA" -U postgres --pwfile=/tmp/pwfile -E UTF8 --locale=C --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  rm -f /tmp/pwfile
  echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
  echo "listen_addresses = '*'" >> "$PGDATA/postgresql.conf"
fi
exec "$@"
ENTRYPOINT
    chmod 755 "$pg/usr/local/bin/docker-entrypoint.sh"
    tar -C "$pg" -c . | docker import \
      --change 'ENTRYPOINT ["docker-entrypoint.sh"]' --change 'CMD ["postgres"]' \
      --change "ENV PATH=/usr/local/bin:$pg_bin:/bin" --change 'ENV PGDATA=/var/lib/postgresql/data' --change 'ENV TZ=UTC' --change 'EXPOSE 5432' \
      - "drover-test/postgres:$major" >/dev/null
    echo "built drover-test/postgres:$major"
  fi
fi
