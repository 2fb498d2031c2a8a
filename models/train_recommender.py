#!/usr/bin/python3
"""Trains the recommender the main job prunes: neural collaborative filtering
(user and item embeddings of 32, concatenated, then an MLP 64-64-32-1) on the
implicit feedback utils/recommender.py generates, with 4 sampled negatives per
interaction, and exports it as ONNX (inputs user and item, int64 [N];
output score [N, 1], a logit).

    /usr/bin/python3 models/train_recommender.py [-o models/recommender.onnx]
"""
import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "utils"))
import recommender  # noqa: E402


class NCF(nn.Module):
    def __init__(self, users, items, dim=32):
        super().__init__()
        self.user = nn.Embedding(users, dim)
        self.item = nn.Embedding(items, dim)
        self.mlp = nn.Sequential(nn.Linear(2 * dim, 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU(),
                                 nn.Linear(32, 1))

    def forward(self, user, item):
        return self.mlp(torch.cat([self.user(user), self.item(item)], dim=1))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-o", "--output", default=str(Path(__file__).resolve().parent / "recommender.onnx"))
    parser.add_argument("--epochs", type=int, default=15)
    args = parser.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(2)
    data = recommender.make_data()
    model = NCF(data["users"], data["items"])
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3, weight_decay=1e-6)
    train = torch.from_numpy(data["train"])
    rng = np.random.default_rng(0)
    for epoch in range(args.epochs):
        negatives = torch.from_numpy(rng.integers(0, data["items"], (len(train), 4)))
        users = torch.cat([train[:, 0], train[:, 0].repeat_interleave(4)])
        items = torch.cat([train[:, 1], negatives.flatten()])
        labels = torch.cat([torch.ones(len(train)), torch.zeros(4 * len(train))])
        order = torch.randperm(len(labels))
        total = 0.0
        for start in range(0, len(order), 1024):
            idx = order[start:start + 1024]
            loss = nn.functional.binary_cross_entropy_with_logits(
                model(users[idx], items[idx]).squeeze(1), labels[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
        with torch.no_grad():
            metrics = recommender.evaluate(
                lambda u, i: model(torch.from_numpy(u), torch.from_numpy(i)).squeeze(1).numpy(), data)
        print(f"epoch {epoch + 1}: loss {total / len(order):.4f}, "
              + ", ".join(f"{k} {v:.4f}" for k, v in metrics.items()), file=sys.stderr)
    model.eval()
    example = (torch.zeros(2, dtype=torch.int64), torch.zeros(2, dtype=torch.int64))
    torch.onnx.export(model, example, args.output, input_names=["user", "item"], output_names=["score"],
                      dynamic_axes={"user": {0: "N"}, "item": {0: "N"}, "score": {0: "N"}}, opset_version=13)
    print(f"wrote {args.output}: " + ", ".join(f"{k} {v:.4f}" for k, v in metrics.items()))


if __name__ == "__main__":
    main()
