# Shared set-up for every script: a JDK 21+, Maven, the dataset, the project's build.
# Source it; it defines functions and never exits a caller's shell on success.

PROJECT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export PROJECT_ROOT

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

java_major() { "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = \([0-9]*\).*/\1/p'; }

# Finds a JDK 21 or newer: $JAVA_HOME, then /usr/lib/jvm/*, then `java` on PATH.
find_jdk() {
  local candidates=() c
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
  for c in /usr/lib/jvm/*; do [ -x "$c/bin/javac" ] && candidates+=("$c"); done
  if command -v javac >/dev/null 2>&1; then
    candidates+=("$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")")
  fi
  local best="" best_major=0 major
  for c in "${candidates[@]}"; do
    [ -x "$c/bin/java" ] && [ -x "$c/bin/javac" ] || continue
    major=$(java_major "$c"); [ -n "$major" ] || continue
    if [ "$major" -ge 21 ] && [ "$major" -gt "$best_major" ]; then best="$c"; best_major="$major"; fi
  done
  [ -n "$best" ] || die "no JDK 21+ found (looked at \$JAVA_HOME, /usr/lib/jvm/*, PATH). Install one, e.g. 'apt-get install openjdk-21-jdk' or Temurin 25, or set JAVA_HOME."
  export JAVA_HOME="$best"
  export PATH="$JAVA_HOME/bin:$PATH"
}

ensure_maven() {
  command -v mvn >/dev/null 2>&1 && return 0
  log "installing Maven with apt-get"
  apt-get update -qq && apt-get install -y -qq maven >/dev/null || die "Maven is missing and apt-get could not install it"
}

FASHION_MNIST_DIR="${FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}"
export FASHION_MNIST_DIR

ensure_dataset() {
  [ -f "$FASHION_MNIST_DIR/t10k-images-idx3-ubyte.gz" ] && return 0
  log "installing Fashion-MNIST (Debian package dataset-fashion-mnist)"
  apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist >/dev/null \
    || die "Fashion-MNIST is missing from $FASHION_MNIST_DIR and apt-get could not install dataset-fashion-mnist"
}

# Headless Chromium for the search service's browse-page test (Debian package chromium).
ensure_chromium() {
  command -v chromium >/dev/null 2>&1 && return 0
  log "installing Chromium (Debian package chromium) for the browse-page test"
  { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } \
    || die "chromium is missing and apt-get could not install it; the browse-page test needs it"
}

# Node.js and npm for the Keras import and its TF.js reference (scripts/import-keras-model, KerasImportIT).
ensure_node() {
  command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 && return 0
  log "installing Node.js and npm (Debian packages nodejs npm) for the Keras import test"
  { apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null; } \
    || die "node or npm is missing and apt-get could not install them; the Keras import test (KerasImportIT) needs Node.js 20+ and npm"
}

# Python 3 with numpy, hnswlib and FAISS for bench-index's peers (Debian packages python3-numpy,
# python3-hnswlib, python3-faiss), run by /usr/bin/python3, the interpreter those packages serve.
ensure_hnsw_peers() {
  /usr/bin/python3 -c 'import numpy, hnswlib, faiss' >/dev/null 2>&1 && return 0
  log "installing hnswlib, FAISS and numpy for Python (Debian packages python3-hnswlib python3-faiss python3-numpy)"
  { apt-get update -qq && apt-get install -y -qq python3-hnswlib python3-faiss python3-numpy >/dev/null; } \
    || die "python3-hnswlib, python3-faiss or python3-numpy is missing and apt-get could not install them; install them, or run without the peers (--no-peers)"
  /usr/bin/python3 -c 'import numpy, hnswlib, faiss' \
    || die "python3-hnswlib, python3-faiss and python3-numpy are installed but /usr/bin/python3 cannot import numpy, hnswlib and faiss"
}

MVN_FLAGS=(-B -q -Dstyle.color=never)

# Builds every module (tests skipped) unless the build is newer than the sources. The scripts' state
# folders (work/, $VSI_HOME) are not sources: the broker and the cluster write .properties files there.
ensure_build() {
  local stamp="$PROJECT_ROOT/bench/target/runtime.classpath"
  local state="${VSI_HOME:-$PROJECT_ROOT/work}"
  if [ -f "$stamp" ] && [ -z "$(find "$PROJECT_ROOT" \( -path '*/target' -o -path "$PROJECT_ROOT/.git" -o -path "$PROJECT_ROOT/work" \
        -o -path "${state%/}" -o -name node_modules \) -prune -o \
        \( -name '*.java' -o -name 'pom.xml' -o -name '*.avsc' -o -name '*.properties' \) -newer "$stamp" -print -quit)" ]; then
    return 0
  fi
  log "building the project (mvn install -DskipTests)"
  (cd "$PROJECT_ROOT" && mvn "${MVN_FLAGS[@]}" -DskipTests install) || die "build failed"
  # Maven leaves the classpath file untouched when it did not change: mark the build as newer by hand.
  touch "$stamp"
}

# The JVM flags Lucene, Flink and DJL need (kept in step with jvm.open.flags in pom.xml).
jvm_flags() {
  (cd "$PROJECT_ROOT" && sed -n 's:.*<jvm.open.flags>\(.*\)</jvm.open.flags>.*:\1:p' pom.xml)
}

# Every JVM the scripts start (the job's TaskManagers, the demo, benchmarks, tools) runs with jemalloc
# when it is installed (Debian package libjemalloc2), as in Flink's own Docker image: RocksDB instances
# closed and opened again in one process (a job restored in place) leave glibc's arenas holding the old
# ones' memory (docs/capacity.md, "10^6"). DISABLE_JEMALLOC=true keeps glibc's malloc (the variable
# Flink's image reads).
use_jemalloc() {
  [ "${DISABLE_JEMALLOC:-false}" = true ] && return 0
  local lib="" c
  for c in /usr/lib/*-linux-gnu/libjemalloc.so.2 /usr/lib64/libjemalloc.so.2 /usr/lib/libjemalloc.so.2; do
    [ -f "$c" ] && { lib="$c"; break; }
  done
  [ -n "$lib" ] || return 0
  case ":${LD_PRELOAD:-}:" in *":$lib:"*) return 0 ;; esac
  export LD_PRELOAD="${LD_PRELOAD:+$LD_PRELOAD:}$lib"
}

# Runs a main class of a module with its runtime classpath.
run_main() {
  local module="$1" main="$2"; shift 2
  # EXTRA_CLASSPATH_FILE: a second classpath file of the module's target/ (a tool that needs provided jars).
  local cp_file="$PROJECT_ROOT/$module/target/runtime.classpath"
  [ -f "$cp_file" ] || die "$cp_file is missing: build with 'mvn install -DskipTests'"
  local extra=""
  if [ -n "${EXTRA_CLASSPATH_FILE:-}" ]; then
    [ -f "$PROJECT_ROOT/$module/target/$EXTRA_CLASSPATH_FILE" ] || die "$module/target/$EXTRA_CLASSPATH_FILE is missing: build with 'mvn install -DskipTests'"
    extra=":$(cat "$PROJECT_ROOT/$module/target/$EXTRA_CLASSPATH_FILE")"
  fi
  use_jemalloc
  # shellcheck disable=SC2046
  exec "$JAVA_HOME/bin/java" $(jvm_flags) ${JAVA_OPTS:-} -cp "$PROJECT_ROOT/$module/target/classes:$(cat "$cp_file")$extra" "$main" "$@"
}
