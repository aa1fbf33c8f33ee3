# Shared by the scripts: where the tools and the build output are, and quiet, offline Trunk.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH="$root/tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"
export TRUNK_SKIP_VERSION_CHECK=true
target_dir=${CARGO_TARGET_DIR:-$root/target}
cd "$root"
