#!/usr/bin/env python3
"""Writes alerts-dashboard.json. Edit the panels here, then run: python3 deploy/grafana/make_dashboard.py"""
import json, os

DS = {"type": "prometheus", "uid": "prometheus"}
LSST_AVG_RATE = 10_000_000 / (10 * 3600)   # 10 M alerts over a 10-hour night, per second

def panel(pid, title, targets, x, y, w=12, h=8, unit="short", kind="timeseries", desc=""):
    return {
        "id": pid, "type": kind, "title": title, "description": desc, "datasource": DS,
        "gridPos": {"x": x, "y": y, "w": w, "h": h},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "targets": [{"datasource": DS, "refId": chr(65 + i), "expr": e, "legendFormat": l} for i, (e, l) in enumerate(targets)],
    }

panels = [
    panel(1, "Throughput per stage", [
        ("sum(rate(alerts_consumed_total[1m]))", "consumed"),
        ("sum(rate(alerts_decoded_total[1m]))", "decoded"),
        ("sum(rate(alerts_classified_total[1m]))", "classified"),
        ("sum(rate(alerts_dead_lettered_total[1m]))", "dead-lettered"),
        (f"vector({LSST_AVG_RATE:.1f})", "LSST 10 M/night average"),
    ], 0, 0, unit="ops", desc="Alerts per second through each stage; the flat line is Rubin's average rate."),
    panel(2, "End-to-end latency (p50 / p99) vs 60 s budget", [
        ('histogram_quantile(0.5, sum by (le) (rate(alerts_end_to_end_latency_seconds_bucket{reference="source"}[5m])))', "p50 from Kafka timestamp"),
        ('histogram_quantile(0.99, sum by (le) (rate(alerts_end_to_end_latency_seconds_bucket{reference="source"}[5m])))', "p99 from Kafka timestamp"),
        ('histogram_quantile(0.99, sum by (le) (rate(alerts_end_to_end_latency_seconds_bucket{reference="received"}[5m])))', "p99 inside Alerts"),
        ("vector(60)", "budget"),
    ], 12, 0, unit="s"),
    panel(3, "Consumer lag per partition", [
        ("sum by (topic, partition) (alerts_consumer_lag)", "{{topic}}[{{partition}}]"),
    ], 0, 8),
    panel(4, "Dead letters by reason", [
        ("sum by (stage, reason) (rate(alerts_dead_lettered_total[5m]))", "{{stage}}/{{reason}}"),
    ], 12, 8, unit="ops"),
    panel(5, "Class mix", [
        ("sum by (label) (rate(alerts_classified_total[5m]))", "{{label}}"),
    ], 0, 16, unit="ops"),
    panel(6, "Not classified by reason", [
        ("sum by (reason) (rate(alerts_not_classified_total[5m]))", "{{reason}}"),
    ], 12, 16, unit="ops"),
    panel(7, "Micro-batch size (p50 / p99)", [
        ("histogram_quantile(0.5, sum by (le) (rate(alerts_batch_size_bucket[5m])))", "p50"),
        ("histogram_quantile(0.99, sum by (le) (rate(alerts_batch_size_bucket[5m])))", "p99"),
    ], 0, 24),
    panel(8, "Stage time p99", [
        ("histogram_quantile(0.99, sum by (le, stage) (rate(alerts_stage_duration_seconds_bucket[5m])))", "{{stage}}"),
    ], 12, 24, unit="s"),
    panel(9, "Model in use", [
        ("alerts_model_info", "{{model}} {{model_id}}"),
    ], 0, 32, w=8, kind="table"),
    panel(10, "CPU (cores)", [
        ("sum by (instance) (rate(process_cpu_seconds_total{job=\"alerts\"}[1m]))", "{{instance}}"),
    ], 8, 32, w=8),
    panel(11, "GC collections per second", [
        ("sum by (generation) (rate(dotnet_collection_count_total{job=\"alerts\"}[1m]))", "gen {{generation}}"),
    ], 16, 32, w=8, unit="ops"),
    panel(12, "Committed offsets", [
        ("sum by (topic, partition) (alerts_committed_offset)", "{{topic}}[{{partition}}]"),
    ], 0, 40, w=12),
    panel(13, "Offset commits and assigned partitions", [
        ("sum by (result) (rate(alerts_offset_commits_total[5m]))", "commits {{result}}"),
        ("sum(alerts_assigned_partitions)", "assigned partitions"),
    ], 12, 40, w=12, desc="Failed commits mean re-delivery after a restart (at-least-once), not loss; assigned partitions show how the group split the topic."),
]

dashboard = {
    "uid": "alerts-broker", "title": "Alerts broker", "tags": ["alerts", "astronomy"],
    "timezone": "utc", "schemaVersion": 39, "version": 1, "refresh": "10s",
    "time": {"from": "now-1h", "to": "now"}, "panels": panels,
}
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "alerts-dashboard.json")
with open(out, "w") as f:
    json.dump(dashboard, f, indent=2)
    f.write("\n")
print(out)
