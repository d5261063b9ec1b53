"""Help for every option: the texts of options several verbs share, filled in where a verb
gives none, and a formatter that states each default (`fitml VERB --help`)."""
from __future__ import annotations

import argparse

SHARED = {
    "model": "the model file: .tflite, .onnx, .h5/.keras or .pt2 (torch.export.save)",
    "--target": "a board or core name (`fitml boards` lists them) or a board .toml file",
    "--json": "print JSON instead of text",
    "--input": "an input array (.npy, or .npz with one array per input); repeat for several "
               "inputs, in the model's input order",
    "--random": "seeded random inputs to compare on, besides those given with -i",
    "--input-shape": "fix an input's dynamic dims (.onnx, .h5/.keras; rank-4 shapes are NHWC)",
    "--executor": "reference (numpy, bit-exact to TFLite Micro), host (gcc, ASan/UBSan), qemu "
                  "(Cortex-M, exact instruction counts), tflm (TFLite Micro), litert (LiteRT's "
                  "default kernels, what a phone runs), litert-reference (LiteRT's reference "
                  "kernels)",
    "--output": "write the outputs to this .npz (output_0, output_1, ...)",
    "--format": "output format",
}


class DefaultsFormatter(argparse.HelpFormatter):
    """Appends "(default: X)" to an option's help unless it has no default worth stating
    (None, False, an empty list) or its help already speaks of the default."""

    def _get_help_string(self, action):
        text = action.help or ""
        default = action.default
        if default in (None, False, [], argparse.SUPPRESS) or "default" in text.lower() \
                or action.required:
            return text
        return f"{text} (default: %(default)s)"


def complete(parser: argparse.ArgumentParser) -> None:
    """Every subcommand: the shared help where an option has none, defaults stated."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                sub.formatter_class = DefaultsFormatter
                for opt in sub._actions:
                    if not opt.help:
                        key = next((o for o in opt.option_strings if o.startswith("--")),
                                   opt.dest)
                        opt.help = SHARED.get(key)
