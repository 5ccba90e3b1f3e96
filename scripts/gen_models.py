#!/usr/bin/python3
"""Writes workloads/models/*.yaml from the architecture definitions below.

The YAML files are what dcp reads; this script exists so the shapes can be reviewed as
architecture rules (stage widths, strides, block counts) instead of hundreds of hand-typed lines.
Run from the repository root: /usr/bin/python3 scripts/gen_models.py
"""
import os
import sys

MODELS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "workloads", "models")


def conv(name, in_channels, out_channels, size, kernel, stride=1, pad=0, count=1, groups=1):
    return {"name": name, "type": "conv", "in_channels": in_channels,
            "out_channels": out_channels, "groups": groups, "in_h": size, "in_w": size,
            "kernel": kernel, "stride": stride, "pad": pad, "count": count}


def dwconv(name, channels, size, stride, count=1):
    return {"name": name, "type": "dwconv", "channels": channels, "in_h": size, "in_w": size,
            "kernel": 3, "stride": stride, "pad": 1, "count": count}


def gemm(name, rows, in_features, out_features, count=1, kind="gemm", repeat=1):
    return {"name": name, "type": kind, "rows": rows, "in_features": in_features,
            "out_features": out_features, "repeat": repeat, "count": count}


def out_size(size, kernel, stride, pad):
    return (size + 2 * pad - kernel) // stride + 1


def macs(layer):
    if layer["type"] in ("gemm", "matmul"):
        per_instance = layer["rows"] * layer["in_features"] * layer["out_features"]
    else:
        rows = out_size(layer["in_h"], layer["kernel"], layer["stride"], layer["pad"])
        cols = out_size(layer["in_w"], layer["kernel"], layer["stride"], layer["pad"])
        if layer["type"] == "dwconv":
            channel_pairs = layer["channels"]
        else:
            channel_pairs = layer["in_channels"] * layer["out_channels"] // layer["groups"]
        per_instance = channel_pairs * rows * cols * layer["kernel"] ** 2
    return per_instance * layer.get("repeat", 1) * layer["count"]


def resnet(depth):
    """torchvision ResNet (v1.5: the stride sits on the 3x3 conv of the first block)."""
    blocks_per_stage = {50: [3, 4, 6, 3], 101: [3, 4, 23, 3]}[depth]
    layers = [conv("conv1", 3, 64, 224, 7, stride=2, pad=3)]
    in_channels, size = 64, 56  # after the 3x3 stride-2 max pool
    for stage, blocks in enumerate(blocks_per_stage, start=2):
        width = 64 * 2 ** (stage - 2)
        stride = 1 if stage == 2 else 2
        stage_size = size // stride
        prefix = f"conv{stage}"
        layers += [
            conv(f"{prefix}_1a", in_channels, width, size, 1),
            conv(f"{prefix}_1b", width, width, size, 3, stride=stride, pad=1),
            conv(f"{prefix}_1c", width, 4 * width, stage_size, 1),
            conv(f"{prefix}_1ds", in_channels, 4 * width, size, 1, stride=stride),
        ]
        # Blocks 2..n of a stage have identical shapes, so one entry with a count covers them.
        repeats = blocks - 1
        layers += [
            conv(f"{prefix}_2a", 4 * width, width, stage_size, 1, count=repeats),
            conv(f"{prefix}_2b", width, width, stage_size, 3, pad=1, count=repeats),
            conv(f"{prefix}_2c", width, 4 * width, stage_size, 1, count=repeats),
        ]
        in_channels, size = 4 * width, stage_size
    layers.append(gemm("fc", 1, 2048, 1000))
    return layers


def mobilenet_v2():
    """torchvision MobileNetV2, width 1.0: (expansion, out channels, blocks, first stride)."""
    stages = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
              (6, 160, 3, 2), (6, 320, 1, 1)]
    layers = [conv("conv1", 3, 32, 224, 3, stride=2, pad=1)]
    in_channels, size, block = 32, 112, 1

    def inverted_residual(block, in_channels, out_channels, size, expansion, stride, count):
        hidden = in_channels * expansion
        name = f"b{block}"
        expand = [conv(f"{name}_expand", in_channels, hidden, size, 1, count=count)] \
            if expansion != 1 else []
        return expand + [
            dwconv(f"{name}_dw", hidden, size, stride, count=count),
            conv(f"{name}_project", hidden, out_channels, out_size(size, 3, stride, 1), 1,
                 count=count),
        ]

    for expansion, out_channels, blocks, stride in stages:
        layers += inverted_residual(block, in_channels, out_channels, size, expansion, stride, 1)
        size = out_size(size, 3, stride, 1)
        block += 1
        if blocks > 1:
            # Blocks after the first of a stage share one shape; count covers all of them.
            layers += inverted_residual(block, out_channels, out_channels, size, expansion, 1,
                                        blocks - 1)
            block += blocks - 1
        in_channels = out_channels
    layers += [conv("conv_last", 320, 1280, size, 1), gemm("fc", 1, 1280, 1000)]
    return layers


def vgg16():
    """torchvision VGG-16 (configuration D): 3x3 pad-1 convs, 2x2 max pools between stages."""
    stages = [(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)]
    layers, in_channels, size = [], 3, 224
    for stage, (width, convs) in enumerate(stages, start=1):
        layers.append(conv(f"conv{stage}_1", in_channels, width, size, 3, pad=1))
        # The remaining convs of a stage repeat one shape; count covers conv<stage>_2.._<convs>.
        layers.append(conv(f"conv{stage}_2", width, width, size, 3, pad=1, count=convs - 1))
        in_channels, size = width, size // 2
    layers += [gemm("fc6", 1, 512 * 7 * 7, 4096), gemm("fc7", 1, 4096, 4096),
               gemm("fc8", 1, 4096, 1000)]
    return layers


def alexnet():
    """AlexNet as Krizhevsky et al. (NIPS 2012) trained it on two GPUs, the version the Eyeriss
    papers run: 227x227 input, CONV2, CONV4 and CONV5 in two groups."""
    return [conv("conv1", 3, 96, 227, 11, stride=4), conv("conv2", 96, 256, 27, 5, pad=2, groups=2),
            conv("conv3", 256, 384, 13, 3, pad=1), conv("conv4", 384, 384, 13, 3, pad=1, groups=2),
            conv("conv5", 384, 256, 13, 3, pad=1, groups=2), gemm("fc6", 1, 256 * 6 * 6, 4096),
            gemm("fc7", 1, 4096, 4096), gemm("fc8", 1, 4096, 1000)]


def encoder_block(tokens, hidden, heads, mlp, blocks):
    """One transformer encoder layer (fused QKV projection), repeated `blocks` times."""
    head_dim = hidden // heads
    return [
        gemm("qkv", tokens, hidden, 3 * hidden, count=blocks),
        gemm("attn_qk", tokens, head_dim, tokens, count=blocks, kind="matmul", repeat=heads),
        gemm("attn_av", tokens, tokens, head_dim, count=blocks, kind="matmul", repeat=heads),
        gemm("attn_proj", tokens, hidden, hidden, count=blocks),
        gemm("mlp_fc1", tokens, hidden, mlp, count=blocks),
        gemm("mlp_fc2", tokens, mlp, hidden, count=blocks),
    ]


def vit_b16():
    """ViT-B/16 at 224x224: 196 patches plus the class token, classifier on the class token."""
    return ([conv("patch_embed", 3, 768, 224, 16, stride=16)] +
            encoder_block(197, 768, 12, 3072, 12) + [gemm("head", 1, 768, 1000)])


def bert_base():
    """BERT-base encoder at sequence length 128; embeddings are lookups and cost no MACs."""
    return encoder_block(128, 768, 12, 3072, 12)


# name -> (layers, stated total MACs, where the figure comes from). The stated figure is the
# published one at the precision it was published; the check in main() and the C++ tests compare
# the layer-by-layer count against it.
MODELS = {
    "alexnet": (alexnet(), 724000000,
                "Sze et al., Proc. IEEE 2017 (Efficient Processing of Deep Neural Networks), "
                "Table III: AlexNet 724M MACs (CONV 666M, FC 58.6M)"),
    "resnet50": (resnet(50), 4090000000,
                 "torchvision ResNet50_Weights.IMAGENET1K_V1: 4.09 GFLOPS (multiply-adds)"),
    "resnet101": (resnet(101), 7800000000,
                  "torchvision ResNet101_Weights.IMAGENET1K_V1: 7.80 GFLOPS (multiply-adds)"),
    "mobilenet_v2": (mobilenet_v2(), 300000000,
                     "Sandler et al. 2018 (MobileNetV2), Table 4: 300M multiply-adds; "
                     "torchvision MobileNet_V2_Weights: 0.30 GFLOPS"),
    "vgg16": (vgg16(), 15470000000,
              "torchvision VGG16_Weights.IMAGENET1K_V1: 15.47 GFLOPS (multiply-adds)"),
    "vit_b16": (vit_b16(), 17560000000,
                "torchvision ViT_B_16_Weights.IMAGENET1K_V1: 17.56 GFLOPS (multiply-adds)"),
    "bert_base": (bert_base(), 11173625856,
                  "no official total; exact count of the encoder matmuls for the BERT-base "
                  "shapes of Devlin et al. 2019 (12 layers, hidden 768, 12 heads, FFN 3072) "
                  "at sequence length 128"),
}

KEY_ORDER = ["name", "type", "in_channels", "out_channels", "channels", "groups", "rows",
             "in_features", "out_features", "in_h", "in_w", "kernel", "stride", "pad", "repeat",
             "count"]
DEFAULTS = {"stride": 1, "pad": 0, "repeat": 1, "count": 1, "groups": 1}


def layer_line(layer):
    fields = [f"{key}: {layer[key]}" for key in KEY_ORDER
              if key in layer and DEFAULTS.get(key) != layer[key]]
    return "  - {" + ", ".join(fields) + "}"


def main():
    failures = 0
    for name, (layers, stated, source) in MODELS.items():
        total = sum(macs(layer) for layer in layers)
        deviation = (total - stated) / stated
        print(f"{name}: {total} MACs, stated {stated} ({deviation:+.3%})")
        if abs(deviation) > 0.01:
            failures += 1
        lines = ["# Generated by scripts/gen_models.py; edit the script, not this file.",
                 f"name: {name}", f"stated_macs: {stated}",
                 f'stated_macs_source: "{source}"', "layers:"]
        lines += [layer_line(layer) for layer in layers]
        with open(os.path.join(MODELS_DIR, f"{name}.yaml"), "w") as out:
            out.write("\n".join(lines) + "\n")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
