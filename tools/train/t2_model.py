"""The t2 time-series transformer (Allam, Peloton & McEwen 2023), as Alerts trains and ships it.

Architecture (the shape FINK deployed for ZTF): a 1x1 convolutional embedding from the band channels to
d_model, a fixed sinusoidal positional encoding, N transformer encoder blocks (multi-head self-attention,
residual, LayerNorm, feed-forward, residual, LayerNorm), global average pooling over time, and a dense layer
to the 14 t2 classes followed by softmax.

The class defaults are FINK's shape (d_model 32, 16 heads of width 2, feed-forward 128). The shipped models use 4 heads
of width 8 (train_t2.py --heads): the [heads, 100, 100] score tensor, and its 100 exps per score row, dominate CPU
inference. Fine-tuned from the 16-head weights (q/k/v/o keep their shapes), the 4-head models reached a better held-out
loss; they also trained for more epochs, so that is not a head-count ablation (models/t2-ztf.md).

Attention is written out with separate q/k/v/o projections instead of nn.MultiheadAttention so that the
exported ONNX graph is plain MatMul/Add/Reshape/Transpose/Softmax: the compression stage (src/Compression)
recognises heads and feed-forward neurons in it and prunes them structurally.

Input:  "input"          float32 [batch, steps, bands]   (GP means on the time grid, robust-scaled)
Output: "probabilities"  float32 [batch, 14]             (softmax of logits / T, FINK T2_COLS class order; T = 1
                                                          unless calibrated)
"""
import json
import math
import os

import torch
from torch import nn

# FINK's T2_COLS order; src/Core/Classification.cs T2Classes.Names holds the same list.
CLASSES = [
    "mu-Lens-Single", "TDE", "EB", "SNII", "SNIax", "Mira", "SNIbc", "KN",
    "M-dwarf", "SNIa-91bg", "AGN", "SNIa", "RRL", "SLSN-I",
]

ZTF_BANDS = ["ztfg", "ztfr"]
LSST_BANDS = ["lsstu", "lsstg", "lsstr", "lssti", "lsstz", "lssty"]


def sinusoidal_encoding(steps: int, d_model: int) -> torch.Tensor:
    """Vaswani et al. (2017) positional encoding, [steps, d_model]."""
    pos = torch.arange(steps, dtype=torch.float32).unsqueeze(1)
    div = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float32) * (-math.log(10000.0) / d_model))
    pe = torch.zeros(steps, d_model)
    pe[:, 0::2] = torch.sin(pos * div)
    pe[:, 1::2] = torch.cos(pos * div)
    return pe


class MultiHeadSelfAttention(nn.Module):
    def __init__(self, d_model: int, n_heads: int, steps: int):
        super().__init__()
        assert d_model % n_heads == 0
        self.n_heads, self.head_dim, self.steps = n_heads, d_model // n_heads, steps
        self.q = nn.Linear(d_model, d_model)
        self.k = nn.Linear(d_model, d_model)
        self.v = nn.Linear(d_model, d_model)
        self.o = nn.Linear(d_model, d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Shapes use -1 for the batch so the exported graph keeps a dynamic batch with constant reshape targets.
        h, dh, t = self.n_heads, self.head_dim, self.steps
        q = self.q(x).reshape(-1, t, h, dh).transpose(1, 2)          # [B, H, T, Dh]
        k = self.k(x).reshape(-1, t, h, dh).permute(0, 2, 3, 1)      # [B, H, Dh, T]
        v = self.v(x).reshape(-1, t, h, dh).transpose(1, 2)          # [B, H, T, Dh]
        att = torch.softmax(torch.matmul(q, k) * (1.0 / math.sqrt(dh)), dim=-1)
        y = torch.matmul(att, v).transpose(1, 2).reshape(-1, t, h * dh)
        return self.o(y)


class EncoderBlock(nn.Module):
    def __init__(self, d_model: int, n_heads: int, ff_dim: int, steps: int, dropout: float):
        super().__init__()
        self.attn = MultiHeadSelfAttention(d_model, n_heads, steps)
        self.ln1 = nn.LayerNorm(d_model, eps=1e-6)
        self.ff1 = nn.Linear(d_model, ff_dim)
        self.ff2 = nn.Linear(ff_dim, d_model)
        self.ln2 = nn.LayerNorm(d_model, eps=1e-6)
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.ln1(x + self.drop(self.attn(x)))
        return self.ln2(x + self.drop(self.ff2(torch.relu(self.ff1(x)))))


class T2(nn.Module):
    def __init__(self, n_bands: int, steps: int = 100, d_model: int = 32, n_heads: int = 16,
                 ff_dim: int = 128, n_blocks: int = 1, n_classes: int = len(CLASSES), dropout: float = 0.1):
        super().__init__()
        self.config = dict(n_bands=n_bands, steps=steps, d_model=d_model, n_heads=n_heads,
                           ff_dim=ff_dim, n_blocks=n_blocks, n_classes=n_classes, dropout=dropout)
        self.embed = nn.Conv1d(n_bands, d_model, kernel_size=1)
        self.register_buffer("pe", sinusoidal_encoding(steps, d_model))
        self.blocks = nn.ModuleList(EncoderBlock(d_model, n_heads, ff_dim, steps, dropout) for _ in range(n_blocks))
        self.head = nn.Linear(d_model, n_classes)
        # Calibration temperature (fitted on held-out real objects, train_real.py): forward returns softmax(logits / T).
        # Not a parameter or buffer, so state_dicts stay the same shape; at 1.0 the exported graph has no Div.
        self.temperature = 1.0
        # Optional per-class logit offsets fitted with the temperature (prior shift from the balanced training mix to the
        # sky's); None leaves the graph without the Add.
        self.logit_bias = None

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        x = self.embed(x.transpose(1, 2)).transpose(1, 2) + self.pe   # [B, T, D]
        for block in self.blocks:
            x = block(x)
        return self.head(x.mean(dim=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.logits(x)
        if self.temperature != 1.0:
            z = z / self.temperature
        if self.logit_bias is not None:
            z = z + self.logit_bias
        return torch.softmax(z, dim=-1)


def load_trained(state_path: str, n_bands: int) -> T2:
    """Loads a trained state_dict with the shape it was trained with. The head count is not in the state_dict (a 4-head
    and a 16-head model have the same tensors, so the wrong one would load silently and compute something else): it
    comes from the `<stem>.metrics.json` train_t2.py writes beside the .pt, else FINK's 16."""
    cfg = {}
    metrics = os.path.splitext(state_path)[0] + ".metrics.json"
    if os.path.exists(metrics):
        hp = json.load(open(metrics)).get("hyper_parameters", {})
        cfg = {k: hp[k] for k in ("d_model", "n_heads", "ff_dim", "n_blocks") if k in hp}
    model = T2(n_bands, **cfg)
    model.load_state_dict(torch.load(state_path))
    return model


def export_onnx(model: T2, path: str, opset: int = 17, temperature: float = None, logit_bias=None) -> None:
    """Exports with a dynamic batch axis; names: input -> probabilities. temperature (and logit_bias), if given, are set
    on the model and become a constant Div (and Add) before the softmax."""
    if temperature is not None:
        model.temperature = float(temperature)
    if logit_bias is not None:
        model.logit_bias = torch.tensor(logit_bias, dtype=torch.float32)
    model.eval()
    cfg = model.config
    dummy = torch.zeros(1, cfg["steps"], cfg["n_bands"])
    torch.onnx.export(model, dummy, path, opset_version=opset, do_constant_folding=True,
                      input_names=["input"], output_names=["probabilities"],
                      dynamic_axes={"input": {0: "batch"}, "probabilities": {0: "batch"}})


if __name__ == "__main__":
    # Smoke check: build both shipped shapes, run, export to a temp folder and count parameters.
    import sys, tempfile, os
    for bands in (ZTF_BANDS, LSST_BANDS):
        m = T2(len(bands))
        n = sum(p.numel() for p in m.parameters())
        out = m(torch.randn(3, 100, len(bands)))
        assert out.shape == (3, 14) and torch.allclose(out.sum(-1), torch.ones(3))
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "t2.onnx")
            export_onnx(m, p)
            print(f"{len(bands)} bands: {n} parameters, onnx {os.path.getsize(p)} bytes", file=sys.stderr)
