namespace Alerts.Core;

// Stage contracts. Data flows one way: source -> decode -> light curve -> features -> model -> sinks.
// Stages meet only through these interfaces and the records in this project.

/// <summary>Produces raw alert bytes: files, folders, tarballs, container files, Kafka partitions.</summary>
public interface IAlertSource
{
    /// <summary>Human-readable description for logs and summaries ("folder /data/night", "kafka ztf_.*").</summary>
    string Description { get; }

    IAsyncEnumerable<RawAlert> ReadAsync(CancellationToken cancellationToken = default);
}

/// <summary>Turns raw bytes into a normalised alert, or a dead letter. Never throws for bad input.</summary>
public interface IAlertDecoder
{
    DecodeResult Decode(RawAlert raw);
}

/// <summary>
/// Turns a light curve into the fixed-size model input (t2: [steps, bands] after the GP fit).
/// Returns null on success, or the reason the alert cannot be classified.
/// </summary>
public interface IFeatureExtractor
{
    /// <summary>Number of time steps in the output grid.</summary>
    int Steps { get; }

    /// <summary>The bands the model needs, in the channel order of the output.</summary>
    IReadOnlyList<Band> Channels { get; }

    /// <summary>Writes Steps x Channels.Count values (row-major, time first) into <paramref name="destination"/>.</summary>
    string? Extract(LightCurve lightCurve, Span<float> destination);
}

/// <summary>A classifier over batches of decoded alerts.</summary>
public interface IAlertClassifier
{
    /// <summary>Content hash (or name) identifying the model that produced a label.</summary>
    string ModelId { get; }

    IReadOnlyList<string> ClassNames { get; }

    /// <summary>Classifies a batch; returns one result per input, in input order.</summary>
    IReadOnlyList<Classification> Classify(IReadOnlyList<DecodedAlert> batch);
}

/// <summary>
/// A destination for classifications. <see cref="FlushAsync"/> returns only when everything written so far is
/// durable (Parquet file renamed into place, Kafka deliveries acknowledged): offsets are committed after it.
/// </summary>
public interface IClassificationSink : IAsyncDisposable
{
    string Name { get; }

    ValueTask WriteAsync(IReadOnlyList<Classification> batch, CancellationToken cancellationToken = default);

    ValueTask FlushAsync(CancellationToken cancellationToken = default);
}

/// <summary>
/// A sink that may keep written rows in open files across the pipeline's periodic flushes, to write fewer, larger files.
/// The pipeline calls <see cref="FlushDueAsync"/> on its periodic tick and reports positions durable only when
/// <see cref="HoldsUndurableRows"/> is false afterwards; <see cref="IClassificationSink.FlushAsync"/> (rebalance,
/// shutdown) still makes everything durable.
/// </summary>
public interface IDeferringSink : IClassificationSink
{
    /// <summary>Makes durable what the sink's policy says is due (all of it, or nothing).</summary>
    ValueTask FlushDueAsync(CancellationToken cancellationToken = default);

    /// <summary>True while some written rows are not yet durable.</summary>
    bool HoldsUndurableRows { get; }
}

/// <summary>Keeps dead letters (folder, topic). Like any sink, durable after <see cref="FlushAsync"/>.</summary>
public interface IDeadLetterSink : IAsyncDisposable
{
    ValueTask WriteAsync(DeadLetter deadLetter, CancellationToken cancellationToken = default);

    ValueTask FlushAsync(CancellationToken cancellationToken = default);
}
