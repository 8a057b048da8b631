using System.Runtime.CompilerServices;
using Alerts.Core;
using Alerts.Ingest.Avro;
using Alerts.Ingest.Decoding;
using Alerts.Pipeline.Commands;
using Alerts.Pipeline.Processing;
using Alerts.Simulator;
using Alerts.Sink.DeadLetters;
using Alerts.Sink.Parquet;
using Alerts.Tests.Shared;
using Parquet;

namespace Alerts.Pipeline.Tests;

/// <summary>
/// The channel pipeline with real parts end to end: simulated ZTF alerts in their real byte format, our decoder,
/// the shipped t2 model, the Parquet archive and the dead-letter folder.
/// </summary>
public sealed class AlertPipelineTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "alerts-pipeline-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (DirectoryNotFoundException) { }
    }

    [Fact]
    public async Task Every_alert_lands_once_in_parquet_or_dead_letters_and_every_position_becomes_durable()
    {
        var simulated = new SimulatedAlertSource(new SimulationOptions { Survey = Survey.Ztf, Objects = 25, Seed = 7, SpanDays = 30 });
        var input = WithGarbage(simulated.ReadAsync(), every: 40);
        var registry = new AvroSchemaRegistry(RepoPaths.Of("schemas", "lsst"));
        using var classifier = ReplayCommand.LoadModels([RepoPaths.Of("models", "t2-ztf.onnx")], preprocessWorkers: 2);
        var archive = new ParquetArchiveSink(new ParquetArchiveOptions { Root = Path.Combine(_dir, "archive"), WriterId = "test" });
        var deadLetters = new FolderDeadLetterSink(Path.Combine(_dir, "dead"));
        var pipeline = new AlertPipeline(() => new AlertDecoder(registry), classifier, [archive], deadLetters,
            new PipelineOptions { DecodeWorkers = 2, BatchSize = 16, ChannelCapacity = 8, FlushInterval = TimeSpan.FromMilliseconds(200) });
        var durable = new List<SourcePosition>();
        pipeline.PositionsDurable += batch => { lock (durable) durable.AddRange(batch); };
        var received = new List<SourcePosition>();
        pipeline.Received += r => { lock (received) received.Add(r.Position); };
        var labelled = new List<Classification>();
        pipeline.BatchWritten += batch => { lock (labelled) labelled.AddRange(batch); };

        await pipeline.RunAsync(input.Stream);
        await archive.DisposeAsync();

        var stats = pipeline.Stats;
        Assert.True(stats.ReadCount > 100, $"the simulator produced only {stats.ReadCount} alerts");
        Assert.Equal(input.GarbageCount, stats.DeadLetterCount);
        Assert.Equal(input.GarbageCount, deadLetters.Written);
        Assert.Equal(stats.ReadCount, stats.DecodedCount + stats.DeadLetterCount);
        Assert.Equal(stats.DecodedCount, stats.ClassifiedCount + stats.NotClassifiedCount);
        Assert.True(stats.ClassifiedCount > stats.DecodedCount / 2, $"only {stats.ClassifiedCount} of {stats.DecodedCount} classified");

        // Each read position reported durable exactly once: what a Kafka watermark commits behind.
        var read = received.ToHashSet();
        var missing = read.Except(durable).ToList();
        Assert.True(missing.Count == 0, "not durable: " + string.Join(", ", missing.Take(5)) + $" received {received.Count} distinct {read.Count} durable {durable.Count} distinct {durable.Distinct().Count()}");
        Assert.Equal(stats.ReadCount, durable.Count);
        Assert.Equal(durable.Count, durable.Distinct().Count());

        // Parquet holds every decoded alert exactly once, with the model's probabilities.
        var ids = await ReadAlertIds(Path.Combine(_dir, "archive"));
        Assert.Equal(stats.DecodedCount, ids.Count);
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.Equal(simulated.Truth.Keys.Order(), ids.Order());

        foreach (var c in labelled.Where(c => c.IsClassified))
        {
            Assert.Equal(T2Classes.Count, c.Probabilities.Length);
            Assert.Equal(1.0, c.Probabilities.Sum(p => (double)p), 3);
            Assert.Equal(c.Probabilities.Max(), c.LabelProbability);
            Assert.Equal(T2Classes.Names[Array.IndexOf(c.Probabilities, c.Probabilities.Max())], c.Label);
        }
    }

    private static async Task<List<long>> ReadAlertIds(string root) =>
        (await Kafka.ServiceHarness.ReadArchiveIdsByWriterAsync(root)).Values.SelectMany(ids => ids).ToList();

    private sealed class GarbageMix
    {
        public int GarbageCount;
        public IAsyncEnumerable<RawAlert> Stream = null!;
    }

    /// <summary>Inserts a garbage record (bad magic, random bytes) after every <paramref name="every"/> good ones.</summary>
    private static GarbageMix WithGarbage(IAsyncEnumerable<RawAlert> good, int every)
    {
        var mix = new GarbageMix();
        mix.Stream = Mix(good, every, mix);
        return mix;

        static async IAsyncEnumerable<RawAlert> Mix(IAsyncEnumerable<RawAlert> good, int every, GarbageMix mix, [EnumeratorCancellation] CancellationToken ct = default)
        {
            int n = 0;
            var random = new Random(3);
            await foreach (var a in good.WithCancellation(ct))
            {
                yield return a;
                if (++n % every == 0)
                {
                    var bytes = new byte[200];
                    random.NextBytes(bytes);
                    bytes[0] = 0x7F;
                    mix.GarbageCount++;
                    yield return new RawAlert(bytes, SourcePosition.File("garbage", n), DateTimeOffset.UtcNow);
                }
            }
        }
    }
}
