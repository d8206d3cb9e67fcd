#!/usr/bin/env python3
"""Golden activations of a shipped model for the Swift conformance test: PyTorch's output of the
ensemble (the mean of the networks' sigmoid outputs, as Tactus averages them) on the features of
Tactus's embedded example (`tactus features --example`: a generated 120 BPM groove, 30 s).

    training/.venv/bin/python training/golden.py OUT.txt RUN/best.pt [MORE.pt ...]

The checkpoints must be those exported into the model under test (export.py, same order). The
Swift test (`Tests/TactusIOTests/BuiltinModelTests.swift`) computes the same features, runs the
built-in model frame by frame and compares with OUT to 1e-4. One value per line, 8 significant
digits, after a '#' header naming the checkpoints.
"""
import argparse
import os
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("output")
    p.add_argument("checkpoints", nargs="+")
    p.add_argument("--tactus")
    args = p.parse_args()
    import torch
    torch.set_num_threads(1)
    tactus = common.find_tactus(args.tactus)
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "x.npy")
        import subprocess
        subprocess.run([tactus, "features", "--example", "--output", out], check=True)
        x = np.load(out)
    acts = []
    with torch.no_grad():
        for path in args.checkpoints:
            model, _ = common.load_checkpoint(path)
            acts.append(torch.sigmoid(model(torch.from_numpy(x)[None])[0]).double().numpy())
    mean = np.mean(acts, axis=0)
    names = ", ".join(os.path.relpath(os.path.abspath(c), common.ROOT) for c in args.checkpoints)
    with open(args.output, "w") as f:
        f.write("# PyTorch activations of %s on `tactus features --example` (%d frames)\n" % (names, len(mean)))
        f.write("".join("%.8g\n" % v for v in mean))
    print("golden: %s, %d frames, activation %.3f..%.3f" % (args.output, len(mean), mean.min(), mean.max()),
          file=sys.stderr)


if __name__ == "__main__":
    main()
