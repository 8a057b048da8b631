using System.Globalization;
using System.Text;

namespace Alerts.Compression;

/// <summary>Renders <see cref="CompressionReport"/> as the report.md table (one row per variant, as in the t2 paper).</summary>
public static class ReportMarkdown
{
    public static string Render(CompressionReport r)
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine($"# Compression report: {r.Model}");
        sb.AppendLine();
        sb.AppendLine($"- data: {r.Data} ({r.EvaluationRows} evaluation rows, {r.CalibrationRows} calibration rows)");
        sb.AppendLine($"- target: {r.Target}; gate: accuracy at most {r.Tolerance * 100:F2} points below fp32 ({r.Fp32Accuracy:P2})"
            + (double.IsNaN(r.NaiveBaseline.SnIaBalancedAccuracy) ? "" : string.Create(CultureInfo.InvariantCulture,
                $"; the SN Ia balanced accuracy (fp32 {r.NaiveBaseline.SnIaBalancedAccuracy:F4}) and the family macro-F1 (fp32 {r.NaiveBaseline.FamilyMacroF1:F4}) within that many points either way, on the rows of the five scored families")));
        sb.AppendLine($"- machine: {r.Machine}");
        sb.AppendLine($"- deployed: {r.Deployed ?? "none"}");
        sb.AppendLine(r.Lowering == "none"
            ? "- graph lowering: none (--no-attn-layout)"
            : $"- graph lowering applied to every variant after its value-changing passes: {r.Lowering} ({(r.Lowering.EndsWith("-fused", StringComparison.Ordinal)
                ? "exact to float rounding: the attention core as Alerts' fused ai.alerts.ScaledDotProductAttention kernel"
                : "exact: attention output as FusedMatMul(Vᵀ, P, transB)")}, embedding Conv+pe folded, linear layers on [B·T, D] rows)");
        if (r.Refusal is not null) sb.AppendLine($"- REFUSED: {r.Refusal}");
        sb.AppendLine();
        sb.AppendLine("| variant | size B | gzip B | ratio | gzip ratio | accuracy | macro-F1 | SN Ia bal. acc. | family macro-F1 | log-loss | gate | load ms | first ms | µs/alert b1 | µs/alert b32 | alerts/s | speed-up b1 vs naive |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|:-:|---:|---:|---:|---:|---:|---:|");
        foreach (var v in new[] { r.NaiveBaseline }.Concat(r.Variants))
        {
            string speedup = v.MicrosecondsPerAlertBatch1 > 0 ? (r.NaiveBaseline.MicrosecondsPerAlertBatch1 / v.MicrosecondsPerAlertBatch1).ToString("F2", c) + "×" : "-";
            sb.AppendLine(string.Create(c, $"| {v.Name} | {v.SizeBytes} | {v.GzipBytes} | {v.CompressionRatio:F2}× | {v.GzipCompressionRatio:F2}× | {v.Accuracy:P2} | {v.MacroF1:F4} | {(double.IsNaN(v.SnIaBalancedAccuracy) ? "-" : v.SnIaBalancedAccuracy.ToString("F4", c))} | {(double.IsNaN(v.FamilyMacroF1) ? "-" : v.FamilyMacroF1.ToString("F4", c))} | {v.WeightedLogLoss:F4} | {(v.PassesGate ? "pass" : "FAIL")} | {v.LoadMs:F2} | {v.FirstInferenceMs:F2} | {v.MicrosecondsPerAlertBatch1:F1} | {v.MicrosecondsPerAlertBatch32:F1} | {v.AlertsPerSecond:F0} | {speedup} |"));
        }
        sb.AppendLine();
        sb.AppendLine("Ratios are against the fp32 .onnx file size. Latency: median of timed runs after warm-up, single-threaded; the naive baseline uses default SessionOptions (all cores) and batch 1.");
        return sb.ToString();
    }
}
