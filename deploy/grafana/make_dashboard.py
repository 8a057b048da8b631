#!/usr/bin/env python3
"""Writes alerts-dashboard.json. Edit the panels here, then run: python3 deploy/grafana/make_dashboard.py

The dashboard names no data source and no job: it has a data-source variable ($datasource, type datasource, also
offered as the DS_PROMETHEUS input on import) and $job / $instance query variables, and every query selects
job=~"$job", instance=~"$instance"."""
import json, os

DS = {"type": "prometheus", "uid": "${datasource}"}
SEL = 'job=~"$job", instance=~"$instance"'
SOURCE, RECEIVED = 'reference="source"', 'reference="received"'
LSST_AVG_RATE = 10_000_000 / (10 * 3600)   # 10 M alerts over a 10-hour night, per second


def m(name, labels=""):
    """A selector of one metric, restricted to the chosen job and instances."""
    return f'{name}{{{SEL}{", " + labels if labels else ""}}}'


def panel(pid, title, targets, x, y, w=12, h=8, unit="short", kind="timeseries", desc="", line=None):
    p = {
        "id": pid, "type": kind, "title": title, "description": desc, "datasource": DS,
        "gridPos": {"x": x, "y": y, "w": w, "h": h},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "targets": [{"datasource": DS, "refId": chr(65 + i), "expr": e, "legendFormat": l} for i, (e, l) in enumerate(targets)],
    }
    if line is not None:  # a reference value drawn as a threshold line (no query needed)
        value, _label = line
        p["fieldConfig"]["defaults"]["thresholds"] = {"mode": "absolute", "steps": [{"color": "green", "value": None}, {"color": "red", "value": value}]}
        p["fieldConfig"]["defaults"]["custom"] = {"thresholdsStyle": {"mode": "line"}}
    return p


def row(pid, title, y, nested):
    """A collapsed row: its panels live inside it until it is opened."""
    return {"id": pid, "type": "row", "title": title, "collapsed": True, "gridPos": {"x": 0, "y": y, "w": 24, "h": 1}, "panels": nested}


panels = [
    panel(1, "Throughput per stage", [
        (f"sum(rate({m('alerts_consumed_total')}[1m]))", "consumed"),
        (f"sum(rate({m('alerts_decoded_total')}[1m]))", "decoded"),
        (f"sum(rate({m('alerts_classified_total')}[1m]))", "classified"),
        (f"sum(rate({m('alerts_dead_lettered_total')}[1m]))", "dead-lettered"),
    ], 0, 0, unit="ops", line=(round(LSST_AVG_RATE, 1), "LSST 10 M/night average"),
        desc=f"Alerts per second through each stage; the red line is Rubin's average rate ({LSST_AVG_RATE:.1f}/s, 10 M alerts a night)."),
    panel(2, "End-to-end latency (p50 / p99) vs 60 s budget", [
        (f'histogram_quantile(0.5, sum by (le) (rate({m("alerts_end_to_end_latency_seconds_bucket", SOURCE)}[5m])))', "p50 from Kafka timestamp"),
        (f'histogram_quantile(0.99, sum by (le) (rate({m("alerts_end_to_end_latency_seconds_bucket", SOURCE)}[5m])))', "p99 from Kafka timestamp"),
        (f'histogram_quantile(0.99, sum by (le) (rate({m("alerts_end_to_end_latency_seconds_bucket", RECEIVED)}[5m])))', "p99 inside Alerts"),
    ], 12, 0, unit="s", line=(60, "budget"), desc="The red line is the 60 s budget."),
    panel(3, "Consumer lag per partition", [
        (f"sum by (topic, partition) ({m('alerts_consumer_lag')})", "{{topic}}[{{partition}}]"),
    ], 0, 8),
    panel(4, "Dead letters by reason", [
        (f"sum by (stage, reason) (rate({m('alerts_dead_lettered_total')}[5m]))", "{{stage}}/{{reason}}"),
    ], 12, 8, unit="ops"),
    panel(5, "Class mix", [
        (f"sum by (label) (rate({m('alerts_classified_total')}[5m]))", "{{label}}"),
    ], 0, 16, unit="ops"),
    panel(6, "Not classified by reason", [
        (f"sum by (reason) (rate({m('alerts_not_classified_total')}[5m]))", "{{reason}}"),
    ], 12, 16, unit="ops"),
    panel(7, "Micro-batch size (p50 / p99)", [
        (f"histogram_quantile(0.5, sum by (le) (rate({m('alerts_batch_size_bucket')}[5m])))", "p50"),
        (f"histogram_quantile(0.99, sum by (le) (rate({m('alerts_batch_size_bucket')}[5m])))", "p99"),
    ], 0, 24),
    panel(8, "Stage time p99", [
        (f"histogram_quantile(0.99, sum by (le, stage) (rate({m('alerts_stage_duration_seconds_bucket')}[5m])))", "{{stage}}"),
    ], 12, 24, unit="s"),
    panel(9, "Model in use", [
        (m("alerts_model_info"), "{{model}} {{model_id}}"),
    ], 0, 32, w=8, kind="table"),
    panel(10, "CPU (cores)", [
        (f"sum by (instance) (rate({m('process_cpu_seconds_total')}[1m]))", "{{instance}}"),
    ], 8, 32, w=8),
    panel(11, "GC collections per second", [
        (f"sum by (generation) (rate({m('dotnet_collection_count_total')}[1m]))", "gen {{generation}}"),
    ], 16, 32, w=8, unit="ops"),
    panel(12, "Committed offsets", [
        (f"sum by (topic, partition) ({m('alerts_committed_offset')})", "{{topic}}[{{partition}}]"),
    ], 0, 40, w=12),
    panel(13, "Offset commits and assigned partitions", [
        (f"sum by (result) (rate({m('alerts_offset_commits_total')}[5m]))", "commits {{result}}"),
        (f"sum({m('alerts_assigned_partitions')})", "assigned partitions"),
    ], 12, 40, w=12, desc="Failed commits mean re-delivery after a restart (at-least-once), not loss; assigned partitions show how the group split the topic."),
    row(14, "Archive and label topics", 48, [
        panel(15, "Archive rows and files per second", [
            (f"sum(rate({m('alerts_archive_rows_total')}[5m]))", "rows"),
            (f"sum(rate({m('alerts_archive_files_total')}[5m]))", "files"),
        ], 0, 49, w=12, unit="ops", desc="Rows and files renamed into place (durable) in the Parquet archive."),
        panel(16, "Labels produced per topic", [
            (f"sum by (topic) (rate({m('alerts_labels_produced_total')}[5m]))", "{{topic}}"),
        ], 12, 49, w=12, unit="ops", desc="Label messages the brokers acknowledged."),
        panel(17, "Memory (working set)", [
            (f"sum by (instance) ({m('process_working_set_bytes')})", "{{instance}}"),
        ], 0, 57, w=12, unit="bytes"),
    ]),
]

templating = {"list": [
    {"name": "datasource", "label": "Data source", "type": "datasource", "query": "prometheus",
     "current": {"selected": False, "text": "${DS_PROMETHEUS}", "value": "${DS_PROMETHEUS}"}, "hide": 0, "refresh": 1, "regex": ""},
    {"name": "job", "label": "Job", "type": "query", "datasource": DS,
     "definition": "label_values(alerts_ready, job)", "query": {"query": "label_values(alerts_ready, job)", "refId": "job"},
     "refresh": 2, "multi": True, "includeAll": True, "allValue": ".+", "current": {}, "sort": 1, "hide": 0},
    {"name": "instance", "label": "Instance", "type": "query", "datasource": DS,
     "definition": 'label_values(alerts_ready{job=~"$job"}, instance)', "query": {"query": 'label_values(alerts_ready{job=~"$job"}, instance)', "refId": "instance"},
     "refresh": 2, "multi": True, "includeAll": True, "allValue": ".+", "current": {}, "sort": 1, "hide": 0},
]}

dashboard = {
    "__inputs": [{"name": "DS_PROMETHEUS", "label": "Prometheus", "description": "The Prometheus that scrapes the Alerts service",
                  "type": "datasource", "pluginId": "prometheus", "pluginName": "Prometheus"}],
    "__requires": [{"type": "datasource", "id": "prometheus", "name": "Prometheus", "version": "1.0.0"}],
    "uid": "alerts-broker", "title": "Alerts broker", "tags": ["alerts", "astronomy"],
    "timezone": "utc", "schemaVersion": 39, "version": 2, "refresh": "10s",
    "time": {"from": "now-1h", "to": "now"}, "templating": templating, "panels": panels,
}
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "alerts-dashboard.json")
with open(out, "w") as f:
    json.dump(dashboard, f, indent=2)
    f.write("\n")
print(out)
