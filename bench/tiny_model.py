"""The tiny Qwen2.5-VL on CPU: build time, size, sequence lengths, generation speed, and how fast it learns the
five-block format from synthetic SFT targets (a plain PyTorch loop, loss on the response only, images in).

This sizes the model for the quickstart: the SFT'd model must write five blocks on most held-out prompts
within minutes on 2 CPU cores.

    HF_HUB_OFFLINE=1 OMP_NUM_THREADS=1 .venv/bin/python bench/tiny_model.py [--steps 120] [--lr 3e-3]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import record  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=120)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--n", type=int, default=240, help="synthetic samples (train + 10%% held out)")
    ap.add_argument("--eval-every", type=int, default=40)
    ap.add_argument("--layers", type=int, default=None, help="override num_hidden_layers")
    ap.add_argument("--intermediate", type=int, default=None, help="override intermediate_size")
    ap.add_argument("--no-record", action="store_true")
    args = ap.parse_args()

    import torch

    from srpo.data.synth import write_synth
    from srpo.models.generate import generate
    from srpo.models.loading import load_model, load_processor
    from srpo.models.tiny import build_tiny_model, count_parameters
    from srpo.response import REFLECTION_SYSTEM_PROMPT, boxed, five_block_response, parse_response

    work = Path(tempfile.mkdtemp(prefix="srpo-bench-tiny-"))
    t0 = time.perf_counter()
    sizes = {"num_hidden_layers": args.layers, "intermediate_size": args.intermediate}
    model_dir = build_tiny_model(work / "model", **{k: v for k, v in sizes.items() if v is not None})
    build_s = time.perf_counter() - t0
    model, processor = load_model(model_dir), load_processor(model_dir)
    counts = count_parameters(model)
    summary = write_synth(work / "data", n=args.n, seed=0, test_fraction=0.1)

    from srpo.data.readers import read_samples

    rng = random.Random(0)
    reflections = [
        "The first attempt is correct: each step checks out.",
        "Let me recheck each step of the first attempt.",
    ]

    def conversation(s, with_target: bool):
        content = [
            {"type": "image", "image": str(summary.out_dir / s.images[0])},
            {"type": "text", "text": s.question},
        ]
        msgs = [{"role": "system", "content": REFLECTION_SYSTEM_PROMPT}, {"role": "user", "content": content}]
        if with_target:
            a = boxed(s.answer)
            target = five_block_response(s.rationale, a, rng.choice(reflections), s.rationale, a)
            msgs.append({"role": "assistant", "content": target})
        return msgs

    train = list(read_samples(summary.train_path))
    test = list(read_samples(summary.test_path))

    from srpo.models.generate import prepare_conversation

    def batch_of(samples):
        texts, prompts, images = [], [], []
        for s in samples:
            msgs, imgs = prepare_conversation(conversation(s, True))
            texts.append(processor.apply_chat_template(msgs, tokenize=False))
            prompts.append(
                processor.apply_chat_template(msgs[:-1], tokenize=False, add_generation_prompt=True)
            )
            images.extend(imgs)
        b = processor(text=texts, images=images, padding=True, padding_side="right", return_tensors="pt")
        labels = b["input_ids"].clone()
        labels[b["attention_mask"] == 0] = -100
        for i, (p, im) in enumerate(zip(prompts, images, strict=True)):
            n_prompt = len(processor(text=[p], images=[im])["input_ids"][0])
            labels[i, :n_prompt] = -100
        return b, labels

    seq_lens = [int(batch_of([s])[0]["attention_mask"].sum()) for s in train[:40]]

    def format_rate() -> tuple[float, float]:
        t = time.perf_counter()
        outs = generate(
            model, processor, [conversation(s, False) for s in test], max_new_tokens=200, temperature=0.0
        )
        rate = sum(parse_response(o[0].text).is_five_block for o in outs) / len(outs)
        return rate, time.perf_counter() - t

    base_rate, gen_s = format_rate()
    gen_tokens = len(test) * 200
    curve = [(0, base_rate, 0.0)]
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=args.lr, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: min(1.0, (k + 1) / 10))
    losses, step_times = [], []
    train_s = 0.0
    for step in range(1, args.steps + 1):
        model.train()
        t = time.perf_counter()
        b, labels = batch_of(rng.sample(train, args.batch))
        loss = model(**b, labels=labels).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad()
        dt = time.perf_counter() - t
        step_times.append(dt)
        train_s += dt
        losses.append(loss.item())
        if step % args.eval_every == 0 or step == args.steps:
            rate, _ = format_rate()
            curve.append((step, rate, train_s))
            print(
                f"step {step}: loss {statistics.mean(losses[-10:]):.3f}, five-block rate {rate:.2f}, {train_s:.0f}s training"
            )

    rows = "\n".join(f"| {s} | {r * 100:.0f}% | {ts:.0f} |" for s, r, ts in curve)
    body = f"""
Tiny Qwen2.5-VL ({model.config.text_config.num_hidden_layers} layers × {model.config.text_config.hidden_size}, intermediate {model.config.text_config.intermediate_size}): {counts["total"]:,} parameters ({counts["language"]:,} language incl.
tied embeddings, {counts["vision"]:,} vision); vocabulary {len(processor.tokenizer)}; built in {build_s:.1f} s.
Synthetic 168-px images = 36 image tokens; an SFT sequence (system prompt + image + question + five-block target)
is {statistics.median(seq_lens):.0f} tokens (median, max {max(seq_lens)}).

Greedy generation, {len(test)} prompts × 200 new tokens, batch 8: {gen_tokens / gen_s:.0f} tokens/s.

SFT learning curve (plain AdamW, lr {args.lr}, batch {args.batch}, loss on the response only, {len(train)} training
samples; five-block rate = share of {len(test)} held-out prompts whose greedy answer is exactly the five blocks;
median step {statistics.median(step_times):.2f} s):

| step | five-block rate | training s |
|---|---|---|
{rows}
"""
    print(body)
    if not args.no_record:
        record("Tiny model", body)


if __name__ == "__main__":
    main()
