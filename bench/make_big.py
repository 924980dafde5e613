#!/usr/bin/python3
"""Write the large benchmark inputs (the same set as /work/shared/research/perf.md's make_big).

    /usr/bin/python3 bench/make_big.py [OUT_DIR]      # default /tmp/modelgate-bench, ~4.3 GiB

Needs Debian's python3-torch, python3-joblib and python3-sklearn (use /usr/bin/python3).
Tensors are torch.randn float32, so neither compression nor dedup can shortcut the work.
Every file is written under OUT_DIR/.partial/ and renamed into place when complete, so a
file that exists with a size in its expected range is complete and is skipped.

| file                    | what                                                                  |
|-------------------------|-----------------------------------------------------------------------|
| torch_tiny.pt           | torch.save zip, one 64x64 tensor (start-up cost)                      |
| torch_zip_1g.pt         | torch.save zip, 128 x (2048x1024) weights + 128 x (1024,) biases      |
| torch_legacy_512m.pt    | same layout with 64 + 64 tensors, _use_new_zipfile_serialization=False|
| joblib_512m.joblib      | joblib.dump(compress=0) of 32 x 2048^2 float32 + "zz_model" LogReg    |
| pickle_many_small.pkl   | protocol-4 pickle, list of 2,000,000 small dict/list/str/tuple records|
| hf_dir/                 | 3 torch-zip shards x 176 x (1024x1024) + config.json + index.json     |
"""
import json
import os
import pickle
import shutil
import sys
import time

import joblib
import numpy as np
import torch
from sklearn.linear_model import LogisticRegression

OUT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "/tmp/modelgate-bench")
PARTIAL = os.path.join(OUT, ".partial")
MiB = 1 << 20
F32 = 4


def have(rel, lo, hi):
    p = os.path.join(OUT, rel)
    if os.path.isfile(p) and lo <= os.path.getsize(p) <= hi:
        print(f"skip  {rel} ({os.path.getsize(p):,} bytes, already there)")
        return True
    return False


def tensor_range(payload):
    """Accepted size of a file holding `payload` tensor bytes: headers add well under 1%."""
    return payload, payload + max(MiB, payload // 100)


def publish(rel, write):
    """Call write(tmp_path) with a temp path of the same basename, then rename it into place."""
    t0 = time.time()
    dest = os.path.join(OUT, rel)
    tmp = os.path.join(PARTIAL, rel)
    os.makedirs(os.path.dirname(tmp), exist_ok=True)
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    write(tmp)  # same basename: torch.save names the archive's root folder after it
    os.replace(tmp, dest)
    print(f"wrote {rel} ({os.path.getsize(dest):,} bytes, {time.time() - t0:.1f} s)")


def layer_state(n_layers, seed):
    g = torch.Generator().manual_seed(seed)
    sd = {}
    for i in range(n_layers):
        sd[f"layers.{i}.weight"] = torch.randn(2048, 1024, generator=g)
        sd[f"layers.{i}.bias"] = torch.randn(1024, generator=g)
    return sd


def torch_tiny():
    lo, hi = 64 * 64 * F32, 64 * 1024
    if not have("torch_tiny.pt", lo, hi):
        t = torch.randn(64, 64, generator=torch.Generator().manual_seed(0))
        publish("torch_tiny.pt", lambda p: torch.save({"w": t}, p))


def torch_zip_1g():
    lo, hi = tensor_range(128 * (2048 * 1024 + 1024) * F32)
    if not have("torch_zip_1g.pt", lo, hi):
        sd = layer_state(128, 1)
        publish("torch_zip_1g.pt", lambda p: torch.save(sd, p))


def torch_legacy_512m():
    lo, hi = tensor_range(64 * (2048 * 1024 + 1024) * F32)
    if not have("torch_legacy_512m.pt", lo, hi):
        sd = layer_state(64, 2)
        publish("torch_legacy_512m.pt", lambda p: torch.save(sd, p, _use_new_zipfile_serialization=False))


def joblib_512m():
    lo, hi = tensor_range(32 * 2048 * 2048 * F32)
    if not have("joblib_512m.joblib", lo, hi):
        g = torch.Generator().manual_seed(3)
        obj = {f"w{i:02d}": torch.randn(2048, 2048, generator=g).numpy() for i in range(32)}
        rs = np.random.RandomState(0)
        X = rs.randn(100, 8)
        obj["zz_model"] = LogisticRegression().fit(X, (X[:, 0] > 0).astype(int))
        publish("joblib_512m.joblib", lambda p: joblib.dump(obj, p, compress=0))


def small_record(i):
    k = i % 4
    if k == 0:
        return {"id": i, "name": "item-%07d/alpha-beta-gamma-delta-epsilon-zeta-eta-theta-iota-kappa" % i,
                "score": i * 0.25, "tags": ("x", i), "ok": True}
    if k == 1:
        return [i, i * 2, "value-%07d/the-quick-brown-fox-jumps-over-the-lazy-dog-once-more" % i, None, i * 0.125, -i]
    if k == 2:
        return "record %07d: the quick brown fox jumps over the lazy dog, again and again, and again and again." % i
    return (i, "tuple-%07d/lorem-ipsum-dolor-sit-amet-consectetur-adipiscing-elit-sed" % i, i * 0.5, False)


def pickle_many_small():
    # ~200 MB, ~19.5 M opcodes, 4.0 M memo entries (perf.md's file: 205 MB, 19.0 M, 4.0 M).
    if not have("pickle_many_small.pkl", 150_000_000, 260_000_000):
        records = [small_record(i) for i in range(2_000_000)]

        def write(p):
            with open(p, "wb") as f:
                pickle.dump(records, f, protocol=4)
        publish("pickle_many_small.pkl", write)


HF_SHARDS = 3
HF_PER_SHARD = 176
HF_PARTS = ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj")


def hf_name(k):
    return f"model.layers.{k // len(HF_PARTS)}.{HF_PARTS[k % len(HF_PARTS)]}.weight"


def hf_dir():
    payload = HF_PER_SHARD * 1024 * 1024 * F32
    lo, hi = tensor_range(payload)
    weight_map = {}
    for s in range(HF_SHARDS):
        shard = f"pytorch_model-{s + 1:05d}-of-{HF_SHARDS:05d}.bin"
        names = [hf_name(s * HF_PER_SHARD + j) for j in range(HF_PER_SHARD)]
        weight_map.update({n: shard for n in names})
        rel = f"hf_dir/{shard}"
        if not have(rel, lo, hi):
            g = torch.Generator().manual_seed(10 + s)
            sd = {n: torch.randn(1024, 1024, generator=g) for n in names}
            publish(rel, lambda p: torch.save(sd, p))
            del sd
    layers = HF_SHARDS * HF_PER_SHARD // len(HF_PARTS)
    config = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 1024,
              "intermediate_size": 1024, "num_attention_heads": 8, "num_hidden_layers": layers,
              "vocab_size": 32000, "torch_dtype": "float32", "transformers_version": "4.30.0"}
    index = {"metadata": {"total_size": HF_SHARDS * payload}, "weight_map": weight_map}
    for rel, obj in (("hf_dir/config.json", config), ("hf_dir/pytorch_model.bin.index.json", index)):
        with open(os.path.join(OUT, rel), "w") as f:
            json.dump(obj, f, indent=2)
            f.write("\n")


def main():
    os.makedirs(OUT, exist_ok=True)
    free = shutil.disk_usage(OUT).free
    print(f"out: {OUT} ({free / 2**30:.1f} GiB free); torch {torch.__version__}, joblib {joblib.__version__}")
    t0 = time.time()
    for step in (torch_tiny, torch_zip_1g, torch_legacy_512m, joblib_512m, pickle_many_small, hf_dir):
        step()
    shutil.rmtree(PARTIAL, ignore_errors=True)
    total = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(OUT) for f in fs)
    print(f"done in {time.time() - t0:.1f} s; {OUT} holds {total / 2**30:.2f} GiB")


if __name__ == "__main__":
    main()
