using BenchmarkDotNet.Running;
using Alerts.Ingest.Bench;

if (ZtfDecodeBenchmarks.DataFolder() is null)
{
    Console.Error.WriteLine("skipped: ../shared/data/ztf/alerts is absent (set ALERTS_SHARED_DATA); the benchmark decodes the real ZTF alerts there.");
    return 0;
}
var b = new ZtfDecodeBenchmarks();
b.Setup();
Console.WriteLine($"input: {ZtfDecodeBenchmarks.AlertsPerOp} ZTF alerts, {b.TotalBytes:N0} bytes ({b.TotalBytes / (double)ZtfDecodeBenchmarks.AlertsPerOp:N0} B/alert on average)");
if (args is ["quick"])
{
    // A plain Stopwatch loop for a fast look (not the reported figure: use BenchmarkDotNet for that).
    foreach (var round in Enumerable.Range(0, 3))
    {
        var sw = System.Diagnostics.Stopwatch.StartNew(); int k = 0;
        while (sw.ElapsedMilliseconds < 1000) { b.AlertDecoderDecodeInto(); k++; }
        double ours = sw.Elapsed.TotalMicroseconds / (k * ZtfDecodeBenchmarks.AlertsPerOp);
        sw.Restart(); k = 0;
        while (sw.ElapsedMilliseconds < 1000) { b.ApacheAvroGeneric(); k++; }
        double theirs = sw.Elapsed.TotalMicroseconds / (k * ZtfDecodeBenchmarks.AlertsPerOp);
        sw.Restart(); k = 0;
        while (sw.ElapsedMilliseconds < 500) { b.HeaderOnly(); k++; }
        double header = sw.Elapsed.TotalMicroseconds / (k * ZtfDecodeBenchmarks.AlertsPerOp);
        sw.Restart(); k = 0;
        while (sw.ElapsedMilliseconds < 500) { b.SameAlert(100); k++; }
        Console.WriteLine($"same alert (hot cache) {sw.Elapsed.TotalMicroseconds / (k * ZtfDecodeBenchmarks.AlertsPerOp):F2} us/alert");
        Console.WriteLine($"header+schema lookup {header:F2} us/alert");
        Console.WriteLine($"ours {ours:F2} us/alert, Apache.Avro {theirs:F2} us/alert, ratio {theirs / ours:F1}x");
    }
    return 0;
}
BenchmarkSwitcher.FromAssembly(typeof(ZtfDecodeBenchmarks).Assembly).Run(args);
return 0;
