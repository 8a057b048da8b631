namespace Alerts.Core;

/// <summary>Where an alert's bytes came from: a file (and record index inside it) or a Kafka topic/partition/offset.</summary>
public readonly record struct SourcePosition(string Origin, int Partition, long Offset)
{
    /// <summary>A file source: Origin is the path (for a tarball, "archive.tar.gz!member.avro"), Offset the record index.</summary>
    public static SourcePosition File(string path, long recordIndex = 0) => new(path, -1, recordIndex);

    /// <summary>A Kafka source: Origin is the topic.</summary>
    public static SourcePosition Kafka(string topic, int partition, long offset) => new(topic, partition, offset);

    public bool IsKafka => Partition >= 0;

    public override string ToString() => IsKafka ? $"{Origin}[{Partition}]@{Offset}" : (Offset == 0 ? Origin : $"{Origin}#{Offset}");
}

/// <summary>
/// The undecoded bytes of one alert as a source hands them over: an Avro container file holding one alert,
/// one record cut out of a multi-record container, or a Confluent wire-format message.
/// <see cref="ReceivedAt"/> is when Alerts got the bytes; <see cref="SourceTimestamp"/> is the Kafka message
/// timestamp (or the file's modification time), used for end-to-end latency.
/// </summary>
public sealed record RawAlert(
    ReadOnlyMemory<byte> Payload,
    SourcePosition Position,
    DateTimeOffset ReceivedAt,
    DateTimeOffset? SourceTimestamp = null)
{
    /// <summary>
    /// Set by a source that refused the input itself (e.g. a tarball member over its size limit, a link member):
    /// the decoder turns it into a dead letter with this reason code and <see cref="RejectedDetail"/>, and
    /// <see cref="Payload"/> holds what the source kept of the original bytes.
    /// </summary>
    public string? RejectedReason { get; init; }

    public string? RejectedDetail { get; init; }
}
