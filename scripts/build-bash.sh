#!/usr/bin/env bash
# build-bash.sh: build GNU Bash 5.2 with scripts/bash-exec-wrapper.patch and
# install it as $PREFIX/bin/bash (default PREFIX: <repo>/build/bash), and
# next to it the sandbox launcher $PREFIX/bin/execgate-nsexec (from
# sandbox/nsexec/*.c; the server looks for it next to the Bash).
#
# Usage: scripts/build-bash.sh [--source TARBALL|DIR|DSC] [--force] [--install-deps]
#   --source PATH  (or env BASH_SRC) a bash 5.2 source tarball, an unpacked
#                  source directory, or a Debian .dsc; otherwise the source
#                  is `apt-get source bash` on Debian/Ubuntu, else the GNU
#                  release tarball checked against a pinned SHA-256.
#   --force        rebuild even if the stamp says the build is current.
#   --install-deps as root on Debian/Ubuntu, change the system for the build:
#                  apt-get update, install the missing build tools and add a
#                  deb-src entry under /etc/apt/sources.list.d. `make` and CI
#                  pass it; without it (e.g. the build `go test` starts on
#                  demand) the script changes nothing outside the repository
#                  and fails with the command to run instead.
#   PREFIX=DIR     install prefix (env).
#
# Idempotent: the build is keyed by the SHA-256 of the patch and of the files
# it adds (scripts/bash/), the configure recipe
# and the source identity, recorded in $PREFIX/bin/bash.stamp. A second run with
# the same inputs does nothing. Work trees live under <repo>/build/bash-src.
#
# Output contract: the LAST line on stdout is the absolute path of the built
# Bash; all other output goes to stderr. Runs unattended (CI=true, no stdin).
set -euo pipefail

# Everything but the final path goes to stderr; fd 3 is the real stdout.
exec 3>&1 1>&2

log() { printf 'build-bash: %s\n' "$*" >&2; }
die() {
  printf 'build-bash: error: %s\n' "$*" >&2
  exit 1
}

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$script_dir/.." && pwd)
patch_file=$script_dir/bash-exec-wrapper.patch
[ -r "$patch_file" ] || die "patch not found: $patch_file"
# Source files the patch adds to Bash's build (the in-shell client), copied
# into the tree before the patch is applied.
shopt -s nullglob
added_sources=("$script_dir"/bash/*)
shopt -u nullglob

# GNU release used when no Debian source is available. The SHA-256 was not
# downloaded here (this network cannot reach GNU); it was cross-checked against
# several independent packagers' pins for bash-5.2.tar.gz, which all agree:
# Homebrew's bash formula, Spack's bash package and Chromebrew's bash recipe.
gnu_tarball=bash-5.2.tar.gz
gnu_sha256=a139c166df7ff4471c5e0733051642ee5556c1cc8a4a78f145583c5c81ab32fb
gnu_urls=(
  "https://ftpmirror.gnu.org/bash/$gnu_tarball"
  "https://ftp.gnu.org/gnu/bash/$gnu_tarball"
  "https://mirrors.kernel.org/gnu/bash/$gnu_tarball"
)

# The configure recipe is part of the cache key: changing it forces a rebuild.
# --without-bash-malloc: glibc malloc (bash's own malloc hides heap bugs from
# tools and is slower under threads); --disable-nls: no message catalogs.
#
# Linked statically when the C library allows it (libc.a: Debian's libc6-dev,
# part of build-essential). A Bash starts for every call, and a dynamically
# linked one spends a third of its start in the dynamic loader: measured on a
# 2-core VM, `bash -c true` took 3.8 ms of CPU and 122 page faults dynamic,
# 1.9 ms and 72 static. Static, nothing is bound lazily either, so a forked
# child on its way to an exec (socketpair, sendmsg, recvmsg in the in-shell
# client) looks nothing up and copies no page for it. glibc's getpw*/getgr*
# still reach NSS modules other than files through dlopen; Bash only needs
# them for `~user` and completion, and falls back when a lookup fails.
#
# Without a static libc, dynamically with -z now (every symbol bound at start,
# as Debian builds its own bash) for the same reason about forked children.
configure_base=(--without-bash-malloc --disable-nls)
static_flags=(--enable-static-link)
dynamic_flags=(LDFLAGS=-Wl,-z,now)
recipe_version=2

# can_link_static: whether the C compiler links a static program here.
can_link_static() {
  command -v "${CC:-cc}" >/dev/null 2>&1 || return 1
  local d rc=0
  d=$(mktemp -d)
  printf 'int main(void){return 0;}\n' >"$d/t.c"
  "${CC:-cc}" -static -o "$d/t" "$d/t.c" >/dev/null 2>&1 || rc=1
  rm -rf "$d"
  return $rc
}

# choose_link sets configure_flags and link for this machine.
choose_link() {
  if can_link_static; then
    link=static
    configure_flags=("${configure_base[@]}" "${static_flags[@]}")
  else
    link=dynamic
    configure_flags=("${configure_base[@]}" "${dynamic_flags[@]}")
  fi
}

src_arg=${BASH_SRC:-}
force=0
install_deps=0
while [ $# -gt 0 ]; do
  case $1 in
    --source)
      [ $# -ge 2 ] || die "--source needs a path"
      src_arg=$2
      shift 2
      ;;
    --source=*)
      src_arg=${1#--source=}
      shift
      ;;
    --force)
      force=1
      shift
      ;;
    --install-deps)
      install_deps=1
      shift
      ;;
    -h | --help)
      sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p;}' "${BASH_SOURCE[0]}" >&3
      exit 0
      ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done

prefix=${PREFIX:-$repo/build/bash}
case $prefix in /*) ;; *) prefix=$PWD/$prefix ;; esac
prefix=${prefix%/}

# The patched Bash must never be found on the PATH: as `bash` it would run
# every script of the user's with execs routed to whatever EXEC_WRAPPER
# says. A PREFIX exported for something else (`make install PREFIX=~/.local`)
# must fail here, not install PREFIX/bin/bash.
canon_dir() { if [ -d "$1" ]; then (cd "$1" && pwd -P); else printf '%s' "${1%/}"; fi; }
prefix_bin=$(canon_dir "$prefix/bin")
IFS=: read -ra path_dirs <<<"${PATH:-}"
for d in "${path_dirs[@]}"; do
  if [ -n "$d" ] && [ "$(canon_dir "$d")" = "$prefix_bin" ]; then
    die "PREFIX=$prefix would install $prefix/bin/bash, which is on PATH and would shadow the system Bash; use a private prefix (the default is $repo/build/bash; make install puts the patched Bash in PREFIX/libexec/execgate)"
  fi
done

mkdir -p "$prefix/bin"
prefix=$(cd "$prefix" && pwd)
bin=$prefix/bin/bash
stamp=$bin.stamp
work=$repo/build/bash-src
mkdir -p "$work"

# One build at a time per work directory (concurrent `go test` binaries or
# make targets may all ask for the Bash at once). flock(1) is util-linux;
# without it (e.g. macOS) builds are simply not serialized.
exec 4>"$work/.lock"
if command -v flock >/dev/null 2>&1; then flock 4; fi

if command -v sha256sum >/dev/null 2>&1; then
  sha256_stream() { sha256sum | cut -d' ' -f1; }
else
  sha256_stream() { shasum -a 256 | cut -d' ' -f1; }
fi
sha256_of() { sha256_stream <"$1"; }

# The patch's identity covers the files it adds: the patch, then each of
# scripts/bash/ in name order (internal/testbash computes the same).
patch_sha=$(cat "$patch_file" "${added_sources[@]}" | sha256_stream)
choose_link
recipe="v$recipe_version ${configure_flags[*]}"

# Identity of a user-given source: a file by its SHA-256, a directory by the
# SHA-256 of its files' contents in name order, so editing it invalidates the
# cache.
user_source_identity() {
  local p=$1
  if [ -d "$p" ]; then
    local h
    h=$(cd "$p" && find . -type f ! -path './.pc/*' -print0 | LC_ALL=C sort -z |
      xargs -0 cat -- | sha256_stream)
    printf 'dir:%s' "$h"
  elif [ -f "$p" ]; then
    printf 'file:%s' "$(sha256_of "$p")"
  else
    die "--source/BASH_SRC: no such file or directory: $p"
  fi
}

stamp_get() { sed -n "s/^$1=//p" "$stamp" 2>/dev/null | head -n1; }

is_root() { [ "$(id -u)" = 0 ]; }
have() { command -v "$1" >/dev/null 2>&1; }
# May this run change the system (apt lists, packages, /etc/apt)?
may_install() { [ "$install_deps" = 1 ] && is_root && have apt-get; }
install_hint="run \`make bash\` (or scripts/build-bash.sh --install-deps as root) once"

export DEBIAN_FRONTEND=noninteractive
apt_opts=(-q -y)
# As root, apt drops privileges to `_apt` for downloads and warns when that
# user cannot write the target directory; the files are still verified
# against the signed archive metadata, so download as root without the noise.
if is_root; then apt_opts+=(-o APT::Sandbox::User=root); fi

apt_updated=0
apt_update() {
  if [ "$apt_updated" = 0 ]; then
    log "apt-get update"
    apt-get "${apt_opts[@]}" update >&2 </dev/null
    apt_updated=1
  fi
}

# The namespace launcher: a small static C program started for every call
# that gets namespaces, so its start is on every call's path. Linked with
# musl when musl-gcc is here (Debian's musl-tools, installed with
# --install-deps as root): on the 2-core VM a static musl program starts in
# 0.2 ms of CPU and 5 page faults, a static glibc one in 0.8 ms and 25.
# A compiler named in $CC is used as given. Rebuilt when its source is newer
# or the compiler changed (recorded in the launcher's stamp, beside it).
nsexec_dir=$repo/sandbox/nsexec
nsexec_src=("$nsexec_dir"/*.c)
nsexec_bin=$prefix/bin/execgate-nsexec
nsexec_stamp=$nsexec_bin.stamp
build_nsexec() {
  local cc=${CC:-}
  if [ -z "$cc" ]; then
    if ! have musl-gcc && may_install; then
      log "installing musl-tools for the namespace launcher"
      apt_update
      apt-get "${apt_opts[@]}" install --no-install-recommends musl-tools >&2 </dev/null ||
        log "could not install musl-tools; the launcher is linked with the system C library"
    fi
    cc=cc
    if have musl-gcc; then cc=musl-gcc; fi
  fi
  # Rebuilt when any of its sources is newer than it.
  local newer=missing
  if [ -x "$nsexec_bin" ]; then
    newer=$(find "$nsexec_dir" -maxdepth 1 \( -name '*.c' -o -name '*.h' \) -newer "$nsexec_bin" | head -1)
  fi
  if [ -z "$newer" ] &&
    [ "$(sed -n 's/^cc=//p' "$nsexec_stamp" 2>/dev/null)" = "$cc" ]; then
    return 0
  fi
  if [ "$cc" != musl-gcc ] && [ -z "${CC:-}" ]; then
    log "musl-gcc not found: linking the namespace launcher with $cc (apt-get install musl-tools makes each call's launcher start faster)"
  fi
  log "compiling $nsexec_bin with $cc"
  "$cc" -std=gnu11 -O2 -Wall -Wextra -Werror -static -s -o "$nsexec_bin.tmp" "${nsexec_src[@]}" ||
    die "could not compile $nsexec_dir with $cc (needs a C compiler and a static libc, e.g. apt-get install build-essential musl-tools)"
  mv -f "$nsexec_bin.tmp" "$nsexec_bin"
  printf 'cc=%s\n' "$cc" >"$nsexec_stamp"
}

# Fast path: same patch, same recipe, and either the same user source or (no
# source given) any automatically obtained source.
if [ -n "$src_arg" ]; then
  [ -e "$src_arg" ] || die "--source/BASH_SRC: no such file or directory: $src_arg"
  if [ -d "$src_arg" ]; then
    src_arg=$(cd "$src_arg" && pwd)
  else
    src_arg=$(cd "$(dirname "$src_arg")" && pwd)/$(basename "$src_arg")
  fi
  want_source=$(user_source_identity "$src_arg")
else
  want_source=auto
fi
if [ "$force" = 0 ] && [ -x "$bin" ] && [ -f "$stamp" ] &&
  [ "$(stamp_get patch-sha256)" = "$patch_sha" ] &&
  [ "$(stamp_get recipe)" = "$recipe" ]; then
  have_source=$(stamp_get source)
  if [ "$want_source" = "$have_source" ] ||
    { [ "$want_source" = auto ] && [ "$(stamp_get source-kind)" = auto ]; }; then
    log "up to date ($have_source, patch ${patch_sha:0:12})"
    build_nsexec
    printf '%s\n' "$bin" >&3
    exit 0
  fi
fi

# Build tools: install what is missing when we are root on an apt system.
ensure_tools() {
  local missing=() t
  for t in "$@"; do have "$t" || missing+=("$t"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if may_install; then
    log "installing build tools (missing: ${missing[*]})"
    apt_update
    apt-get "${apt_opts[@]}" install --no-install-recommends \
      build-essential dpkg-dev bison patch >&2 </dev/null
    for t in "${missing[@]}"; do have "$t" || die "still missing after apt-get install: $t"; done
  else
    die "missing build tools: ${missing[*]} (install gcc, make, patch, e.g. apt-get install build-essential patch dpkg-dev; or $install_hint)"
  fi
}

# True if some apt source already offers deb-src entries.
has_deb_src() {
  grep -Eqs '^[[:space:]]*deb-src[[:space:]]' /etc/apt/sources.list /etc/apt/sources.list.d/*.list && return 0
  grep -Eqs '^Types:.*\bdeb-src\b' /etc/apt/sources.list.d/*.sources && return 0
  return 1
}

# Add a deb-src twin of every enabled `Types: deb` stanza (deb822) and of
# every one-line `deb` entry, in a file of our own so nothing else is edited.
add_deb_src() {
  local out=/etc/apt/sources.list.d/execgate-deb-src.sources list_out=/etc/apt/sources.list.d/execgate-deb-src.list
  log "enabling deb-src entries: $out"
  awk '
    function flush() {
      if (is_deb && enabled && uris != "" && suites != "") {
        printf "Types: deb-src\nURIs: %s\nSuites: %s\n", uris, suites
        if (comps != "") printf "Components: %s\n", comps
        if (signed != "") printf "Signed-By: %s\n", signed
        printf "\n"
      }
      is_deb = 0; enabled = 1; uris = suites = comps = signed = ""
    }
    BEGIN { enabled = 1 }
    /^[[:space:]]*$/ { flush(); next }
    /^#/ { next }
    tolower($1) == "types:" { for (i = 2; i <= NF; i++) if ($i == "deb") is_deb = 1 }
    tolower($1) == "enabled:" && tolower($2) == "no" { enabled = 0 }
    tolower($1) == "uris:" { $1 = ""; uris = substr($0, 2) }
    tolower($1) == "suites:" { $1 = ""; suites = substr($0, 2) }
    tolower($1) == "components:" { $1 = ""; comps = substr($0, 2) }
    tolower($1) == "signed-by:" { $1 = ""; signed = substr($0, 2) }
    END { flush() }
  ' /dev/null /etc/apt/sources.list.d/*.sources 2>/dev/null >"$out.tmp" || true
  if [ -s "$out.tmp" ]; then mv "$out.tmp" "$out"; else rm -f "$out.tmp"; fi
  # One-line format (older Debian, Ubuntu before 24.04).
  sed -n 's/^[[:space:]]*deb\([[:space:]]\)/deb-src\1/p' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null >"$list_out.tmp" || true
  if [ -s "$list_out.tmp" ]; then mv "$list_out.tmp" "$list_out"; else rm -f "$list_out.tmp"; fi
  [ -f "$out" ] || [ -f "$list_out" ] || return 1
  apt_updated=0
  apt_update
}

# Prints the top directory (holding configure and execute_cmd.c) under $1.
find_tree() {
  local d
  for d in "$1" "$1"/*/; do
    d=${d%/}
    if [ -f "$d/configure" ] && [ -f "$d/execute_cmd.c" ]; then
      printf '%s' "$d"
      return 0
    fi
  done
  return 1
}

check_version() {
  local tree=$1 v
  v=$(sed -n 's/^PACKAGE_VERSION=.\([0-9.]*\).*/\1/p' "$tree/configure" | head -n1)
  case $v in
    5.2 | 5.2.*) return 0 ;;
  esac
  log "source at $tree is bash ${v:-(unknown version)}, not 5.2"
  return 1
}

# Each getter unpacks a fresh tree under $work and sets: tree, source_id, kind.
tree='' source_id='' kind=''

get_user_source() {
  local p=$1 dest=$work/user
  rm -rf "$dest"
  mkdir -p "$dest"
  if [ -d "$p" ]; then
    log "copying source directory $p"
    cp -a "$p/." "$dest/"
  elif [[ $p == *.dsc ]]; then
    ensure_tools dpkg-source
    log "unpacking Debian source $p"
    dpkg-source -x "$p" "$dest/tree" >&2
  else
    log "unpacking $p"
    tar -xf "$p" -C "$dest"
  fi
  tree=$(find_tree "$dest") || die "no bash source tree (configure + execute_cmd.c) in $p"
  check_version "$tree" || die "--source/BASH_SRC must be bash 5.2: $p"
  source_id=$want_source
  kind=user
}

# Debian/Ubuntu: `apt-get source bash`. The source package is format
# "3.0 (quilt)": dpkg-source -x unpacks the orig tarball (already at the
# upstream patch level, e.g. 5.2.15) and applies every patch in
# debian/patches/series itself, without needing quilt or debian/rules, so the
# result is the same tree Debian builds from.
get_apt_source() {
  have apt-get || return 1
  local dest=$work/apt
  rm -rf "$dest"
  mkdir -p "$dest"
  chmod 755 "$dest"
  if may_install; then
    ensure_tools gcc make patch dpkg-source
    if ! has_deb_src; then add_deb_src || return 1; fi
  elif ! has_deb_src; then
    log "no deb-src entry in /etc/apt: not using apt-get source ($install_hint to add one)"
    return 1
  fi
  have dpkg-source || { log "dpkg-source missing (install dpkg-dev)"; return 1; }
  log "apt-get source bash"
  if ! (cd "$dest" && apt-get "${apt_opts[@]}" source --download-only bash >&2 </dev/null); then
    if may_install && [ "$apt_updated" = 0 ]; then
      apt_update
      (cd "$dest" && apt-get "${apt_opts[@]}" source --download-only bash >&2 </dev/null) || return 1
    else
      return 1
    fi
  fi
  local dsc
  dsc=$(find "$dest" -maxdepth 1 -name 'bash_*.dsc' | head -n1)
  [ -n "$dsc" ] || return 1
  dpkg-source -x "$dsc" "$dest/tree" >&2 || return 1
  tree=$dest/tree
  check_version "$tree" || return 1
  source_id="debian:$(basename "$dsc" .dsc)"
  kind=auto
}

get_gnu_source() {
  local dest=$work/gnu file url got
  mkdir -p "$dest"
  file=$dest/$gnu_tarball
  if [ ! -f "$file" ] || [ "$(sha256_of "$file")" != "$gnu_sha256" ]; then
    rm -f "$file"
    for url in "${gnu_urls[@]}"; do
      log "downloading $url"
      if have curl; then
        curl -fsSL --connect-timeout 20 --max-time 600 -o "$file.part" "$url" </dev/null && break
      elif have wget; then
        wget -q -T 20 -O "$file.part" "$url" </dev/null && break
      else
        die "neither curl nor wget is installed; pass --source PATH"
      fi
      rm -f "$file.part"
    done
    [ -f "$file.part" ] || die "could not download $gnu_tarball (offline? pass --source PATH or BASH_SRC, or $install_hint to build from Debian's source package)"
    got=$(sha256_of "$file.part")
    if [ "$got" != "$gnu_sha256" ]; then
      rm -f "$file.part"
      die "$gnu_tarball: SHA-256 mismatch: got $got, want $gnu_sha256"
    fi
    mv "$file.part" "$file"
  fi
  rm -rf "$dest/tree"
  mkdir -p "$dest/tree"
  tar -xzf "$file" -C "$dest/tree"
  tree=$(find_tree "$dest/tree") || die "$file: no bash source tree inside"
  source_id="gnu:$gnu_tarball:$gnu_sha256"
  kind=auto
}

start=$SECONDS
if [ -n "$src_arg" ]; then
  get_user_source "$src_arg"
elif get_apt_source; then
  :
else
  log "no usable Debian source package; falling back to the GNU release"
  get_gnu_source
fi
log "source: $source_id ($tree)"

ensure_tools gcc make patch
# Again now that the compiler is surely there (it may just have been
# installed).
choose_link
recipe="v$recipe_version ${configure_flags[*]}"
[ "$link" = static ] || log "no static C library here (libc.a; apt-get install libc6-dev): linking Bash dynamically, which costs about 2 ms more per call"

log "applying $(basename "$patch_file")"
if [ ${#added_sources[@]} -gt 0 ]; then cp "${added_sources[@]}" "$tree/"; fi
patch -d "$tree" -p1 --batch --forward <"$patch_file" >&2 ||
  die "$patch_file does not apply to $source_id"

log "configure ${configure_flags[*]}"
(cd "$tree" && ./configure "${configure_flags[@]}" >"$work/configure.log" 2>&1) ||
  { tail -n 40 "$work/configure.log" >&2; die "configure failed (log: $work/configure.log)"; }

jobs=$(nproc 2>/dev/null || echo 2)
log "make -j$jobs"
(cd "$tree" && make -j"$jobs" >"$work/make.log" 2>&1) ||
  { tail -n 40 "$work/make.log" >&2; die "make failed (log: $work/make.log)"; }
[ -x "$tree/bash" ] || die "make succeeded but $tree/bash is missing"

# Prove the patch is live before installing: the wrapper must see the exec
# and the command after a `&&` must still get its arguments.
probe_dir=$(mktemp -d "$work/probe.XXXXXX")
trap 'rm -rf "$probe_dir"' EXIT
cat >"$probe_dir/wrapper" <<'EOF'
#!/bin/sh
printf '%s\n' "$*" >>"$PROBE_LOG"
cmd=$1
shift 2
exec "$cmd" "$@"
EOF
chmod 755 "$probe_dir/wrapper"
out=$(env -i PATH=/usr/bin:/bin PROBE_LOG="$probe_dir/log" EXEC_WRAPPER="$probe_dir/wrapper" \
  "$tree/bash" -c 'unset EXEC_WRAPPER; /bin/true && /bin/echo x; :' 2>&1) || die "probe failed: $out"
[ "$out" = x ] || die "probe: patched bash printed '$out', want 'x'"
grep -qx '/bin/echo /bin/echo x' "$probe_dir/log" || die "probe: the wrapper did not see /bin/echo x"
# The in-shell client (execgate.c): with CODEX_ESCALATE_SOCKET naming a
# descriptor that is not the server's socket, a program must not run.
status=0
out=$(env -i PATH=/usr/bin:/bin CODEX_ESCALATE_SOCKET=3 "$tree/bash" -c '/bin/echo ran' 3</dev/null 2>&1) || status=$?
[ "$status" = 126 ] && [[ $out == *"execgate: CODEX_ESCALATE_SOCKET=3 is not a socket"* ]] ||
  die "probe: the in-shell client did not refuse an exec without a server (status $status, output '$out')"

install -m 0755 "$tree/bash" "$bin.tmp"
mv -f "$bin.tmp" "$bin"
cat >"$stamp.tmp" <<EOF
patch-sha256=$patch_sha
recipe=$recipe
source=$source_id
source-kind=$kind
built=$(date -u +%Y-%m-%dT%H:%M:%SZ)
EOF
mv -f "$stamp.tmp" "$stamp"
log "built $bin in $((SECONDS - start))s"
build_nsexec
printf '%s\n' "$bin" >&3
