"""The recommender case: implicit feedback generated from latent factors
(so that there is structure to learn), a neural collaborative filtering
model (user and item embeddings, then an MLP), and top-k metrics.

    data = recommender.make_data()
    metrics = recommender.evaluate(score, data)   # score(users, items) -> scores
    metrics["recall@10"], metrics["ndcg@10"], metrics["hit@10"]

make_data draws user and item factors (8 dimensions) and item popularity,
scores every pair as 3 u.v / sqrt(8) + popularity / 2 + noise / 2, and lets each user interact
with 25 items drawn without replacement with probabilities softmax(score);
5 of them per user are held out for the test. Seeded: the same data every
time.
"""
import numpy as np

USERS, ITEMS, FACTORS = 1000, 500, 8
PER_USER, HELD_OUT = 25, 5


def make_data(seed=0):
    rng = np.random.default_rng(seed)
    u = rng.standard_normal((USERS, FACTORS))
    v = rng.standard_normal((ITEMS, FACTORS))
    popularity = rng.standard_normal(ITEMS)
    scores = 3 * u @ v.T / np.sqrt(FACTORS) + 0.5 * popularity + 0.5 * rng.standard_normal((USERS, ITEMS))
    train, test = [], {}
    for user in range(USERS):
        p = np.exp(scores[user] - scores[user].max())
        chosen = rng.choice(ITEMS, PER_USER, replace=False, p=p / p.sum())
        test[user] = chosen[:HELD_OUT]
        train.extend((user, int(i)) for i in chosen[HELD_OUT:])
    return {"train": np.array(train, np.int64), "test": test, "users": USERS, "items": ITEMS}


def evaluate(score, data, k=10):
    """recall@k, ndcg@k and hit@k over the held-out items, the training
    items of each user excluded from its ranking. `score(users, items)`
    takes int64 arrays of one length and returns one score per pair."""
    items = np.arange(data["items"], dtype=np.int64)
    seen = {}
    for user, item in data["train"]:
        seen.setdefault(int(user), []).append(int(item))
    recall = ndcg = hit = 0.0
    users = sorted(data["test"])
    for start in range(0, len(users), 50):
        block = users[start:start + 50]
        pairs_u = np.repeat(np.array(block, np.int64), len(items))
        pairs_i = np.tile(items, len(block))
        s = np.asarray(score(pairs_u, pairs_i), np.float64).reshape(len(block), len(items))
        for row, user in enumerate(block):
            s[row, seen.get(user, [])] = -np.inf
            top = np.argsort(-s[row], kind="stable")[:k]
            held = set(int(i) for i in data["test"][user])
            hits = [1.0 if int(i) in held else 0.0 for i in top]
            recall += sum(hits) / len(held)
            hit += 1.0 if any(hits) else 0.0
            ideal = sum(1 / np.log2(r + 2) for r in range(min(k, len(held))))
            ndcg += sum(h / np.log2(r + 2) for r, h in enumerate(hits)) / ideal
    n = len(users)
    return {f"recall@{k}": recall / n, f"ndcg@{k}": ndcg / n, f"hit@{k}": hit / n}
