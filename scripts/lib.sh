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
)

podium_log() { printf '[podium] %s\n' "$*" >&2; }

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
