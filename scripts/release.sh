#!/usr/bin/env bash
# Build the release artifacts of vault-plugin-crypto for linux/amd64:
#
#   dist/vault-plugin-crypto_v<version>_linux_amd64        glibc  (x86_64-unknown-linux-gnu)
#   dist/vault-plugin-crypto_v<version>_linux_amd64_musl   static (x86_64-unknown-linux-musl)
#   dist/SHA256SUMS
#
# Always `--locked --release` (the workspace profile has lto, codegen-units=1, strip).
# Refuses to run when a `v*` tag on HEAD disagrees with the workspace version in Cargo.toml.
#
# Reproducibility: paths are remapped (--remap-path-prefix) and SOURCE_DATE_EPOCH is the
# commit time, so a second build of the same commit from clean gives the same bytes;
# `--check-repro` proves it by building each target twice into separate target dirs.
#
# Cross-compiling from macOS or arm64 Linux: install zig (`pip install ziglang`) and
# cargo-zigbuild (`cargo install cargo-zigbuild`), `rustup target add
# x86_64-unknown-linux-gnu x86_64-unknown-linux-musl`, then run with RELEASE_BUILDER=zigbuild.
# The same SHA256SUMS file is written; see sdk/README.md "Releases".
set -euo pipefail
shopt -s inherit_errexit

usage() {
	cat >&2 <<'EOF'
usage: scripts/release.sh [--target gnu|musl|all] [--out DIR] [--check-repro] [--keep-going]

  --target       which artifacts (default all)
  --out          output directory (default dist)
  --check-repro  build every target twice from clean (separate target dirs) and compare SHA256
  --keep-going   when the musl toolchain is missing, still write the glibc artifact and
                 SHA256SUMS, then exit 3 (default: fail before building anything)

environment:
  RELEASE_BUILDER=cargo|zigbuild   build command (zigbuild for cross-compilation)
  MUSL_CARGO, MUSL_RUSTC           a toolchain whose sysroot has rust-src, used with
                                   -Zbuild-std when no musl std is installed (default: the
                                   Debian rustc-web toolchain, /usr/bin/cargo + /usr/bin/rustc,
                                   when /usr/lib/rustlib/src/rust/library exists)
  CARGO_TARGET_BASE                where the per-build target dirs go (default target/release-build)
EOF
	exit 2
}

err() {
	echo "release: error: $*" >&2
	exit 1
}

say() {
	echo "release: $*" >&2
}

need_cmd() {
	command -v "$1" >/dev/null 2>&1 || err "need '$1' (command not found)"
}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

TARGETS=all
OUT=dist
CHECK_REPRO=0
KEEP_GOING=0
while [ $# -gt 0 ]; do
	case "$1" in
	--target)
		[ $# -ge 2 ] || usage
		TARGETS=$2
		shift 2
		;;
	--out)
		[ $# -ge 2 ] || usage
		OUT=$2
		shift 2
		;;
	--check-repro)
		CHECK_REPRO=1
		shift
		;;
	--keep-going)
		KEEP_GOING=1
		shift
		;;
	-h | --help) usage ;;
	*)
		echo "release: unknown argument: $1" >&2
		usage
		;;
	esac
done
case "$TARGETS" in
gnu | musl | all) ;;
*) usage ;;
esac

need_cmd cargo
need_cmd git
need_cmd sha256sum

GNU_TRIPLE=x86_64-unknown-linux-gnu
MUSL_TRIPLE=x86_64-unknown-linux-musl
BUILDER=${RELEASE_BUILDER:-cargo}
TARGET_BASE=${CARGO_TARGET_BASE:-$ROOT/target/release-build}

# The workspace version: the `version` line of [workspace.package].
workspace_version() {
	awk '
		/^\[/ { in_pkg = ($0 == "[workspace.package]") }
		in_pkg && /^version[[:space:]]*=/ {
			gsub(/.*=[[:space:]]*"|".*/, ""); print; exit
		}' Cargo.toml
}

VERSION=$(workspace_version)
[ -n "$VERSION" ] || err "no version in [workspace.package] of Cargo.toml"

# A `v*` tag on HEAD must be exactly v<version> (ripgrep's release check).
check_tag() {
	local tag
	while IFS= read -r tag; do
		case "$tag" in
		v*)
			[ "$tag" = "v$VERSION" ] ||
				err "tag $tag on HEAD disagrees with Cargo.toml version $VERSION"
			;;
		esac
	done < <(git tag --points-at HEAD)
}
check_tag

# Reproducibility inputs: no absolute paths of this machine in the binary, a fixed time.
SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null || echo 0)
export SOURCE_DATE_EPOCH
CARGO_HOME_DIR=${CARGO_HOME:-$HOME/.cargo}
RUSTUP_HOME_DIR=${RUSTUP_HOME:-$HOME/.rustup}
# The same string for both builds of --check-repro (RUSTFLAGS can feed cargo's metadata
# hashes, so they must not differ): each target dir, the checkout and the toolchains map to
# fixed names.
remap_flags() {
	# rustc applies the last matching prefix: the target dirs (inside the checkout by default)
	# come after the checkout.
	printf '%s' "--remap-path-prefix=$CARGO_HOME_DIR=/cargo --remap-path-prefix=$RUSTUP_HOME_DIR=/rustup --remap-path-prefix=$ROOT=/build --remap-path-prefix=$TARGET_BASE/a=/target --remap-path-prefix=$TARGET_BASE/b=/target"
}

# How to build for musl: sets MUSL_MODE to installed | build-std | none (and MUSL_WHY).
MUSL_CARGO=${MUSL_CARGO:-}
MUSL_RUSTC=${MUSL_RUSTC:-}
MUSL_WHY=""
MUSL_MODE=""
musl_mode() {
	if command -v rustup >/dev/null 2>&1 &&
		rustup target list --installed 2>/dev/null | grep -qx "$MUSL_TRIPLE"; then
		MUSL_MODE=installed
		return
	fi
	if [ "$BUILDER" = zigbuild ]; then
		MUSL_WHY="cargo zigbuild needs the musl std: rustup target add $MUSL_TRIPLE"
		MUSL_MODE=none
		return
	fi
	if [ -z "$MUSL_CARGO" ] && [ -x /usr/bin/cargo ] && [ -x /usr/bin/rustc ]; then
		MUSL_CARGO=/usr/bin/cargo
		MUSL_RUSTC=/usr/bin/rustc
	fi
	if [ -z "$MUSL_CARGO" ] || [ -z "$MUSL_RUSTC" ]; then
		MUSL_WHY="no musl std installed (rustup target add $MUSL_TRIPLE) and no toolchain with rust-src for -Zbuild-std (Debian: apt-get install rustc-web cargo-web rust-web-src musl-tools)"
		MUSL_MODE=none
		return
	fi
	local sysroot
	sysroot=$("$MUSL_RUSTC" --print sysroot)
	if [ ! -f "$sysroot/lib/rustlib/src/rust/library/Cargo.lock" ]; then
		MUSL_WHY="$MUSL_RUSTC has no rust-src ($sysroot/lib/rustlib/src/rust/library missing) for -Zbuild-std"
		MUSL_MODE=none
		return
	fi
	if ! command -v musl-gcc >/dev/null 2>&1; then
		MUSL_WHY="musl-gcc not found (apt-get install musl-tools): the C parts (aws-lc) and the link need it"
		MUSL_MODE=none
		return
	fi
	MUSL_MODE=build-std
}

# libunwind for the musl link: std's `unwind` crate asks for a static libunwind.a. The only
# unwinder on a Debian host is gcc's libgcc_eh.a (same _Unwind_* ABI), built against glibc:
# it calls _dl_find_object and weakly references pthread functions. The shim in
# scripts/release/dl_find_object_musl.c supplies the first on musl's dl_iterate_phdr and pulls
# in the second; both go into the archive.
unwind_dir() {
	local dir=$1 eh
	need_cmd gcc
	need_cmd ar
	eh=$(gcc -print-file-name=libgcc_eh.a)
	[ -f "$eh" ] || err "libgcc_eh.a not found (gcc installed?)"
	mkdir -p "$dir"
	cp "$eh" "$dir/libunwind.a"
	musl-gcc -O2 -c "$ROOT/scripts/release/dl_find_object_musl.c" -o "$dir/dl_find_object_musl.o"
	ar rcs "$dir/libunwind.a" "$dir/dl_find_object_musl.o"
}

# build TRIPLE TARGET_DIR -> prints the path of the built binary
build_one() {
	local triple=$1 tdir=$2 flags
	flags=$(remap_flags)
	case "$triple" in
	"$GNU_TRIPLE")
		say "building $triple into $tdir ($BUILDER)"
		if [ "$BUILDER" = zigbuild ]; then
			RUSTFLAGS="$flags" CARGO_TARGET_DIR="$tdir" \
				cargo zigbuild --locked --release -p vault-plugin-crypto --target "$triple" >&2
		else
			RUSTFLAGS="$flags" CARGO_TARGET_DIR="$tdir" \
				cargo build --locked --release -p vault-plugin-crypto --target "$triple" >&2
		fi
		;;
	"$MUSL_TRIPLE")
		case "$MUSL_MODE" in
		installed)
			say "building $triple into $tdir ($BUILDER, installed musl std)"
			if [ "$BUILDER" = zigbuild ]; then
				RUSTFLAGS="$flags" CARGO_TARGET_DIR="$tdir" \
					cargo zigbuild --locked --release -p vault-plugin-crypto --target "$triple" >&2
			else
				RUSTFLAGS="$flags -C target-feature=+crt-static" CARGO_TARGET_DIR="$tdir" \
					CC_x86_64_unknown_linux_musl="${CC_x86_64_unknown_linux_musl:-musl-gcc}" \
					cargo build --locked --release -p vault-plugin-crypto --target "$triple" >&2
			fi
			;;
		build-std)
			say "building $triple into $tdir (-Zbuild-std with $("$MUSL_RUSTC" --version), musl-gcc)"
			unwind_dir "$TARGET_BASE/musl-unwind"
			# RUSTC_BOOTSTRAP: -Zbuild-std on a stable toolchain whose rust-src matches it.
			# The link is done by musl-gcc (musl's crt and libc.a), not by rust-lld's
			# self-contained objects that only the rustup musl std ships; musl-gcc's specs do
			# not do -static-pie (it yields a PIE with /lib/ld-musl interpreter), so the
			# executable is static non-PIE (relocation-model=static).
			RUSTC_BOOTSTRAP=1 RUSTC="$MUSL_RUSTC" CARGO_TARGET_DIR="$tdir" \
				CC_x86_64_unknown_linux_musl=musl-gcc \
				CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_LINKER=musl-gcc \
				RUSTFLAGS="$flags -C target-feature=+crt-static -C relocation-model=static -C link-self-contained=no -L native=$TARGET_BASE/musl-unwind" \
				"$MUSL_CARGO" build --locked --release -p vault-plugin-crypto \
				--target "$triple" -Zbuild-std=std,panic_unwind >&2
			;;
		*)
			err "cannot build $triple: $MUSL_WHY"
			;;
		esac
		;;
	*) err "unknown target $triple" ;;
	esac
	echo "$tdir/$triple/release/vault-plugin-crypto"
}

check_static() {
	local bin=$1
	need_cmd readelf
	if readelf -l "$bin" | grep -q 'INTERP'; then
		err "$bin has an ELF interpreter: not static"
	fi
	if readelf -d "$bin" 2>/dev/null | grep -q '(NEEDED)'; then
		err "$bin needs shared libraries: $(readelf -d "$bin" | grep NEEDED | tr -s ' ')"
	fi
}

triples=()
case "$TARGETS" in
gnu) triples=("$GNU_TRIPLE") ;;
musl) triples=("$MUSL_TRIPLE") ;;
all) triples=("$GNU_TRIPLE" "$MUSL_TRIPLE") ;;
esac

MUSL_MISSING=0
musl_mode
if [ "$TARGETS" != gnu ] && [ "$MUSL_MODE" = none ]; then
	if [ "$KEEP_GOING" = 1 ] && [ "$TARGETS" = all ]; then
		say "WARNING: skipping $MUSL_TRIPLE: $MUSL_WHY"
		triples=("$GNU_TRIPLE")
		MUSL_MISSING=1
	else
		err "cannot build $MUSL_TRIPLE: $MUSL_WHY"
	fi
fi

mkdir -p "$OUT"
start=$(date +%s)
for triple in "${triples[@]}"; do
	name="vault-plugin-crypto_v${VERSION}_linux_amd64"
	[ "$triple" = "$MUSL_TRIPLE" ] && name="${name}_musl"
	t0=$(date +%s)
	bin=$(build_one "$triple" "$TARGET_BASE/a")
	say "$triple built in $(($(date +%s) - t0))s"
	[ "$triple" = "$MUSL_TRIPLE" ] && check_static "$bin"
	cp "$bin" "$OUT/$name"
	if [ "$CHECK_REPRO" = 1 ]; then
		# A second build from clean in another directory must give the same bytes.
		rm -rf "$TARGET_BASE/b"
		t0=$(date +%s)
		bin_b=$(build_one "$triple" "$TARGET_BASE/b")
		say "$triple rebuilt in $(($(date +%s) - t0))s"
		sa=$(sha256sum "$OUT/$name" | cut -d' ' -f1)
		sb=$(sha256sum "$bin_b" | cut -d' ' -f1)
		if [ "$sa" = "$sb" ]; then
			say "reproducible: $name $sa"
		else
			say "NOT reproducible: $name $sa vs $sb"
			cmp -l "$OUT/$name" "$bin_b" | head -n 20 >&2 || true
			exit 4
		fi
	fi
done

# SHA256SUMS over every artifact present in OUT (sha256sum -c format).
(
	cd "$OUT"
	shopt -s nullglob
	files=(vault-plugin-crypto_v"${VERSION}"_linux_amd64*)
	[ ${#files[@]} -gt 0 ] || err "no artifact in $OUT"
	sha256sum "${files[@]}" >SHA256SUMS
	sha256sum --quiet -c SHA256SUMS
)
say "artifacts in $OUT (total $(($(date +%s) - start))s):"
(cd "$OUT" && ls -l vault-plugin-crypto_v"${VERSION}"_linux_amd64* SHA256SUMS >&2 && cat SHA256SUMS)
if [ "$MUSL_MISSING" = 1 ]; then
	say "musl artifact NOT built: $MUSL_WHY"
	exit 3
fi
