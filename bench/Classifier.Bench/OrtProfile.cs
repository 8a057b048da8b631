using System.Text.Json;
using Microsoft.ML.OnnxRuntime;

namespace Alerts.Classifier.Bench;

/// <summary>
/// Per-node time of one t2 model on ORT CPU: runs it with <c>SessionOptions.EnableProfiling</c> (the same tuned
/// options <see cref="OnnxT2Classifier"/> uses), parses ORT's Chrome-trace JSON and sums the "Node" kernel events by
/// node and by op type, per alert. `quick`'s µs/alert says how fast; this says where the time goes.
/// </summary>
public static class OrtProfile
{
    public static void Run(string model, int batch, int runs, TextWriter w)
    {
        var so = new OnnxT2Options { MaxBatchSize = batch }.CreateSessionOptions();
        so.EnableProfiling = true;
        so.ProfileOutputPathPrefix = Path.Combine(Path.GetTempPath(), $"alerts-ort-profile-{Environment.ProcessId}");
        string file;
        using (var session = new InferenceSession(model, so))
        {
            var name = session.InputNames[0];
            var dims = session.InputMetadata[name].Dimensions;
            int size = dims[1] * dims[2];
            var rng = new Random(1);
            var x = Enumerable.Range(0, batch * size).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray();
            using var input = OrtValue.CreateTensorValueFromMemory(x, [batch, dims[1], dims[2]]);
            for (int i = 0; i < 5; i++) { using var r = session.Run(new RunOptions(), [name], [input], session.OutputNames); }
            for (int i = 0; i < runs; i++) { using var r = session.Run(new RunOptions(), [name], [input], session.OutputNames); }
            file = session.EndProfiling();
        }
        using var doc = JsonDocument.Parse(File.ReadAllText(file));
        File.Delete(file);
        var byNode = new Dictionary<string, (string Op, double Us)>();
        double total = 0;
        int seen = 0;
        foreach (var e in doc.RootElement.EnumerateArray())
        {
            if (e.GetProperty("cat").GetString() != "Node") continue;
            var n = e.GetProperty("name").GetString()!;
            if (!n.EndsWith("_kernel_time")) continue;
            seen++;
            // The first 5 warm-up runs are skipped: ORT records every run, so drop the first 5/(5+runs) of events.
            var op = e.TryGetProperty("args", out var a) && a.TryGetProperty("op_name", out var o) ? o.GetString()! : "?";
            double us = e.GetProperty("dur").GetDouble();
            var key = n[..^"_kernel_time".Length];
            byNode[key] = byNode.TryGetValue(key, out var prev) ? (op, prev.Us + us) : (op, us);
            total += us;
        }
        // Every run records each node once, so dividing by (runs + warm-ups) * batch gives µs per alert per node.
        double per = (runs + 5.0) * batch;
        w.WriteLine($"{Path.GetFileName(model)} batch {batch}: {total / per:0.0} µs/alert in kernels ({byNode.Count} nodes, {seen} events)");
        w.WriteLine("  by op type:");
        foreach (var g in byNode.Values.GroupBy(v => v.Op).Select(g => (Op: g.Key, Us: g.Sum(v => v.Us))).OrderByDescending(g => g.Us))
            w.WriteLine($"    {g.Op,-28} {g.Us / per,8:0.0} µs/alert {100 * g.Us / total,5:0.0} %");
        w.WriteLine("  by node:");
        foreach (var (node, v) in byNode.OrderByDescending(kv => kv.Value.Us).Take(15))
            w.WriteLine($"    {v.Op,-24} {v.Us / per,8:0.0} µs/alert {100 * v.Us / total,5:0.0} %  {node}");
    }
}
