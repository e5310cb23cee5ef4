"""Evaluation of the copilot on a labelled file (issue 19, point 7): predictions for each ticket
and the figures — accuracy per field, severity within one level, security / needs-info /
expected-behaviour precision and recall, duplicate-pair precision and recall, a confusion matrix per
field. Pure: `copilot_eval` reads the files and prints; the tests call it on small fixtures.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from itertools import combinations
from pathlib import Path

from . import engine, rules
from .model import FIELDS, Predictor, fit_tickets

DATA = Path(__file__).parent / "data"
REQUIRED = (
    "id",
    "subject",
    "body",
    "category",
    "severity",
    "issue_type",
    "environment",
    "security",
    "needs_info",
    "expected_behavior",
    "dup_group",
)


class EvalError(ValueError):
    pass


def load(path: str | Path) -> list[dict]:
    tickets = []
    with open(path) as handle:
        for n, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise EvalError(f"{path}:{n}: not JSON ({error.msg})") from None
            missing = [k for k in REQUIRED if k not in row]
            if missing:
                raise EvalError(f"{path}:{n}: missing {', '.join(missing)}")
            tickets.append(row)
    return tickets


def training_set(train: list[dict], held_out: list[dict]) -> list[dict]:
    """`train` without any ticket of the file being evaluated (by id, and by identical text)."""
    ids = {t["id"] for t in held_out}
    texts = {(t["subject"].strip(), t["body"].strip()) for t in held_out}
    return [t for t in train if t["id"] not in ids and (t["subject"].strip(), t["body"].strip()) not in texts]


def predict(tickets: list[dict], predictor: Predictor | None) -> list[dict]:
    facts = {t["id"]: rules.dup_facts(t["subject"], t["body"]) for t in tickets}
    assessed = {t["id"]: engine.assess(engine.Ticket(t["subject"], t["body"]), predictor) for t in tickets}

    def cls(ticket_id: str) -> tuple:
        p = assessed[ticket_id].proposals
        return p["category"].value, p["severity"].value

    dups: dict[str, list[str]] = defaultdict(list)
    for a, b in combinations(tickets, 2):
        is_dup, _, _ = rules.duplicate_score(facts[a["id"]], facts[b["id"]], same_class=cls(a["id"]) == cls(b["id"]))
        if is_dup:
            dups[a["id"]].append(b["id"])
            dups[b["id"]].append(a["id"])
    out = []
    for t in tickets:
        p = assessed[t["id"]].proposals
        out.append(
            {
                "id": t["id"],
                **{f: p[f].value for f in FIELDS if f in p},
                "security": p["security"].value == "true",
                "needs_info": p["needs_info"].value == "true",
                "expected_behavior": "close_as" in p and p["close_as"].value == "expected_behavior",
                "duplicates": sorted(dups[t["id"]]),
                "confidence": {f: p[f].confidence for f in (*FIELDS, "security", "needs_info") if f in p},
            }
        )
    return out


def cross_validate(tickets: list[dict], *, folds: int = 5) -> dict:
    """The figures over `folds` folds of `tickets`, each predicted by a model fitted on the others
    (what the rule weights and thresholds are tuned on — never the evaluation file)."""
    predictions = []
    for k in range(folds):
        test = tickets[k::folds]
        train = [t for i, t in enumerate(tickets) if i % folds != k]
        predictions += predict(test, fit_tickets(train))
    # a duplicate pair split across two folds is not seen within one: pairs over the whole set
    whole = {p["id"]: p["duplicates"] for p in predict(tickets, fit_tickets(tickets))}
    for p in predictions:
        p["duplicates"] = whole[p["id"]]
    figures = metrics(tickets, predictions)
    figures["trained_on"] = len(tickets) - len(tickets) // folds
    return figures


def _pr(truth: list[bool], guess: list[bool]) -> dict:
    tp = sum(t and g for t, g in zip(truth, guess, strict=True))
    fp = sum(g and not t for t, g in zip(truth, guess, strict=True))
    fn = sum(t and not g for t, g in zip(truth, guess, strict=True))
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "tp": tp,
        "fp": fp,
        "fn": fn,
    }


def metrics(tickets: list[dict], predictions: list[dict]) -> dict:
    by_id = {p["id"]: p for p in predictions}
    result: dict = {"tickets": len(tickets), "accuracy": {}, "confusion": {}}
    for f in FIELDS:
        pairs = [(str(t[f]), str(by_id[t["id"]].get(f))) for t in tickets]
        result["accuracy"][f] = round(sum(a == b for a, b in pairs) / len(pairs), 4) if pairs else 0.0
        confusion: dict[str, Counter] = defaultdict(Counter)
        for truth, guess in pairs:
            confusion[truth][guess] += 1
        result["confusion"][f] = {k: dict(v) for k, v in sorted(confusion.items())}
    rank = engine.SEVERITY_RANK
    within = [abs(rank[t["severity"]] - rank.get(by_id[t["id"]].get("severity"), 9)) <= 1 for t in tickets]
    result["severity_within_one"] = round(sum(within) / len(within), 4) if within else 0.0
    for flag in ("security", "needs_info", "expected_behavior"):
        result[flag] = _pr([bool(t[flag]) for t in tickets], [bool(by_id[t["id"]][flag]) for t in tickets])
    groups: dict[str, list[str]] = defaultdict(list)
    for t in tickets:
        if t.get("dup_group"):
            groups[t["dup_group"]].append(t["id"])
    true_pairs = {frozenset(p) for ids in groups.values() for p in combinations(sorted(ids), 2)}
    found_pairs = {frozenset((p["id"], d)) for p in predictions for d in p["duplicates"]}
    tp = len(true_pairs & found_pairs)
    result["duplicates"] = {
        "pairs": len(true_pairs),
        "found": len(found_pairs),
        "tp": tp,
        "recall": round(tp / len(true_pairs), 4) if true_pairs else 1.0,
        "precision": round(tp / len(found_pairs), 4) if found_pairs else 1.0,
    }
    return result


def run(path: str | Path, *, train_path: str | Path | None = None) -> tuple[dict, list[dict]]:
    tickets = load(path)
    train = training_set(load(train_path or DATA / "train.jsonl"), tickets)
    predictor = fit_tickets(train) if len(train) >= 2 else None
    predictions = predict(tickets, predictor)
    figures = metrics(tickets, predictions)
    figures["trained_on"] = len(train)
    return figures, predictions


def classification_figures(tickets: list[dict], predictor: Predictor | None) -> dict:
    """Accuracy per classification field and severity within one level of `predictor` (with the
    rules, as proposed on a case) on labelled `tickets` — all a confirmed case is labelled with."""
    proposed = [engine.assess(engine.Ticket(t["subject"], t["body"]), predictor).proposals for t in tickets]
    out = {"accuracy": {}}
    for f in FIELDS:
        hits = [str(t[f]) == p[f].value for t, p in zip(tickets, proposed, strict=True)]
        out["accuracy"][f] = round(sum(hits) / len(hits), 4) if hits else 0.0
    rank = engine.SEVERITY_RANK
    within = [
        abs(rank[t["severity"]] - rank.get(p["severity"].value, 9)) <= 1 for t, p in zip(tickets, proposed, strict=True)
    ]
    out["severity_within_one"] = round(sum(within) / len(within), 4) if within else 0.0
    return out


def tenant_comparison(own: list[dict], others: list[dict], base: list[dict], *, folds: int = 5) -> dict:
    """The tenant's own model against the global one, on the tenant's confirmed cases: every
    `folds`-th held out (never trained on by either); the tenant model is fitted on `base` (the
    shipped playbook set) plus the rest of the tenant's own cases — never another tenant's —, the
    global one on those plus `others` (every other tenant's confirmed cases), as beat trains them."""
    if len(own) < folds:
        raise EvalError(f"The tenant has {len(own)} confirmed cases; at least {folds} are needed.")
    held = own[::folds]
    rest = [t for i, t in enumerate(own) if i % folds]
    tenant_model = fit_tickets(base + rest)
    global_model = fit_tickets(base + rest + others)
    return {
        "held_out": len(held),
        "tenant_trained_on": len(base) + len(rest),
        "global_trained_on": len(base) + len(rest) + len(others),
        "tenant": classification_figures(held, tenant_model),
        "global": classification_figures(held, global_model),
    }


def render_comparison(figures: dict, tenant: str) -> str:
    lines = [
        f"Tenant {tenant}: {figures['held_out']} held-out confirmed cases; tenant model trained on "
        f"{figures['tenant_trained_on']} tickets (shipped set + its own cases), "
        f"global on {figures['global_trained_on']}",
        "",
        f"{'':<27}{'tenant':>8}{'global':>8}",
    ]
    for f in FIELDS:
        lines.append(f"  {f:<25}{figures['tenant']['accuracy'][f]:>8.1%}{figures['global']['accuracy'][f]:>8.1%}")
    lines.append(
        f"  {'severity within one level':<25}"
        f"{figures['tenant']['severity_within_one']:>8.1%}{figures['global']['severity_within_one']:>8.1%}"
    )
    return "\n".join(lines)


def render(figures: dict) -> str:
    lines = [f"Tickets: {figures['tickets']} (model trained on {figures['trained_on']} other tickets)", "", "Accuracy"]
    for f, v in figures["accuracy"].items():
        lines.append(f"  {f:<12} {v:6.1%}")
    lines.append(f"  severity within one level {figures['severity_within_one']:6.1%}")
    lines.append("")
    for flag in ("security", "needs_info", "expected_behavior"):
        m = figures[flag]
        lines.append(
            f"{flag:<18} precision {m['precision']:6.1%}  recall {m['recall']:6.1%}  F1 {m['f1']:.3f}"
            f"  (tp {m['tp']}, fp {m['fp']}, fn {m['fn']})"
        )
    d = figures["duplicates"]
    lines.append(
        f"{'duplicate pairs':<18} precision {d['precision']:6.1%}  recall {d['recall']:6.1%}"
        f"  ({d['tp']} of {d['pairs']} pairs found, {d['found']} proposed)"
    )
    for f, matrix in figures["confusion"].items():
        labels = sorted(set(matrix) | {g for row in matrix.values() for g in row})
        width = max(len(x) for x in labels) + 1
        lines += [
            "",
            f"Confusion — {f} (rows: truth, columns: proposed)",
            " " * width + "".join(f"{x[:6]:>7}" for x in labels),
        ]
        for truth in labels:
            row = matrix.get(truth, {})
            lines.append(f"{truth:<{width}}" + "".join(f"{row.get(g, 0):>7}" for g in labels))
    return "\n".join(lines)
