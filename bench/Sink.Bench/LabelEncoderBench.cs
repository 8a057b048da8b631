using Alerts.Core;
using Alerts.Sink.Kafka;
using BenchmarkDotNet.Attributes;

namespace Alerts.Sink.Bench;

/// <summary>Per-label encoding cost and allocation (expected: 0 B per label in steady state).</summary>
[MemoryDiagnoser]
public class LabelEncoderBench
{
    private List<Classification> _rows = null!;
    private readonly LabelAvroEncoder _wire = new(LabelEncoding.ConfluentWire, 7);
    private readonly LabelAvroEncoder _ocf = new(LabelEncoding.SingleRecordContainer);
    private readonly LabelRouter _router = LabelRouter.FromConfiguration(new Dictionary<string, string?> { ["all"] = "all", ["snia"] = "SNIa >= 0.8" });
    private readonly List<string> _topics = new();

    [GlobalSetup]
    public void Setup() => _rows = BenchData.Make(1000);

    [Benchmark(Baseline = true, OperationsPerInvoke = 1000)]
    public int ConfluentWire() { int n = 0; foreach (var c in _rows) n += _wire.Encode(c).Length; return n; }

    [Benchmark(OperationsPerInvoke = 1000)]
    public int SingleRecordContainer() { int n = 0; foreach (var c in _rows) n += _ocf.Encode(c).Length; return n; }

    [Benchmark(OperationsPerInvoke = 1000)]
    public int Route() { int n = 0; foreach (var c in _rows) { _router.Match(c, _topics); n += _topics.Count; } return n; }
}
