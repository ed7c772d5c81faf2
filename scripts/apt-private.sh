# Sourced: apt_private DIR SUITE ARCHES — sets APT_PRIVATE (an array of apt
# options) for an apt state of its own under DIR: package lists of another
# Debian suite or architecture, read with apt-get download and apt-cache,
# without `dpkg --add-architecture` or touching the machine's apt state.
# `apt_private_update` fetches the lists (Packages only: no translations,
# DEP-11 or Contents).
apt_private() {
  local dir=$1 suite=$2 arches=$3
  mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $suite main" \
    >"$dir/sources.list"
  APT_PRIVATE=(-o "Dir::State::Lists=$dir/lists" -o "Dir::Etc::SourceList=$dir/sources.list"
    -o Dir::Etc::SourceParts=/nonexistent -o "Dir::Cache=$dir/cache" -o Dir::State::status=/dev/null
    -o Debug::NoLocking=1 -o Acquire::Languages=none -o APT::Sandbox::User=root
    -o Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=false
    -o Acquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled=false
    -o Acquire::IndexTargets::deb::DEP-11-icons-small::DefaultEnabled=false
    -o Acquire::IndexTargets::deb::Contents-deb::DefaultEnabled=false
    -o "APT::Architectures=$arches")
}
apt_private_update() {
  apt-get "${APT_PRIVATE[@]}" -qq update >&2
}
