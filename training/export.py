#!/usr/bin/env python3
"""Write trained checkpoints as a Tactus weight file (format v1, docs/weight-format.md).

    training/.venv/bin/python training/export.py OUT.tnn RUN/best.pt [MORE.pt ...]

Several checkpoints make an ensemble whose outputs Tactus averages. Mapping from PyTorch's
nn.LSTM (gate rows i, f, g, o of weight_ih/weight_hh/bias_ih/bias_hh) to Tactus's LSTM layer
(gates input, forget, cell, output; input-major matrices; one bias): W_gate = weight_ih[gate].T,
R_gate = weight_hh[gate].T, b_gate = bias_ih[gate] + bias_hh[gate], peepholes from peep_l<k>
(--peepholes models) or none, output
activation tanh, learned h0/c0 as the initial output and cell state; the model's input
standardisation (mean, std) is folded into the first layer (the dense ReLU front layer of
--front models, else the first LSTM). Dense layers are W = weight.T, b = bias.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools"))
import common  # noqa: E402
import tactus_weights as tw  # noqa: E402


def network_layers(model):
    sd = {k: v.detach().cpu().numpy().astype(np.float64) for k, v in model.state_dict().items()}
    U = model.units
    layers = []

    def fold_standardisation(w, b):
        """W·((x − m)/s) + b = (W/s)·x + (b − W·(m/s)), W as (outputs, inputs)."""
        m, s = sd["mean"], sd["std"]
        return w / s[None, :], b - w @ (m / s)
    if model.front is not None:
        w, b = fold_standardisation(sd["front.weight"], sd["front.bias"])
        layers.append(tw.dense_layer(w.T, b, "relu"))
    for l in range(model.layers):
        wih, whh = sd["lstm.weight_ih_l%d" % l], sd["lstm.weight_hh_l%d" % l]
        b = sd["lstm.bias_ih_l%d" % l] + sd["lstm.bias_hh_l%d" % l]
        if l == 0 and model.front is None:
            wih, b = fold_standardisation(wih, b)
        peep = sd.get("lstm.peep_l%d" % l)   # rows: input, forget, output gate
        gates = []
        for g in range(4):   # PyTorch order i, f, g, o = Tactus order input, forget, cell, output
            rows = slice(g * U, (g + 1) * U)
            p = None if peep is None or g == 2 else peep[{0: 0, 1: 1, 3: 2}[g]]
            gates.append({"weights": wih[rows].T, "bias": b[rows], "recurrent": whh[rows].T, "peephole": p})
        layers.append(tw.lstm_layer(gates, sd["h0"][l, 0], sd["c0"][l, 0], "tanh"))
    layers.append(tw.dense_layer(sd["out.weight"].T, sd["out.bias"], "sigmoid"))
    return layers


def signed_errors(tactus, tnn, files, offset=0.0):
    """Beat time − annotation of the predictive beats of `tactus track` with model TNN that lie
    within ±70 ms of an annotation (the nearest one), over FILES; OFFSET is emission.offset (s)."""
    import subprocess
    import tempfile
    errors = []
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([tactus, "track", "--model", tnn, "--output-dir", tmp, "--set", "emission.mode=predictive",
                        "--set", "emission.offset=%g" % offset] + [f[0] for f in files],
                       check=True, stderr=subprocess.DEVNULL)
        for audio, beats, _, _ in files:
            det = common.load_beats(os.path.join(tmp, os.path.splitext(os.path.basename(audio))[0] + ".beats.txt"))
            ann = common.load_beats(beats)
            for d in det:
                if len(ann):
                    a = ann[np.argmin(np.abs(ann - d))]
                    if abs(d - a) <= 0.07:
                        errors.append(d - a)
    return np.array(errors)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("output")
    p.add_argument("checkpoints", nargs="+")
    p.add_argument("--name", default="tactus-beats")
    p.add_argument("--license", default="CC BY 4.0 (models/LICENSE): trained on renderings of the Groove MIDI Dataset "
                   "(CC BY 4.0) and POP909 (MIT) and on the real train split of shared/data (models/MODEL_CARD.md)")
    p.add_argument("--calibrate", action="store_true",
                   help="measure the timing calibration (beat_offset) on the real training files and store it")
    p.add_argument("--cv-fold", type=int, choices=range(5), help="with --calibrate: the model's held-out fold")
    p.add_argument("--calibrate-on-cv", metavar="DIR",
                   help="with --calibrate and --cv-fold: measure the error instead on held-out files, each "
                        "fold's with DIR/fold<k>.tnn (the other folds' models of the same recipe, their own "
                        "beat_offset cancelled): the lag on unseen music, not on the files a network learnt")
    p.add_argument("--onset-mix", type=float, default=0.0, metavar="W",
                   help="share of Tactus's onset function mixed into the network's activation (metadata "
                        "onset_mix, 0 ... 1; 0: the network alone); --calibrate then measures the mix")
    p.add_argument("--tactus", help="tactus binary for --calibrate")
    args = p.parse_args()
    if not 0 <= args.onset_mix <= 1:
        raise SystemExit("export.py: --onset-mix must lie within 0 ... 1")
    networks, notes = [], []
    for path in args.checkpoints:
        model, ck = common.load_checkpoint(path)
        networks.append(network_layers(model))
        notes.append("%s (epoch %d, valid F %.3f)" % (os.path.basename(os.path.dirname(os.path.abspath(path))) + "/"
                                                     + os.path.basename(path), ck["epoch"], ck["valid_f"]))
    meta = {"name": args.name, "source": "training/train.py: " + "; ".join(notes), "license": args.license,
            "features": "madmom-online-beats", "fps": "100"}
    if args.onset_mix > 0:
        meta["onset_mix"] = "%g" % args.onset_mix
    data = tw.encode(networks, meta)
    with open(args.output, "wb") as f:
        f.write(data)
    if args.calibrate:
        # The model's timing calibration: minus the mean signed error of its predictive beats on
        # the real files it was trained on (the train split, or the other folds), offset 0.
        files = common.real_files("train") if args.cv_fold is None else \
            common.real_files(folds=[k for k in range(5) if k != args.cv_fold])
        files = [f for f in files if f[2] not in common.EXCLUDED_REAL]
        tactus = common.find_tactus(args.tactus)
        if args.calibrate_on_cv:
            if args.cv_fold is None:
                raise SystemExit("export.py: --calibrate-on-cv needs --cv-fold")
            parts = []
            for k in range(5):
                if k == args.cv_fold:
                    continue
                tnn = os.path.join(args.calibrate_on_cv, "fold%d.tnn" % k)
                if not os.path.exists(tnn):
                    raise SystemExit("export.py: %s is missing (recipe.sh fold %d, export %d)" % (tnn, k, k))
                held = [f for f in common.real_files(folds=[k]) if f[2] not in common.EXCLUDED_REAL]
                other = tw.read_metadata(open(tnn, "rb").read())
                if float(other.get("onset_mix", 0)) != args.onset_mix:
                    raise SystemExit("export.py: %s has onset_mix %s, not %g: export it with the same --onset-mix"
                                     % (tnn, other.get("onset_mix", "0"), args.onset_mix))
                own = float(other.get("beat_offset", 0))
                e = signed_errors(tactus, tnn, held, offset=-own)
                print("calibration: fold %d held out, %d matched beats, mean %+.1f ms" % (k, len(e), 1000 * np.mean(e)),
                      file=sys.stderr)
                parts.append(e)
            err = np.concatenate(parts)
        else:
            err = signed_errors(tactus, args.output, files)
        meta["beat_offset"] = "%.4f" % -np.mean(err)
        print("calibration: %d matched beats, mean signed error %+.1f ms: beat_offset %s s" % (
            len(err), 1000 * np.mean(err), meta["beat_offset"]), file=sys.stderr)
        data = tw.encode(networks, meta)
        with open(args.output, "wb") as f:
            f.write(data)
    print("wrote %s: %d network(s), %d bytes" % (args.output, len(networks), len(data)), file=sys.stderr)


if __name__ == "__main__":
    main()
