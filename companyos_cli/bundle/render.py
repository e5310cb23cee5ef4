"""The inspection report as text: what `manage.py support_inspect` and `companyos support inspect` print."""


def render_text(report: dict) -> str:
    """The report as the CLIs print it."""
    out = []
    bundle = report.get("bundle") or {}
    out.append(
        f"Bundle {bundle.get('name') or '(unnamed)'}  {bundle.get('size', 0):,} bytes  "
        f"sha256 {bundle.get('sha256', '')[:16]}"
    )
    if bundle.get("name_ok"):
        out.append(f"  recorded {bundle['timestamp']} via {bundle['channel']}")
    elif bundle.get("name"):
        out.append("  the name does not follow trace-<timestamp>-<channel>.zip")
    if report["verdict"] == "rejected":
        rejection = report["rejection"]
        out.append(f"REJECTED ({rejection['code']}): {rejection['reason']}")
        return "\n".join(out)
    pii = report["pii"]
    if pii["count"]:
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(pii["by_kind"].items()))
        out.append(f"UNREDACTED PII: {pii['count']} finding(s) ({kinds})")
        for f in pii["findings"]:
            out.append(f"  {f['kind']:8} {f['file']} {f['path']}  {f['masked']}")
        if pii["truncated"]:
            out.append(f"  … and {pii['count'] - len(pii['findings'])} more")
    else:
        out.append("Redaction: no personal data or secrets found")
    snap = report["snapshot"]
    out.append(f"snapshot.json: {snap['samples']} samples")
    for name, m in snap["metrics"].items():
        out.append(f"  {name:16} {m['first']:>10g} → {m['last']:<10g} min {m['min']:g} max {m['max']:g}  {m['trend']}")
    trace = report["trace"]
    out.append(
        f"trace.json: {trace['spans']:,} spans in {trace['traces']:,} trace(s), {trace['failed_count']:,} failed"
    )
    for s in trace["failed"][:10]:
        codes = f" [{', '.join(s['codes'])}]" if s.get("codes") else ""
        out.append(
            f"  FAILED {s['name']} ({s['service'] or '-'}) at {s['start']} {s['duration_ms']:g} ms"
            f"{codes} {s['message']}"
        )
    if trace["reported_at"]:
        out.append(
            f"Near the reported time {trace['reported_at']} (±{trace['near_window_minutes']} min): "
            f"{trace['near_count']:,} spans, {trace['near_failed']:,} failed"
        )
    out.append("Slowest:")
    for s in trace["slowest"][:5]:
        out.append(f"  {s['duration_ms']:>10g} ms  {s['name']} ({s['service'] or '-'})")
    for entry in report.get("error_codes", []):
        cat = entry.get("catalogue")
        line = f"Error code {entry['code']} ×{entry['count']} in {', '.join(entry['spans'])}"
        if cat:
            line += f": {cat.get('title') or ''} — {cat.get('remediation') or cat.get('meaning') or ''}"
            if cat.get("runbook"):
                line += f" (runbook: {cat['runbook'].get('title')})"
        out.append(line)
    out.append(f"Verdict: {report['verdict']}  ({report['elapsed_ms']:g} ms)")
    return "\n".join(out)
