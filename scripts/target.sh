# Sourced by the build and test scripts: chooses the static target once and
# gives its builds the static, non-PIE flags of scripts/flags.sh. Sets
# LOCKDROP_TARGET and CARGO_TARGET_<TRIPLE>_RUSTFLAGS (run cargo through the
# scripts, or source this file first, to share their build cache).
. "$(dirname "${BASH_SOURCE[0]}")/flags.sh"
if [ -z "${LOCKDROP_TARGET:-}" ]; then
  if rustup target list --installed 2>/dev/null | grep -qx x86_64-unknown-linux-musl \
     || timeout 120 rustup target add x86_64-unknown-linux-musl >/dev/null 2>&1; then
    LOCKDROP_TARGET=x86_64-unknown-linux-musl
  else
    # Still static (+crt-static); lockdrop never uses NSS.
    echo "lockdrop build: musl target unavailable, using gnu +crt-static" >&2
    LOCKDROP_TARGET=x86_64-unknown-linux-gnu
  fi
fi
export LOCKDROP_TARGET
_up=$(echo "$LOCKDROP_TARGET" | tr 'a-z-' 'A-Z_')
export "CARGO_TARGET_${_up}_RUSTFLAGS=$LOCKDROP_STATIC_RUSTFLAGS"
unset _up
