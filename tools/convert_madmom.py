#!/usr/bin/env python3
"""Convert madmom 0.16.1's online beat networks (beats_lstm_1..8.pkl) into one Tactus weight file.

Run it with the madmom venv's Python (../shared/tools/setup-madmom.sh):

    $VENV/bin/python tools/convert_madmom.py OUT.tnn

madmom's model files are CC BY-NC-SA 4.0: the output is too. Never commit it; tests build it on
the fly. The output is an ensemble of 8 networks whose outputs Tactus averages, as madmom does.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tactus_weights as tw  # noqa: E402


def activation_name(fn):
    name = fn.__name__
    if name not in tw.ACTIVATIONS:
        raise SystemExit("unsupported activation function %r" % name)
    return name


def convert_network(path):
    from madmom.ml.nn import NeuralNetwork
    from madmom.ml.nn.layers import FeedForwardLayer, LSTMLayer

    nn = NeuralNetwork.load(path)
    layers = []
    for layer in nn.layers:
        if isinstance(layer, LSTMLayer):
            gates = []
            for name in ("input_gate", "forget_gate", "cell", "output_gate"):
                g = getattr(layer, name)
                peep = getattr(g, "peephole_weights", None)
                gates.append({"weights": g.weights, "bias": g.bias, "recurrent": g.recurrent_weights,
                              "peephole": None if peep is None else peep.flatten()})
            if any((g["peephole"] is None) != (i == 2 or gates[0]["peephole"] is None) for i, g in enumerate(gates)):
                raise SystemExit("%s: mixed peephole configuration is not supported" % path)
            layers.append(tw.lstm_layer(gates, layer.init, layer.cell_init, activation_name(layer.activation_fn)))
        elif isinstance(layer, FeedForwardLayer):
            layers.append(tw.dense_layer(layer.weights, layer.bias, activation_name(layer.activation_fn)))
        else:
            raise SystemExit("%s: unsupported layer type %s" % (path, type(layer).__name__))
    return layers


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("output", help="weight file to write")
    p.add_argument("--networks", type=int, default=8, help="use the first N of the 8 networks")
    args = p.parse_args()
    import madmom
    from madmom.models import BEATS_LSTM

    files = BEATS_LSTM[: args.networks]
    networks = [convert_network(f) for f in files]
    meta = {
        "name": "madmom-beats-lstm-2016",
        "source": "madmom %s %s" % (madmom.__version__, ", ".join(os.path.basename(f) for f in files)),
        "license": "CC BY-NC-SA 4.0 (madmom model files): do not redistribute",
        "features": "madmom-online-beats",
        "fps": "100",
        # Timing calibration of predictive beats (s): minus their mean signed error on the train
        # split with these networks and the offset at 0 (+9.2 ms since beats are predicted from
        # each frame's posterior; +6.0 ms with anchor + period); docs/weight-format.md.
        "beat_offset": "-0.009",
    }
    data = tw.encode(networks, meta)
    with open(args.output, "wb") as f:
        f.write(data)
    print("wrote %s: %d networks, %d bytes" % (args.output, len(networks), len(data)), file=sys.stderr)


if __name__ == "__main__":
    main()
