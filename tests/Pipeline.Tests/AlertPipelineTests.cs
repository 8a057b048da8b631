using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Alerts.Core;
using Alerts.Avro;
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

    [Theory]
    [InlineData(1, 0)] // one classify loop with a parallel GP, sinks written on it (the single-loop wiring)
    [InlineData(2, 4)] // two pooled classify loops, sinks behind a hand-off queue (the service's default wiring)
    public async Task Every_alert_lands_once_in_parquet_or_dead_letters_and_every_position_becomes_durable(int classifyWorkers, int sinkQueueBatches)
    {
        var simulated = new SimulatedAlertSource(new SimulationOptions { Survey = Survey.Ztf, Objects = 25, Seed = 7, SpanDays = 30 });
        var input = WithGarbage(simulated.ReadAsync(), every: 40);
        var registry = new AvroSchemaRegistry(RepoPaths.Of("schemas", "lsst"));
        IAlertClassifier classifier = classifyWorkers == 1
            ? ReplayCommand.LoadModels([RepoPaths.Of("models", "t2-ztf.onnx")], preprocessWorkers: 2)
            : new ClassifierPool(Enumerable.Range(0, classifyWorkers).Select(_ => (IAlertClassifier)ReplayCommand.LoadModels([RepoPaths.Of("models", "t2-ztf.onnx")], 1)).ToList());
        using var disposeModels = (IDisposable)classifier;
        var archive = new ParquetArchiveSink(new ParquetArchiveOptions { Root = Path.Combine(_dir, "archive"), WriterId = "test" });
        var deadLetters = new FolderDeadLetterSink(Path.Combine(_dir, "dead"));
        // The service hands released payloads back to the Kafka source for reuse. Scribbling over each one as it is
        // released proves nothing reads an alert's bytes afterwards: the archive and the dead-letter files stay exact.
        var released = new List<SourcePosition>();
        var pipeline = new AlertPipeline(() => new AlertDecoder(registry), classifier, [archive], deadLetters,
            new PipelineOptions
            {
                DecodeWorkers = 2, BatchSize = 16, ChannelCapacity = 8, FlushInterval = TimeSpan.FromMilliseconds(200), ClassifyWorkers = classifyWorkers, SinkQueueBatches = sinkQueueBatches,
                ReleasePayload = r =>
                {
                    lock (released) released.Add(r.Position);
                    MemoryMarshal.AsMemory(r.Payload).Span.Fill(0xEE);
                },
            });
        var durable = new List<SourcePosition>();
        pipeline.PositionsDurable += batch => { lock (durable) durable.AddRange(batch); };
        var received = new List<SourcePosition>();
        pipeline.Received += r => { lock (received) received.Add(r.Position); };
        var labelled = new List<Classification>();
        pipeline.BatchWritten += batch => { lock (labelled) labelled.AddRange(batch); };

        await pipeline.RunAsync(input.Stream);
        await archive.DisposeAsync();

        var stats = pipeline.Stats;
        Assert.Equal(classifyWorkers, pipeline.ClassifyLoops);
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

        // Every alert's bytes released exactly once, and none before its dead letter was written.
        Assert.Equal(stats.ReadCount, released.Count);
        Assert.True(read.SetEquals(released), "released positions differ from the read ones");
        var deadLetterFiles = Directory.GetFiles(Path.Combine(_dir, "dead"), "*.bin", SearchOption.AllDirectories);
        Assert.Equal(input.GarbageCount, deadLetterFiles.Length);
        Assert.All(deadLetterFiles, f => { var b = File.ReadAllBytes(f); Assert.Equal(200, b.Length); Assert.Equal(0x7F, b[0]); });

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

    [Fact]
    public async Task A_blocked_sink_flush_does_not_stop_classification_and_positions_become_durable_only_after_it()
    {
        // 96 simulated alerts fed by hand: 16 before the first flush blocks, 80 while it is blocked.
        var raws = await new SimulatedAlertSource(new SimulationOptions { Survey = Survey.Ztf, Objects = 30, Seed = 5, SpanDays = 30 })
            .ReadAsync().Take(96).ToListAsync();
        Assert.Equal(96, raws.Count);
        var registry = new AvroSchemaRegistry(RepoPaths.Of("schemas", "lsst"));
        using var classifier = new ClassifierPool([ReplayCommand.LoadModels([RepoPaths.Of("models", "t2-ztf.onnx")], 1), ReplayCommand.LoadModels([RepoPaths.Of("models", "t2-ztf.onnx")], 1)]);
        var archive = new ParquetArchiveSink(new ParquetArchiveOptions { Root = Path.Combine(_dir, "archive"), WriterId = "test" });
        var gate = new BlockingFlushSink();
        var pipeline = new AlertPipeline(() => new AlertDecoder(registry), classifier, [archive, gate], null,
            new PipelineOptions { DecodeWorkers = 2, BatchSize = 8, MaxBatchWait = TimeSpan.FromMilliseconds(5), ChannelCapacity = 16,
                FlushInterval = TimeSpan.FromMilliseconds(100), ClassifyWorkers = 2, SinkQueueBatches = 16 });
        var durable = new List<SourcePosition>();
        pipeline.PositionsDurable += batch => { lock (durable) durable.AddRange(batch); };
        var source = System.Threading.Channels.Channel.CreateUnbounded<RawAlert>();
        var run = pipeline.RunAsync(source.Reader.ReadAllAsync());

        foreach (var r in raws.Take(16)) await source.Writer.WriteAsync(r);
        await gate.FlushBlocked.WaitAsync(TimeSpan.FromSeconds(60));
        int durableWhenBlocked;
        lock (durable) durableWhenBlocked = durable.Count;

        foreach (var r in raws.Skip(16)) await source.Writer.WriteAsync(r);
        // Classification (GP + inference) goes on for all 96 alerts although the sinks are held by the flush.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (pipeline.Stats.Batches * pipeline.Stats.MeanBatchSize < 96 - 0.5 && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.Equal(96, (int)Math.Round(pipeline.Stats.Batches * pipeline.Stats.MeanBatchSize));
        Assert.True(gate.Blocked, "the flush was released early");
        lock (durable) Assert.Equal(durableWhenBlocked, durable.Count); // nothing new is durable while a sink has not flushed
        Assert.True(pipeline.Stats.Stages["classify"].Items >= 96);

        gate.Release();
        source.Writer.Complete();
        await run.WaitAsync(TimeSpan.FromSeconds(60));
        await archive.DisposeAsync();
        Assert.Equal(raws.Select(r => r.Position.Offset).Order(), durable.Select(p => p.Offset).Order());
        Assert.Equal(96, gate.Written);
        Assert.Equal(96, (await ReadAlertIds(Path.Combine(_dir, "archive"))).Distinct().Count());
    }

    [Fact]
    public async Task A_classifier_pool_gives_each_concurrent_caller_the_same_probabilities_as_one_instance()
    {
        var raws = await new SimulatedAlertSource(new SimulationOptions { Survey = Survey.Ztf, Objects = 12, Seed = 9, SpanDays = 30 })
            .ReadAsync().Take(48).ToListAsync();
        var decoder = new AlertDecoder(new AvroSchemaRegistry(RepoPaths.Of("schemas", "lsst")));
        var alerts = raws.Select(r => decoder.Decode(r).Alert!).ToList();
        var model = RepoPaths.Of("models", "t2-ztf.onnx");
        using var reference = ReplayCommand.LoadModels([model], 1);
        var expected = reference.Classify(alerts);
        using var pool = new ClassifierPool([ReplayCommand.LoadModels([model], 1), ReplayCommand.LoadModels([model], 1)]);
        Assert.Equal(2, pool.Instances);
        Assert.Equal(reference.ModelId, pool.ModelId);

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => pool.Classify(alerts))));
        foreach (var got in results)
            for (int i = 0; i < alerts.Count; i++)
            {
                Assert.Equal(expected[i].Label, got[i].Label);
                Assert.Equal(expected[i].Probabilities, got[i].Probabilities);
            }
    }

    /// <summary>A sink whose first flush blocks until released (a slow fsync or broker ack, made controllable).</summary>
    private sealed class BlockingFlushSink : IClassificationSink
    {
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _blocked = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _flushes, _written;

        public string Name => "blocking-flush";
        public Task FlushBlocked => _blocked.Task;
        public bool Blocked => _blocked.Task.IsCompleted && !_release.Task.IsCompleted;
        public int Written => Volatile.Read(ref _written);
        public void Release() => _release.TrySetResult();

        public ValueTask WriteAsync(IReadOnlyList<Classification> batch, CancellationToken cancellationToken = default)
        {
            Interlocked.Add(ref _written, batch.Count);
            return ValueTask.CompletedTask;
        }

        public async ValueTask FlushAsync(CancellationToken cancellationToken = default)
        {
            if (Interlocked.Increment(ref _flushes) != 1) return;
            _blocked.TrySetResult();
            await _release.Task;
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
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
