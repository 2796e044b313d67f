"""check_dump.py - `attnscope dump` against the PyTorch reference, end to end:
the ids, the greedy tokens and every attention map of the JSON must equal
what t5_ref.py computes for the same model folder, in Hugging Face's layout
(per layer [heads][query][key]).

    /usr/bin/python3 tests/reference/check_dump.py BIN MODEL_DIR [TEXT [TARGET]]

Text is tokenised as attnscope does it: the folder's spiece.model through
python3-sentencepiece when there is one, else ByT5 bytes.
Exit status 0 when everything agrees to 1e-5. Not part of `make test`
(needs torch); tests/cli/dump.sh checks the JSON's shape without it.
"""

import json
import os
import subprocess
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import t5_ref  # noqa: E402


def run_dump(binary, model, text, target=None, max_len=12):
    cmd = [binary, "dump", "--model", model, "--input", text, "--max-len", str(max_len)]
    if target is not None:
        cmd += ["--target", target]
    return json.loads(subprocess.run(cmd, check=True, capture_output=True).stdout)


def byt5(text):
    return [b + 3 for b in text.encode("utf-8")] + [1]


def tokenizer(model_dir):
    """The folder's tokenizer as attnscope chooses it: spiece.model through
    python3-sentencepiece (eos appended, as T5Tokenizer), else ByT5 bytes."""
    path = os.path.join(model_dir, "spiece.model")
    if not os.path.exists(path):
        return byt5
    import sentencepiece
    sp = sentencepiece.SentencePieceProcessor(model_file=path)
    return lambda text: sp.encode(text) + [sp.eos_id()]


def compare(name, got, want, problems):
    got = torch.tensor(got, dtype=torch.float64)
    if tuple(got.shape) != tuple(want.shape):
        problems.append("%s: shape %s, reference %s" % (name, tuple(got.shape), tuple(want.shape)))
        return
    err = float((got - want).abs().max()) if got.numel() else 0.0
    if err > 1e-5:
        problems.append("%s: max difference %.3g" % (name, err))


def check(binary, model_dir, text, target):
    m = t5_ref.load_folder(model_dir, dtype=torch.float64)
    problems = []
    encode = tokenizer(model_dir)
    src = encode(text)
    if target is None:
        d = run_dump(binary, model_dir, text)
        gen, _ = m.greedy(src, 12)
        if d["output_ids"] != gen:
            problems.append("greedy tokens %s, reference %s" % (d["output_ids"], gen))
        dec_in = [m.cfg["decoder_start_token_id"]] + gen[:-1]
    else:
        d = run_dump(binary, model_dir, text, target)
        labels = encode(target)
        dec_in = t5_ref.shift_right(labels, m.cfg["decoder_start_token_id"]).tolist()
        if d["output_ids"] != labels:
            problems.append("target ids %s, expected %s" % (d["output_ids"], labels))
    if d["input_ids"] != src:
        problems.append("input ids %s, expected %s" % (d["input_ids"], src))
    if d["decoder_input_ids"] != dec_in:
        problems.append("decoder input %s, expected %s" % (d["decoder_input_ids"], dec_in))
    with torch.no_grad():
        logits, attn = m.forward(src, dec_in)
    for key, kind in (("encoder_attentions", "enc"), ("decoder_attentions", "dec"),
                      ("cross_attentions", "cross")):
        want = torch.stack(attn[kind])
        compare(key, d[key], want, problems)
    if target is not None:
        loss = float(t5_ref.loss(logits, encode(target)))
        if abs(d["loss"] - loss) > 1e-4:
            problems.append("loss %.7g, reference %.7g" % (d["loss"], loss))
        pred = logits.argmax(-1).tolist()
        if d["predicted_ids"] != pred:
            problems.append("predictions %s, reference %s" % (d["predicted_ids"], pred))
    return problems


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    binary, model = argv[1], argv[2]
    text = argv[3] if len(argv) > 3 else "x^2-5x+6=0"
    target = argv[4] if len(argv) > 4 else None
    bad = 0
    for tgt in ([target] if target is not None else [None, "x=2 or x=3"]):
        problems = check(binary, model, text, tgt)
        mode = "greedy" if tgt is None else "teacher forced"
        for p in problems:
            print("FAIL %s %s: %s" % (model, mode, p))
        if not problems:
            print("ok   %s %s: ids and every map agree with t5_ref.py" % (model, mode))
        bad += len(problems)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
