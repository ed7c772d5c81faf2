# Sourced by the build and test scripts: chooses the static target once.
# Sets LOCKDROP_TARGET (and RUSTFLAGS for the gnu fallback).
if [ -z "${LOCKDROP_TARGET:-}" ]; then
  if rustup target list --installed 2>/dev/null | grep -qx x86_64-unknown-linux-musl \
     || timeout 120 rustup target add x86_64-unknown-linux-musl >/dev/null 2>&1; then
    LOCKDROP_TARGET=x86_64-unknown-linux-musl
  else
    echo "lockdrop build: musl target unavailable, using gnu +crt-static" >&2
    LOCKDROP_TARGET=x86_64-unknown-linux-gnu
  fi
fi
if [ "$LOCKDROP_TARGET" = x86_64-unknown-linux-gnu ]; then
  export RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static -C relocation-model=static"
fi
export LOCKDROP_TARGET
