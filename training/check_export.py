#!/usr/bin/env python3
"""Check that an exported weight file gives in Tactus the activations PyTorch computes (to 1e-4).

    training/.venv/bin/python training/check_export.py [--checkpoint RUN/best.pt ...] [--model X.tnn] [--audio FILE]

Without --checkpoint it checks a randomly initialised model (random learned initial states too),
which tests the export mapping before any training. Several checkpoints are an ensemble (Tactus
averages the networks' outputs); --model checks an existing weight file made from them (e.g.
models/tactus-beats-v1.tnn) instead of a fresh export. Steps: export to a temporary .tnn
(export.py), features of the audio by `tactus features`, PyTorch activations on them from the
initial state, `tactus track --model X.tnn --activations` (the per-frame activation column), then
the largest absolute difference. With an onset mix (the model's `onset_mix`, or --onset-mix for
a fresh export) it also checks the blended activation Tactus tracks against
(1 − mix)·PyTorch + mix·common.onset_activation (the Python port of the onset function that
mix-aware training, train.py --onset-mix, uses). Exit status 1 when either is above --tolerance.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import export  # noqa: E402
import tactus_weights as tw  # noqa: E402  (export.py put tools/ on the path)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", action="append", default=[])
    p.add_argument("--model",
                   help="check this weight file (made from the --checkpoint files) instead of exporting them")
    p.add_argument("--audio", default=os.path.join(common.SHARED_DATA, "misc_excerpts", "audio",
                                                   "ballroom_Media-105901.wav"))
    p.add_argument("--tactus")
    p.add_argument("--peepholes", action="store_true", help="random model with peephole connections")
    p.add_argument("--front", type=int, default=0, help="random model with a dense ReLU front layer of this many units")
    p.add_argument("--onset-mix", type=float, default=0.0, metavar="W",
                   help="also check the blend with the onset function at this mix (default: the model's own onset_mix)")
    p.add_argument("--tolerance", type=float, default=1e-4)
    args = p.parse_args()
    import torch
    torch.set_num_threads(1)
    tactus = common.find_tactus(args.tactus)
    if args.checkpoint:
        models = [common.load_checkpoint(c)[0] for c in args.checkpoint]
    else:
        torch.manual_seed(7)
        model = common.build_model(units=25, layers=3, peepholes=args.peepholes, front=args.front)
        with torch.no_grad():
            for name, w in model.named_parameters():   # larger weights: gates that move
                if name.startswith("lstm.weight") or name.startswith("out.weight") or name.startswith("front.weight"):
                    w.mul_(4.0)
            for name, w in model.named_parameters():
                if "peep" in name:
                    w.uniform_(-1.0, 1.0)
            model.mean.uniform_(0.0, 1.0)
            model.std.uniform_(0.2, 1.0)
            model.h0.uniform_(-0.5, 0.5)
            model.c0.uniform_(-0.5, 0.5)
            model.out.bias.fill_(-1.0)
        model.eval()
        models = [model]
    with tempfile.TemporaryDirectory() as tmp:
        tnn, blended = os.path.join(tmp, "m.tnn"), os.path.join(tmp, "blended.tnn")
        mix = args.onset_mix
        if args.model:
            with open(args.model, "rb") as src:
                weights = src.read()
            mix = mix or float(tw.read_metadata(weights).get("onset_mix", 0))
            # The network alone: without the onset function a model may mix in (onset_mix).
            with open(args.model, "rb") as src, open(tnn, "wb") as f:
                f.write(tw.with_metadata(src.read(), {"onset_mix": None}))
        else:
            with open(tnn, "wb") as f:
                f.write(tw.encode([export.network_layers(m) for m in models], {"name": "check", "fps": "100"}))
        if mix > 0:
            with open(tnn, "rb") as src, open(blended, "wb") as f:
                f.write(tw.with_metadata(src.read(), {"onset_mix": "%g" % mix}))
        x = common.tactus_features(tactus, args.audio, os.path.join(tmp, "f.npy"))
        with torch.no_grad():
            ref = np.mean([torch.sigmoid(m(torch.from_numpy(x)[None])[0]).double().numpy() for m in models], axis=0)
        failed = compare(tactus, args.audio, tnn, ref, "torch", args.tolerance, tmp)
        if mix > 0:
            ref = (1 - mix) * ref + mix * common.onset_activation(x)
            failed |= compare(tactus, args.audio, blended, ref, "blend %g" % mix, args.tolerance, tmp)
    if failed:
        print("check_export: FAILED: above the tolerance %.0e" % args.tolerance)
        sys.exit(1)
    print("check_export: ok (tolerance %.0e)" % args.tolerance)


def compare(tactus, audio, tnn, ref, what, tolerance, tmp):
    """Tactus's activation column with weight file TNN against REF; True when it fails."""
    acts = os.path.join(tmp, "act.txt")
    subprocess.run([tactus, "track", audio, "--model", tnn, "--activations", acts],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    swift = np.loadtxt(acts, comments="#", ndmin=2)[:, 1]
    if len(swift) != len(ref):
        print("check_export: frame counts differ: tactus %d, features %d" % (len(swift), len(ref)))
        return True
    diff = np.abs(swift - ref)
    # tactus prints activations with 6 decimals: up to 5e-7 of the difference is rounding.
    print("check_export: %s, %d frames, activation range %.3f..%.3f, max |tactus - %s| = %.2e (frame %d), mean %.2e" % (
        os.path.basename(audio), len(ref), ref.min(), ref.max(), what, diff.max(), diff.argmax(), diff.mean()))
    return bool(diff.max() > tolerance)


if __name__ == "__main__":
    main()
