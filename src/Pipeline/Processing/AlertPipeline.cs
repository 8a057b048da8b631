using System.Diagnostics;
using System.Threading.Channels;
using Alerts.Core;

namespace Alerts.Pipeline.Processing;

/// <summary>Knobs of the in-process pipeline. Defaults suit a 2-core broker node.</summary>
public sealed record PipelineOptions
{
    /// <summary>Parallel decode (and preprocessing) workers.</summary>
    public int DecodeWorkers { get; init; } = Math.Max(1, Environment.ProcessorCount);

    /// <summary>Capacity of each bounded channel between stages: the back-pressure limit.</summary>
    public int ChannelCapacity { get; init; } = 1024;

    /// <summary>Largest inference micro-batch.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>How long the batcher waits to fill a batch before running a partial one.</summary>
    public TimeSpan MaxBatchWait { get; init; } = TimeSpan.FromMilliseconds(20);

    /// <summary>How often sinks are flushed (made durable) and completed positions reported.</summary>
    public TimeSpan FlushInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Classify loops (each: micro-batch → GP preprocessing → t2 inference). More than one takes effect only
    /// with a <see cref="ClassifierPool"/>; any other classifier is used by one loop, as IAlertClassifier requires.</summary>
    public int ClassifyWorkers { get; init; } = 1;

    /// <summary>Classified batches that may wait for the sink writer: while the sinks write or flush (Parquet footers +
    /// fsync, label acknowledgements), classification runs on for this many batches before it is held back.
    /// 0 writes each batch to the sinks on the classify loop itself (the single-loop wiring, kept for comparison:
    /// every flush then stalls classification).</summary>
    public int SinkQueueBatches { get; init; } = 8;

    /// <summary>Called once per alert when the pipeline no longer reads its bytes: after its micro-batch was classified
    /// (results hold no reference to the bytes), or after its dead letter was written and reported. The Kafka service
    /// passes <c>KafkaAlertSource.Release</c> so the payload arrays are reused. Only for dead-letter sinks that copy or
    /// write the bytes inside WriteAsync (both of ours do). Null: the bytes are left to the GC.</summary>
    public Action<RawAlert>? ReleasePayload { get; init; }
}

/// <summary>
/// The one-way flow source → decode → classify → sinks, wired with bounded channels so that a slow stage
/// pushes back on the ones before it instead of growing memory.
///
/// Delivery: a position is reported to <see cref="PositionsDurable"/> only after every sink has flushed the
/// rows (or dead letters) that came from it. The Kafka service feeds those positions to a per-partition
/// watermark and commits behind it: at-least-once, nothing skipped.
/// </summary>
public sealed class AlertPipeline
{
    private readonly Func<IAlertDecoder> _decoderFactory;
    private readonly IAlertClassifier _classifier;
    private readonly IReadOnlyList<IClassificationSink> _sinks;
    private readonly IDeadLetterSink? _deadLetters;
    private readonly PipelineOptions _options;
    private readonly List<SourcePosition> _pendingDurable = new();
    private readonly object _pendingLock = new();

    public AlertPipeline(
        Func<IAlertDecoder> decoderFactory,
        IAlertClassifier classifier,
        IReadOnlyList<IClassificationSink> sinks,
        IDeadLetterSink? deadLetters,
        PipelineOptions? options = null)
    {
        _decoderFactory = decoderFactory;
        _classifier = classifier;
        _sinks = sinks;
        _deadLetters = deadLetters;
        _options = options ?? new PipelineOptions();
    }

    public PipelineStats Stats { get; } = new();

    /// <summary>Raised (on the flushing task) with positions whose results every sink now holds durably.</summary>
    public event Action<IReadOnlyList<SourcePosition>>? PositionsDurable;

    /// <summary>Raised for each raw alert read from the source (metrics hook).</summary>
    public event Action<RawAlert>? Received;

    /// <summary>Raised for each successfully decoded alert (metrics hook).</summary>
    public event Action<DecodedAlert, TimeSpan>? AlertDecoded;

    /// <summary>Raised for each classified batch, after the sinks accepted it (metrics hook).</summary>
    public event Action<IReadOnlyList<Classification>>? BatchWritten;

    /// <summary>Raised after each inference micro-batch with its size and wall time (metrics hook).</summary>
    public event Action<int, TimeSpan>? BatchClassified;

    /// <summary>Raised when a periodic flush fails. The positions stay pending and the next flush retries them;
    /// the service decides whether the failure is fatal (a lost Kafka delivery is, a slow broker is not).</summary>
    public event Action<Exception>? FlushFailed;

    /// <summary>Raised for each dead letter, after the dead-letter sink accepted it (metrics hook).</summary>
    public event Action<DeadLetter>? DeadLettered;

    /// <summary>Runs until <paramref name="source"/> ends (or cancellation), then drains and flushes everything.</summary>
    public async Task RunAsync(IAsyncEnumerable<RawAlert> source, CancellationToken cancellationToken = default)
    {
        var raw = Channel.CreateBounded<RawAlert>(new BoundedChannelOptions(_options.ChannelCapacity)
        {
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        int classifyLoops = _classifier is ClassifierPool pool ? Math.Clamp(_options.ClassifyWorkers, 1, pool.Instances) : 1;
        var decoded = Channel.CreateBounded<DecodedAlert>(new BoundedChannelOptions(_options.ChannelCapacity)
        {
            SingleReader = classifyLoops == 1,
            FullMode = BoundedChannelFullMode.Wait,
        });
        // The hand-off between classification and the sinks: one writer task owns the sinks, so a flush that holds
        // them (footers, fsync, acks) stalls only that task while the classify loops fill this queue.
        var classified = Channel.CreateBounded<IReadOnlyList<Classification>>(new BoundedChannelOptions(Math.Max(1, _options.SinkQueueBatches))
        {
            SingleReader = true,
            SingleWriter = classifyLoops == 1,
            FullMode = BoundedChannelFullMode.Wait,
        });
        ClassifyLoops = classifyLoops;

        Stats.Start();
        using var flushCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var flusher = Task.Run(() => FlushPeriodicallyAsync(flushCts.Token), CancellationToken.None);

        var reader = Task.Run(async () =>
        {
            try
            {
                await foreach (var alert in source.WithCancellation(cancellationToken).ConfigureAwait(false))
                {
                    Stats.Read();
                    Received?.Invoke(alert);
                    await raw.Writer.WriteAsync(alert, cancellationToken).ConfigureAwait(false);
                }
            }
            finally
            {
                raw.Writer.TryComplete();
            }
        }, CancellationToken.None);

        var workers = new Task[_options.DecodeWorkers];
        for (int i = 0; i < workers.Length; i++)
            workers[i] = Task.Run(() => DecodeLoopAsync(raw.Reader, decoded.Writer, cancellationToken), CancellationToken.None);
        var allDecoded = Task.WhenAll(workers).ContinueWith(t => decoded.Writer.TryComplete(t.Exception), TaskScheduler.Default);

        var batchers = new Task[classifyLoops];
        for (int i = 0; i < batchers.Length; i++)
            batchers[i] = Task.Run(() => ClassifyLoopAsync(decoded.Reader, classified.Writer, cancellationToken), CancellationToken.None);
        var allClassified = Task.WhenAll(batchers).ContinueWith(t => classified.Writer.TryComplete(t.Exception), TaskScheduler.Default);
        var sinkWriter = Task.Run(async () =>
        {
            try
            {
                await SinkLoopAsync(classified.Reader, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                // Nobody reads the hand-off queue any more: close it so the classify loops fail instead of waiting on it
                // (as they did when they wrote the sinks themselves).
                classified.Writer.TryComplete(ex);
                throw;
            }
        }, CancellationToken.None);

        try
        {
            await Task.WhenAll(reader, allDecoded, allClassified, sinkWriter).ConfigureAwait(false);
        }
        finally
        {
            flushCts.Cancel();
            await flusher.ConfigureAwait(false);
        }
        // Final flush: everything that reached the sinks becomes durable before we return.
        await FlushAllAsync(CancellationToken.None).ConfigureAwait(false);
        Stats.Stop();
    }

    private async Task DecodeLoopAsync(ChannelReader<RawAlert> input, ChannelWriter<DecodedAlert> output, CancellationToken ct)
    {
        var decoder = _decoderFactory();
        await foreach (var raw in input.ReadAllAsync(ct).ConfigureAwait(false))
        {
            long start = Stopwatch.GetTimestamp();
            var clock = StageClock.Start();
            DecodeResult result;
            try
            {
                result = decoder.Decode(raw);
            }
            catch (Exception ex)
            {
                // Decoders promise not to throw; if one does, the alert still must not vanish.
                result = DecodeResult.Failed(new DeadLetter(raw, "decode", "decoder-exception", ex.GetType().Name + ": " + ex.Message, DateTimeOffset.UtcNow));
            }
            var decodeTime = Stopwatch.GetElapsedTime(start);
            Stats.AddDecodeTime(decodeTime);
            Stats.AddStage("decode", 1, clock);

            if (result.Alert is { } alert)
            {
                Stats.Decoded(alert.Identity.Survey);
                AlertDecoded?.Invoke(alert, decodeTime);
                await output.WriteAsync(alert, ct).ConfigureAwait(false);
            }
            else
            {
                await DeadLetterAsync(result.DeadLetter!, ct).ConfigureAwait(false);
            }
        }
    }

    private async Task DeadLetterAsync(DeadLetter deadLetter, CancellationToken ct)
    {
        Stats.DeadLettered(deadLetter.Reason);
        if (_deadLetters is not null)
            await _deadLetters.WriteAsync(deadLetter, ct).ConfigureAwait(false);
        DeadLettered?.Invoke(deadLetter);
        MarkWritten(deadLetter.Source.Position);
        _options.ReleasePayload?.Invoke(deadLetter.Source);
    }

    /// <summary>Classify loops running in the current (or last) run: 1, or the pool's size with a <see cref="ClassifierPool"/>.</summary>
    public int ClassifyLoops { get; private set; } = 1;

    private async Task ClassifyLoopAsync(ChannelReader<DecodedAlert> input, ChannelWriter<IReadOnlyList<Classification>> output, CancellationToken ct)
    {
        var batch = new List<DecodedAlert>(_options.BatchSize);
        while (await input.WaitToReadAsync(ct).ConfigureAwait(false))
        {
            // Fill a micro-batch: take what is there, then wait at most MaxBatchWait for the rest.
            var deadline = Stopwatch.GetTimestamp() + (long)(_options.MaxBatchWait.TotalSeconds * Stopwatch.Frequency);
            while (batch.Count < _options.BatchSize)
            {
                if (input.TryRead(out var next)) { batch.Add(next); continue; }
                var remaining = deadline - Stopwatch.GetTimestamp();
                if (remaining <= 0) break;
                using var waitCts = CancellationTokenSource.CreateLinkedTokenSource(ct);
                waitCts.CancelAfter(TimeSpan.FromSeconds((double)remaining / Stopwatch.Frequency));
                try
                {
                    if (!await input.WaitToReadAsync(waitCts.Token).ConfigureAwait(false)) break;
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    break;
                }
            }
            if (batch.Count == 0) continue;
            var (results, error) = ClassifyBatch(batch);
            if (results is not null && _options.ReleasePayload is { } release)
                foreach (var a in batch) release(a.Source);
            if (results is not null && _options.SinkQueueBatches <= 0)
            {
                await WriteToSinksAsync(results, ct).ConfigureAwait(false);
            }
            else if (results is not null)
            {
                var wait = StageClock.Start();
                if (!output.TryWrite(results))
                {
                    await output.WriteAsync(results, ct).ConfigureAwait(false);
                    Stats.AddStage("classify.wait-for-sinks", results.Count, wait, cpuKnown: false);
                }
            }
            else
            {
                // A classifier failure dead-letters the batch with its bytes; the service keeps running.
                foreach (var a in batch)
                    await DeadLetterAsync(new DeadLetter(a.Source, "classify", "classifier-exception", error!, DateTimeOffset.UtcNow), ct).ConfigureAwait(false);
            }
            batch.Clear();
        }
    }

    /// <summary>GP preprocessing + inference of one micro-batch; no results but an error when the classifier threw.</summary>
    private (IReadOnlyList<Classification>? Results, string? Error) ClassifyBatch(List<DecodedAlert> batch)
    {
        long start = Stopwatch.GetTimestamp();
        var clock = StageClock.Start();
        IReadOnlyList<Classification> results;
        try
        {
            results = _classifier.Classify(batch);
        }
        catch (Exception ex)
        {
            return (null, ex.GetType().Name + ": " + ex.Message);
        }
        var batchTime = Stopwatch.GetElapsedTime(start);
        Stats.AddStage("classify", batch.Count, clock);
        Stats.AddBatch(batch.Count, batchTime);
        BatchClassified?.Invoke(batch.Count, batchTime);
        return (results, null);
    }

    private async Task SinkLoopAsync(ChannelReader<IReadOnlyList<Classification>> input, CancellationToken ct)
    {
        await foreach (var results in input.ReadAllAsync(ct).ConfigureAwait(false))
            await WriteToSinksAsync(results, ct).ConfigureAwait(false);
    }

    private async Task WriteToSinksAsync(IReadOnlyList<Classification> results, CancellationToken ct)
    {
        // Sinks have one writer at a time: a flush must not interleave with a write (the gate serialises both).
        var gateWait = StageClock.Start();
        await _flushGate.WaitAsync(ct).ConfigureAwait(false);
        Stats.AddStage("sinks.wait-for-flush", results.Count, gateWait, cpuKnown: false);
        var now = DateTimeOffset.UtcNow;
        try
        {
            for (int i = 0; i < _sinks.Count; i++)
            {
                var clock = StageClock.Start();
                var write = _sinks[i].WriteAsync(results, ct);
                bool synchronous = write.IsCompleted;
                await write.ConfigureAwait(false);
                Stats.AddStage("write." + SinkLabel(i), results.Count, clock, synchronous);
            }
            foreach (var r in results)
            {
                Stats.Classified(r, now);
                MarkWritten(r.Source);
            }
        }
        finally
        {
            _flushGate.Release();
        }
        BatchWritten?.Invoke(results);
    }

    private string[]? _sinkLabels;

    /// <summary>Short stage label of sink i: its type name without "Sink" (ParquetArchive, KafkaLabel, ...).</summary>
    private string SinkLabel(int i)
    {
        _sinkLabels ??= _sinks.Select(s => s.GetType().Name.Replace("Sink", "")).ToArray();
        return _sinkLabels[i];
    }

    private void MarkWritten(SourcePosition position)
    {
        lock (_pendingLock) _pendingDurable.Add(position);
    }

    private async Task FlushPeriodicallyAsync(CancellationToken ct)
    {
        // Only the wait is cancellable: a flush that has taken its snapshot of written positions must finish,
        // or those positions would never be reported durable.
        // The interval runs from the END of the previous flush, not on a fixed clock: a flush that takes longer than
        // the interval (many open Parquet files, slow acknowledgements) would otherwise be followed at once by the next
        // and hold the sink gate almost all the time, starving the batcher (measured: one batch per flush).
        try
        {
            while (true)
            {
                await Task.Delay(_options.FlushInterval, ct).ConfigureAwait(false);
                try
                {
                    await FlushAllAsync(CancellationToken.None, everything: false).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // Keep flushing: a broker that comes back makes the pending positions durable on a later tick.
                    FlushFailed?.Invoke(ex);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    private readonly SemaphoreSlim _flushGate = new(1, 1);

    /// <summary>
    /// Flushes every sink, then reports the positions written before the flush started as durable. Without
    /// <paramref name="everything"/> (the periodic tick) an <see cref="IDeferringSink"/> flushes only what is due; while
    /// it still holds rows that are not durable, the positions stay pending for a later flush.
    /// </summary>
    public async Task FlushAllAsync(CancellationToken ct, bool everything = true)
    {
        await _flushGate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            SourcePosition[] written;
            lock (_pendingLock)
            {
                written = _pendingDurable.ToArray();
                _pendingDurable.Clear();
            }
            try
            {
                for (int i = 0; i < _sinks.Count; i++)
                {
                    var clock = StageClock.Start();
                    var flush = !everything && _sinks[i] is IDeferringSink deferring ? deferring.FlushDueAsync(ct) : _sinks[i].FlushAsync(ct);
                    bool synchronous = flush.IsCompleted;
                    await flush.ConfigureAwait(false);
                    Stats.AddStage("flush." + SinkLabel(i), written.Length, clock, synchronous);
                }
                if (_deadLetters is not null)
                {
                    var clock = StageClock.Start();
                    var flush = _deadLetters.FlushAsync(ct);
                    bool synchronous = flush.IsCompleted;
                    await flush.ConfigureAwait(false);
                    Stats.AddStage("flush.dead-letters", 0, clock, synchronous);
                }
            }
            catch
            {
                // Not durable: keep the positions pending so they are reported by a later successful flush.
                lock (_pendingLock) _pendingDurable.InsertRange(0, written);
                throw;
            }
            if (_sinks.Any(s => s is IDeferringSink { HoldsUndurableRows: true }))
            {
                // Some rows written before the snapshot may still be in an open file: not durable yet.
                lock (_pendingLock) _pendingDurable.InsertRange(0, written);
                return;
            }
            if (written.Length > 0)
                PositionsDurable?.Invoke(written);
        }
        finally
        {
            _flushGate.Release();
        }
    }
}
