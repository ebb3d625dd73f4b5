#!/usr/bin/env bash
# Installs what perf-lab needs on a fresh machine, then its npm dependencies.
# Debian/Ubuntu (as root or with sudo): apt packages. macOS: Homebrew packages.
set -euo pipefail
cd "$(dirname "$0")/.."

if command -v apt-get >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get -o DPkg::Lock::Timeout=300 update -qq
  # Build tools, gzip, libdeflate (system library + its gzip program), Debian's crate
  # sources for the offline demo decoder (miniz_oxide + crc32fast), and the ARM64
  # toolchain the analyzer is tested with (clang cross-compiles, llvm-objdump,
  # llvm-mca, GNU objdump for AArch64), and valgrind for the bench's instruction counts (none on macOS).
  $SUDO apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends \
    build-essential cmake pkg-config gzip git ca-certificates debian-archive-keyring \
    libdeflate-dev libdeflate-tools valgrind \
    librust-miniz-oxide-dev librust-crc32fast-dev \
    clang llvm binutils-aarch64-linux-gnu >/dev/null
  if ! command -v cargo >/dev/null 2>&1; then
    $SUDO apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends cargo rustc >/dev/null
  fi
  # The Linux ARM64 path run on x86 under qemu-user (lab/bench/qemu-arm64.test.ts, lab/build/target.ts) and the
  # analyzer's tests on GCC builds of zlib, gzip and libdeflate (lab/uarch/gcc-builds.test.ts): GCC for aarch64 and
  # its libc, qemu-aarch64, and Debian's cargo + rustc with the aarch64 Rust std (libstd-rust-dev:arm64;
  # rustup has no aarch64 std offline). Debian x86_64 only: Ubuntu's x86 archive has no arm64 packages, and an ARM64
  # runner needs nothing cross.
  if [ "$(uname -m)" = "x86_64" ] && grep -qx 'ID=debian' /etc/os-release 2>/dev/null; then
    if ! dpkg --print-foreign-architectures | grep -qx arm64; then
      $SUDO dpkg --add-architecture arm64
      $SUDO apt-get -o DPkg::Lock::Timeout=300 update -qq
    fi
    $SUDO apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends \
      gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user cargo rustc libstd-rust-dev:arm64 >/dev/null
  fi
  # Linux ARM64 (ubuntu-24.04-arm): the same packages (no ARM-only ones); libdeflate and the harness are built by the
  # image's cc (GCC, not clang). What the runner class is keyed by, for the job log: the MIDR, cc and page size.
  if [ "$(uname -m)" = "aarch64" ]; then
    midr=$(grep -m2 -E '^CPU (implementer|part)' /proc/cpuinfo | sed 's/.*: //' | paste -sd/ - || true)
    echo "setup: Linux ARM64, MIDR ${midr:-unknown}; cc: $(cc --version | head -n 1);" \
      "page size $(getconf PAGESIZE) bytes" >&2
  fi
elif command -v brew >/dev/null 2>&1; then
  # Only what is missing (a hosted runner has most of it; brew install of a present formula still
  # updates Homebrew first, minutes on a macOS runner).
  export HOMEBREW_NO_AUTO_UPDATE=1 HOMEBREW_NO_INSTALL_CLEANUP=1
  missing=()
  for formula in gzip cmake pkg-config libdeflate; do
    brew list --versions "$formula" >/dev/null 2>&1 || missing+=("$formula")
  done
  command -v cargo >/dev/null 2>&1 || missing+=(rust)
  # llvm-objdump and llvm-mca: use the Homebrew LLVM the image already has (macos-15 ships llvm@18, macos-26
  # llvm@20: lab/github/runners.json), the newest if several; install `llvm` only when there is none.
  llvm_formula=$(brew list --formula -1 2>/dev/null | grep -E '^llvm(@[0-9]+)?$' | sort -t@ -k2 -n | tail -n 1 || true)
  if [ -z "$llvm_formula" ]; then llvm_formula=llvm; missing+=(llvm); fi
  if [ ${#missing[@]} -eq 0 ]; then
    echo "setup: Homebrew has everything (LLVM from $llvm_formula); nothing to download." >&2
  else
    brew install --quiet "${missing[@]}"
  fi
  # Homebrew's LLVM is keg-only: put it on this shell's PATH and, in GitHub Actions, on every later step's.
  llvm_bin="$(brew --prefix "$llvm_formula")/bin"
  export PATH="$llvm_bin:$PATH"
  if [ -n "${GITHUB_PATH:-}" ]; then echo "$llvm_bin" >> "$GITHUB_PATH"; fi
else
  echo "setup: neither apt-get nor brew found; install a C compiler, cmake, gzip, pkg-config, libdeflate" \
    "and Rust (cargo) by hand." >&2
fi

for tool in node npm cc cargo rustc gzip cmake; do
  command -v "$tool" >/dev/null 2>&1 || {
    echo "setup: '$tool' is still missing after installation; install it and rerun." >&2
    exit 1
  }
done
npm ci --no-audit --no-fund
