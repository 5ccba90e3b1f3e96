#!/usr/bin/python3
"""Writes tests/data/tiny_net.onnx, the small real model `dcp import` is tested on.

A tiny CNN (conv, depthwise conv, pointwise and grouped convs, global pool, FC) whose last
feature map also feeds one attention block (fused QKV projection, Q.K^T and A.V over two heads,
output projection), laid out the way torch.onnx.export writes such models. Weights are random:
only the shapes matter. tests/data/tiny_net.yaml holds the hand-checked layers it must import as.
Run from the repository root: /usr/bin/python3 scripts/gen_test_onnx.py
"""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper

OUT_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data",
                        "tiny_net.onnx")
TOKENS, WIDTH, HEADS = 64, 16, 2
HEAD_DIM = WIDTH // HEADS

rng = np.random.default_rng(1)
initializers = []
nodes = []


def weight(name, shape):
    values = rng.standard_normal(shape).astype(np.float32)
    initializers.append(helper.make_tensor(name, TensorProto.FLOAT, shape, values.flatten()))
    return name


def ints(name, values):
    initializers.append(helper.make_tensor(name, TensorProto.INT64, [len(values)], values))
    return name


def node(op, name, inputs, **attributes):
    output = name + "_out"
    nodes.append(helper.make_node(op, inputs, [output], name=name, **attributes))
    return output


def conv(name, x, in_channels, out_channels, kernel, stride=1, pad=0, group=1):
    w = weight(name + ".weight", [out_channels, in_channels // group, kernel, kernel])
    return node("Conv", name, [x, w], kernel_shape=[kernel, kernel], strides=[stride, stride],
                pads=[pad] * 4, group=group)


x = conv("/features/conv1/Conv", "input", 3, 8, 3, stride=2, pad=1)
x = node("Relu", "/features/relu1/Relu", [x])
x = conv("/features/dw/Conv", x, 8, 8, 3, pad=1, group=8)
x = conv("/features/pw1/Conv", x, 8, 16, 1)
x = conv("/features/grouped/Conv", x, 16, 16, 3, pad=1, group=4)
x = conv("/features/pw2a/Conv", x, 16, 16, 1)
features = conv("/features/pw2b/Conv", x, 16, 16, 1)

pooled = node("GlobalAveragePool", "/pool/GlobalAveragePool", [features])
flat = node("Flatten", "/flatten/Flatten", [pooled], axis=1)
logits = node("Gemm", "/fc/Gemm", [flat, weight("fc.weight", [10, 16]), weight("fc.bias", [10])],
              transB=1)

tokens = node("Reshape", "/attn/to_tokens/Reshape", [features, ints("tokens_shape", [1, 16, 64])])
tokens = node("Transpose", "/attn/to_tokens/Transpose", [tokens], perm=[0, 2, 1])
qkv = node("MatMul", "/attn/qkv/MatMul", [tokens, weight("qkv.weight", [WIDTH, 3 * WIDTH])])
nodes.append(helper.make_node("Split", [qkv, ints("qkv_split", [WIDTH] * 3)], ["q", "k", "v"],
                              name="/attn/Split", axis=2))
heads_shape = ints("heads_shape", [1, TOKENS, HEADS, HEAD_DIM])


def to_heads(name, tensor, perm):
    reshaped = node("Reshape", f"/attn/{name}/Reshape", [tensor, heads_shape])
    return node("Transpose", f"/attn/{name}/Transpose", [reshaped], perm=perm)


q = to_heads("q", "q", [0, 2, 1, 3])
k_t = to_heads("k", "k", [0, 2, 3, 1])
v = to_heads("v", "v", [0, 2, 1, 3])
scores = node("MatMul", "/attn/qk/MatMul", [q, k_t])
probabilities = node("Softmax", "/attn/Softmax", [scores], axis=-1)
context = node("MatMul", "/attn/av/MatMul", [probabilities, v])
context = node("Transpose", "/attn/merge/Transpose", [context], perm=[0, 2, 1, 3])
context = node("Reshape", "/attn/merge/Reshape", [context, ints("merge_shape", [1, TOKENS, WIDTH])])
attended = node("MatMul", "/attn/proj/MatMul", [context, weight("proj.weight", [WIDTH, WIDTH])])

graph = helper.make_graph(
    nodes, "tiny_net",
    [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 16, 16])],
    [helper.make_tensor_value_info(logits, TensorProto.FLOAT, [1, 10]),
     helper.make_tensor_value_info(attended, TensorProto.FLOAT, [1, TOKENS, WIDTH])],
    initializers)
model = helper.make_model(graph, producer_name="scripts/gen_test_onnx.py",
                          opset_imports=[helper.make_opsetid("", 13)])
onnx.checker.check_model(model)
onnx.shape_inference.infer_shapes(model, strict_mode=True)
os.makedirs(os.path.dirname(OUT_PATH), exist_ok=True)
onnx.save(model, OUT_PATH)
print(f"wrote {OUT_PATH} ({os.path.getsize(OUT_PATH)} bytes)")
