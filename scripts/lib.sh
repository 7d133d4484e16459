# Shared by scripts/run, scripts/test and scripts/bench: install what is
# missing, then configure and build. Source it; it defines functions only.

PODIUM_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PODIUM_BUILD=${PODIUM_BUILD:-$PODIUM_ROOT/build}

# Debian packages the build, the tests and the local cluster need.
PODIUM_PACKAGES=(
  g++ cmake ninja-build pkg-config
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libgoogle-glog-dev libgflags-dev
  libgtest-dev libgmock-dev libbenchmark-dev libsqlite3-dev
  tmux procps
  # tls_test and ./scripts/run --tls make certificates with it.
  openssl
  # tests/blackbox: Debian's Python gRPC (use /usr/bin/python3)
  python3-grpcio python3-grpc-tools python3-protobuf
)

podium_log() { printf '[podium] %s\n' "$*" >&2; }

# podium_alive PID: the process exists and is not a zombie (kill -0 alone
# succeeds on a killed process its parent has not reaped yet).
podium_alive() {
  local state
  state=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "${state:0:1}" != Z ]
}

# podium_capped_log FILE MAX_BYTES: copies stdin to stdout and appends it
# to FILE; once FILE would pass MAX_BYTES it becomes FILE.1 (replacing the
# previous one) and a new FILE starts, so a log never holds more than
# twice MAX_BYTES on disk.
podium_capped_log() {
  local file=$1 max=$2 size=0 line_by_line=()
  [ -f "$file" ] && size=$(stat -c %s "$file")
  # mawk (Debian's awk) reads a pipe in blocks unless told otherwise.
  awk -W version 2>&1 | grep -q mawk && line_by_line=(-W interactive)
  PODIUM_LOG_FILE=$file awk "${line_by_line[@]}" -v file="$file" -v max="$max" -v size="$size" '{
    print; fflush()
    size += length($0) + 1
    if (size > max) {
      close(file)
      # The path reaches sh through the environment, never as code.
      system("mv -f \"$PODIUM_LOG_FILE\" \"$PODIUM_LOG_FILE.1\"")
      size = length($0) + 1
    }
    print >> file; fflush(file)
  }'
}

podium_install_deps() {
  local missing=()
  local pkg
  for pkg in "${PODIUM_PACKAGES[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
      missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || {
      podium_log "need root or sudo to install: ${missing[*]}"
      return 1
    }
    sudo=(sudo)
  fi
  podium_log "installing Debian packages: ${missing[*]}"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      --no-install-recommends "${missing[@]}" >/dev/null
}

# podium_build [ninja target...]: configure once, then build (all by default).
podium_build() {
  if [ ! -f "$PODIUM_BUILD/build.ninja" ]; then
    podium_log "configuring $PODIUM_BUILD"
    cmake -S "$PODIUM_ROOT" -B "$PODIUM_BUILD" -G Ninja \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null || return 1
  fi
  podium_log "building ${*:-everything} (the first build takes a few minutes)"
  ninja -C "$PODIUM_BUILD" --quiet "$@"
}
