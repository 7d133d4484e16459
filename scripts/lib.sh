# Shared by scripts/run, scripts/test and scripts/bench: install what is
# missing, then configure and build. Source it; it defines functions (and
# the ccache settings every build shares).

PODIUM_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PODIUM_BUILD=${PODIUM_BUILD:-$PODIUM_ROOT/build}

# Debian packages the build, the tests and the local cluster need.
PODIUM_PACKAGES=(
  g++ cmake ninja-build pkg-config
  # Every build goes through it (podium_cmake_launcher, below).
  ccache
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libssl-dev
  libabsl-dev libgoogle-glog-dev libgflags-dev
  libgtest-dev libgmock-dev libbenchmark-dev libsqlite3-dev
  # Beast and Asio (header-only): the frontends' HTTP plane.
  libboost-dev
  # The load balancer in front of the frontends' HTTP ports (./scripts/run),
  # and curl, which waits for it and checks it (tests/run_script_test.sh).
  haproxy curl
  tmux procps
  # tls_test and ./scripts/run --tls make certificates with it.
  openssl
  # scripts/test --sanitize=... and scripts/fuzz: clang, its sanitizer and
  # libFuzzer runtimes, and llvm-symbolizer for reports with file:line.
  clang libclang-rt-14-dev llvm-14
  # The replicated store (./scripts/run --replicated, the etcd store tests),
  # and ip for the network namespaces of tests/hosts_test.sh.
  etcd-server etcd-client iproute2
  # tests/blackbox: Debian's Python gRPC (use /usr/bin/python3)
  python3-grpcio python3-grpc-tools python3-protobuf
  # tests/browser: the live page in headless Chromium (driven by
  # playwright-core from npm, podium_browser_npm_ci below)
  chromium
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

# podium_browser_npm_ci: tests/browser's node_modules (playwright-core,
# no browser of its own) from its package-lock.json, when missing or made
# from another lock file.
podium_browser_npm_ci() {
  local dir=$PODIUM_ROOT/tests/browser
  cmp -s "$dir/package-lock.json" "$dir/node_modules/.podium-lock" 2>/dev/null && return 0
  podium_log "npm ci in $dir"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2) &&
    cp "$dir/package-lock.json" "$dir/node_modules/.podium-lock"
}

# podium_cmake_launcher: the cmake arguments that compile through ccache,
# when it is installed. Most of a clean build (and of .ci/run, which
# builds twice from a fresh clone) is compiling files that an earlier build
# already compiled; ccache hands those objects back. Paths under the
# checkout are hashed relative to it, so clones in other directories share
# the cache (their line tables may then name the first clone's directory).
podium_cmake_launcher() {
  command -v ccache >/dev/null || return 0
  echo "-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"
}
# Read by ccache when ninja runs it, so set here rather than in a function
# called in $(...).
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PODIUM_ROOT}
export CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}

# podium_build [ninja target...]: configure once, then build (all by default).
podium_build() {
  local launcher
  launcher=$(podium_cmake_launcher)
  if [ ! -f "$PODIUM_BUILD/build.ninja" ]; then
    podium_log "configuring $PODIUM_BUILD"
    cmake -S "$PODIUM_ROOT" -B "$PODIUM_BUILD" -G Ninja \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo $launcher >/dev/null || return 1
  fi
  podium_log "building ${*:-everything} (the first build takes a few minutes)"
  ninja -C "$PODIUM_BUILD" --quiet "$@"
}

# --- clang builds with sanitizers: scripts/test --sanitize=..., scripts/fuzz

# podium_sanitize_dir KIND: the build directory of a sanitizer kind, each
# its own, so that switching never rebuilds the gcc build in build/.
podium_sanitize_dir() {
  case "$1" in
    address,undefined) echo "$PODIUM_ROOT/build-asan" ;;
    thread) echo "$PODIUM_ROOT/build-tsan" ;;
    *)
      podium_log "unknown sanitizer '$1': expected address,undefined or thread"
      return 2
      ;;
  esac
}

# podium_configure_sanitized KIND: configures $PODIUM_BUILD with clang,
# -Wthread-safety -Werror (CMakeLists.txt adds them for clang) and the
# sanitizers KIND. The address,undefined directory also holds the fuzz
# targets (PODIUM_FUZZ), so scripts/fuzz and scripts/test share one clang
# build. Run every time: a no-op when nothing changed, and it repairs a
# directory configured with other options.
podium_configure_sanitized() {
  local fuzz=OFF
  [ "$1" = address,undefined ] && fuzz=ON
  if [ -f "$PODIUM_BUILD/CMakeCache.txt" ] &&
    ! grep -q '^CMAKE_CXX_COMPILER:.*clang' "$PODIUM_BUILD/CMakeCache.txt"; then
    podium_log "$PODIUM_BUILD was configured with another compiler; remove it and retry"
    return 1
  fi
  podium_log "configuring $PODIUM_BUILD (clang, -fsanitize=$1)"
  cmake -S "$PODIUM_ROOT" -B "$PODIUM_BUILD" -G Ninja $(podium_cmake_launcher) \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
    -DPODIUM_SANITIZE="$1" -DPODIUM_FUZZ="$fuzz" >/dev/null
}

# podium_sanitizer_env REPORT_DIR: exports the sanitizers' options. Every
# report goes to REPORT_DIR/report.PID rather than to stderr, because the
# tests' child processes write stderr into temporary logs that are deleted
# with the test, and a child is usually SIGKILLed before its exit status
# could tell; the caller fails when the directory is not empty. Options
# already in the environment come last, so they win.
podium_sanitizer_env() {
  local dir=$1 symbolizer
  symbolizer=$(command -v llvm-symbolizer-14 || command -v llvm-symbolizer || true)
  local common="log_path=$dir/report"
  [ -n "$symbolizer" ] && common+=":external_symbolizer_path=$symbolizer"
  # Leaks, and globals initialised from another file's not-yet-initialised
  # global, are findings too.
  export ASAN_OPTIONS="$common:detect_leaks=1:check_initialization_order=1:strict_init_order=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
  export LSAN_OPTIONS="suppressions=$PODIUM_ROOT/sanitizers/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
  export UBSAN_OPTIONS="$common:halt_on_error=1:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
  export TSAN_OPTIONS="$common:halt_on_error=1:second_deadlock_stack=1:suppressions=$PODIUM_ROOT/sanitizers/tsan.supp${TSAN_OPTIONS:+:$TSAN_OPTIONS}"
}

# podium_sanitizer_reports REPORT_DIR: prints every report and returns 1 if
# there is one.
podium_sanitizer_reports() {
  local dir=$1 f n=0
  for f in "$dir"/report.*; do
    [ -e "$f" ] || continue
    n=$((n + 1))
    printf '\n===== %s =====\n' "$f" >&2
    cat "$f" >&2
  done
  [ "$n" -eq 0 ] && return 0
  podium_log "$n sanitizer report(s) in $dir (above); each is a finding"
  return 1
}

# podium_reap_orphans: SIGKILLs the servers a test left behind. A sanitizer
# that stops a test process (halt_on_error) skips the destructors that kill
# its children, and they would keep running, and holding ports and CPU,
# long after ctest. They are the processes running a binary of
# $PODIUM_BUILD whose parent is gone (adopted by init).
podium_reap_orphans() {
  local proc pid exe n=0
  for proc in /proc/[0-9]*; do
    pid=${proc#/proc/}
    exe=$(readlink "$proc/exe" 2>/dev/null) || continue
    [[ "$exe" == "$PODIUM_BUILD"/* ]] || continue
    [ "$(awk '{print $4}' "$proc/stat" 2>/dev/null)" = 1 ] || continue
    kill -KILL "$pid" 2>/dev/null && n=$((n + 1))
  done
  [ "$n" -eq 0 ] || podium_log "killed $n process(es) that stopped tests left running"
}
