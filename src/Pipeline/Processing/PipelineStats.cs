using System.Collections.Concurrent;
using System.Diagnostics;
using Alerts.Core;

namespace Alerts.Pipeline.Processing;

/// <summary>
/// Counters and latency samples of one pipeline run, for the summary table that replay, demo and bench print.
/// (Prometheus metrics of the long-running service are separate; these are cheap in-process tallies.)
/// </summary>
public sealed class PipelineStats
{
    private long _read, _decoded, _deadLettered, _classified, _notClassified, _batches, _batchAlerts;
    private long _decodeTicks, _batchTicks;
    private readonly ConcurrentDictionary<string, long> _deadLetterReasons = new();
    private readonly ConcurrentDictionary<string, long> _notClassifiedReasons = new();
    private readonly ConcurrentDictionary<string, long> _labels = new();
    private readonly ConcurrentDictionary<Survey, long> _surveys = new();
    private readonly LatencyReservoir _endToEnd = new(200_000);
    private readonly Stopwatch _clock = new();

    public void Start() => _clock.Start();
    public void Stop() => _clock.Stop();

    public TimeSpan Elapsed => _clock.Elapsed;
    public long ReadCount => Interlocked.Read(ref _read);
    public long DecodedCount => Interlocked.Read(ref _decoded);
    public long DeadLetterCount => Interlocked.Read(ref _deadLettered);
    public long ClassifiedCount => Interlocked.Read(ref _classified);
    public long NotClassifiedCount => Interlocked.Read(ref _notClassified);
    public long Batches => Interlocked.Read(ref _batches);
    public double MeanBatchSize => Batches == 0 ? 0 : (double)Interlocked.Read(ref _batchAlerts) / Batches;
    public double MeanDecodeMicros => DecodedCount + DeadLetterCount == 0 ? 0 : TicksToMicros(_decodeTicks) / (DecodedCount + DeadLetterCount);
    public double MeanClassifyMicrosPerAlert => _batchAlerts == 0 ? 0 : TicksToMicros(_batchTicks) / _batchAlerts;
    public double AlertsPerSecond => Elapsed.TotalSeconds <= 0 ? 0 : ReadCount / Elapsed.TotalSeconds;

    public IReadOnlyDictionary<string, long> DeadLetterReasons => _deadLetterReasons;
    public IReadOnlyDictionary<string, long> NotClassifiedReasons => _notClassifiedReasons;
    public IReadOnlyDictionary<string, long> Labels => _labels;
    public IReadOnlyDictionary<Survey, long> Surveys => _surveys;

    /// <summary>End-to-end latency percentile in milliseconds, from receipt of the bytes to the sinks' write.</summary>
    public double LatencyPercentileMs(double p) => _endToEnd.Percentile(p);

    internal void Read() => Interlocked.Increment(ref _read);

    internal void Decoded(Survey survey)
    {
        Interlocked.Increment(ref _decoded);
        _surveys.AddOrUpdate(survey, 1, (_, n) => n + 1);
    }

    internal void DeadLettered(string reason)
    {
        Interlocked.Increment(ref _deadLettered);
        _deadLetterReasons.AddOrUpdate(reason, 1, (_, n) => n + 1);
    }

    internal void AddDecodeTime(TimeSpan t) => Interlocked.Add(ref _decodeTicks, t.Ticks);

    internal void AddBatch(int size, TimeSpan t)
    {
        Interlocked.Increment(ref _batches);
        Interlocked.Add(ref _batchAlerts, size);
        Interlocked.Add(ref _batchTicks, t.Ticks);
    }

    internal void Classified(Classification c, DateTimeOffset writtenAt)
    {
        if (c.IsClassified)
        {
            Interlocked.Increment(ref _classified);
            _labels.AddOrUpdate(c.Label!, 1, (_, n) => n + 1);
        }
        else
        {
            Interlocked.Increment(ref _notClassified);
            _notClassifiedReasons.AddOrUpdate(c.Reason!, 1, (_, n) => n + 1);
        }
        _endToEnd.Add((writtenAt - c.IngestedAt).TotalMilliseconds);
    }

    private readonly ConcurrentDictionary<string, StageAccumulator> _stages = new();

    /// <summary>Per-stage wall and thread-CPU totals (decode, classify, sink writes and flushes, hand-off waits, commits).</summary>
    public IReadOnlyDictionary<string, StageTotals> Stages =>
        _stages.ToDictionary(kv => kv.Key, kv => kv.Value.Snapshot());

    /// <summary>Adds one call of <paramref name="stage"/> that handled <paramref name="items"/> alerts.</summary>
    /// <param name="cpuKnown">False for waits and for work that went asynchronous: the thread's CPU over that span
    /// may belong to whatever else it ran meanwhile.</param>
    public void AddStage(string stage, long items, in StageClock clock, bool cpuKnown = true)
    {
        var wall = clock.Wall;
        var cpu = cpuKnown ? clock.Cpu : null;
        _stages.GetOrAdd(stage, _ => new StageAccumulator()).Add(items, wall, cpu);
    }

    private sealed class StageAccumulator
    {
        private long _calls, _items, _wallTicks, _cpuTicks, _cpuCalls;

        public void Add(long items, TimeSpan wall, TimeSpan? cpu)
        {
            Interlocked.Increment(ref _calls);
            Interlocked.Add(ref _items, items);
            Interlocked.Add(ref _wallTicks, wall.Ticks);
            if (cpu is { } c)
            {
                Interlocked.Add(ref _cpuTicks, c.Ticks);
                Interlocked.Increment(ref _cpuCalls);
            }
        }

        public StageTotals Snapshot() => new(Interlocked.Read(ref _calls), Interlocked.Read(ref _items),
            TimeSpan.FromTicks(Interlocked.Read(ref _wallTicks)), TimeSpan.FromTicks(Interlocked.Read(ref _cpuTicks)), Interlocked.Read(ref _cpuCalls));
    }

    private static double TicksToMicros(long ticks) => ticks / (double)TimeSpan.TicksPerMillisecond * 1000.0;
}

/// <summary>Keeps up to <c>capacity</c> samples (uniform reservoir sampling past that) for percentiles.</summary>
public sealed class LatencyReservoir(int capacity)
{
    private readonly double[] _samples = new double[capacity];
    private long _seen;
    private readonly Random _random = new(12345);
    private readonly object _lock = new();

    public void Add(double value)
    {
        lock (_lock)
        {
            long n = _seen++;
            if (n < _samples.Length) _samples[n] = value;
            else
            {
                long j = _random.NextInt64(n + 1);
                if (j < _samples.Length) _samples[j] = value;
            }
        }
    }

    public double Percentile(double p)
    {
        double[] copy;
        lock (_lock)
        {
            int count = (int)Math.Min(_seen, _samples.Length);
            if (count == 0) return double.NaN;
            copy = _samples[..count];
        }
        Array.Sort(copy);
        double rank = Math.Clamp(p / 100.0, 0, 1) * (copy.Length - 1);
        int lo = (int)Math.Floor(rank), hi = (int)Math.Ceiling(rank);
        return copy[lo] + (copy[hi] - copy[lo]) * (rank - lo);
    }
}
