#!/bin/sh
# Creates training/.venv with the pinned packages of training/requirements.txt, and installs the
# Debian packages the renderer needs (fluidsynth and GM soundfonts) when run as root.
#
#   training/setup-venv.sh            # from the repository root or anywhere
#
# torch: the CPU-only wheel from the PyTorch index when it answers (about 200 MB), else PyPI's
# wheel (which pulls CUDA libraries, a few GB, and runs on the CPU just the same).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
venv="$here/.venv"
python=${PYTHON:-python3}

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    if ! command -v fluidsynth >/dev/null || [ ! -e /usr/share/sounds/sf2/FluidR3_GM.sf2 ]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
            fluidsynth fluid-soundfont-gm timgm6mb-soundfont musescore-general-soundfont-small opl3-soundfont
    fi
elif ! command -v fluidsynth >/dev/null; then
    echo "setup-venv.sh: install fluidsynth and fluid-soundfont-gm (apt) to render training audio" >&2
fi

[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
pip="$venv/bin/pip"
"$pip" install -q --upgrade pip
torch_pin=$(grep '^torch==' "$here/requirements.txt")
if ! "$venv/bin/python" -c 'import torch' 2>/dev/null; then
    if ! timeout 600 "$pip" install -q --timeout 20 --retries 1 \
            --index-url https://download.pytorch.org/whl/cpu "$torch_pin"; then
        echo "setup-venv.sh: the PyTorch CPU index is unreachable: installing torch from PyPI" >&2
        "$pip" install -q "$torch_pin"
    fi
fi
"$pip" install -q -r "$here/requirements.txt"
"$venv/bin/python" -c 'import torch, numpy, scipy, soundfile, pretty_midi, mido
print("training venv ok: torch", torch.__version__, "numpy", numpy.__version__)'
