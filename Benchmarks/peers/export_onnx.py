#!/usr/bin/env python3
"""Exports a BERT-style sentence-transformers model (e.g. all-MiniLM-L6-v2) to ONNX.

Usage: export_onnx.py MODEL_DIR OUT.onnx

Loads MODEL_DIR offline with transformers AutoModel (eager attention) and writes an
opset-17 graph with int64 inputs input_ids, attention_mask, token_type_ids and output
last_hidden_state, all with dynamic batch and sequence axes. Pooling is left to the caller.
"""
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import torch
from transformers import AutoModel


class Wrapper(torch.nn.Module):
    """Returns only last_hidden_state as a plain tensor."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, token_type_ids):
        out = self.model(input_ids=input_ids, attention_mask=attention_mask,
                         token_type_ids=token_type_ids, return_dict=True)
        return out.last_hidden_state


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    model_dir, out_path = sys.argv[1], sys.argv[2]
    model = AutoModel.from_pretrained(model_dir, attn_implementation="eager").eval()
    wrapper = Wrapper(model).eval()
    ids = torch.tensor([[101, 7592, 2088, 102, 0], [101, 2023, 2003, 1037, 102]], dtype=torch.int64)
    mask = (ids != 0).to(torch.int64)
    types = torch.zeros_like(ids)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {n: {0: "batch", 1: "sequence"} for n in names}
    axes["last_hidden_state"] = {0: "batch", 1: "sequence"}
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(wrapper, (ids, mask, types), out_path, input_names=names,
                          output_names=["last_hidden_state"], dynamic_axes=axes,
                          opset_version=17, do_constant_folding=True, dynamo=False)
        ref = wrapper(ids, mask, types).numpy()

    # Check the graph and that ONNX Runtime reproduces the PyTorch output.
    import numpy as np
    import onnx
    import onnxruntime as ort

    onnx.checker.check_model(out_path)
    sess = ort.InferenceSession(out_path, providers=["CPUExecutionProvider"])
    got = sess.run(None, {"input_ids": ids.numpy(), "attention_mask": mask.numpy(),
                          "token_type_ids": types.numpy()})[0]
    diff = float(np.abs(got - ref).max())
    print(f"wrote {out_path} ({os.path.getsize(out_path)} bytes), max |ort - torch| = {diff:.2e}")
    if diff > 1e-3:
        sys.exit("ONNX output differs from PyTorch")


if __name__ == "__main__":
    main()
