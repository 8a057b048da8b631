using System.Runtime.CompilerServices;
using Alerts.Core;
using Alerts.Avro;

namespace Alerts.Ingest.Sources;

/// <summary>
/// Shared by the file-based sources: turns the bytes of one file into raw alerts. A one-record container file is
/// handed over whole (the normal ZTF case); a multi-record container is cut into Avro single-object records after
/// its writer schema is registered, so every <see cref="RawAlert"/> is self-describing and a dead letter keeps
/// exactly one record's bytes. Anything else (Confluent wire messages, garbage) is handed over as it is and
/// judged by the decoder.
/// </summary>
public static class AlertFiles
{
    /// <summary>File name endings the folder and tarball sources pick up.</summary>
    public static readonly string[] Extensions = [".avro", ".wire"];

    public static bool IsAlertFile(string name) =>
        Extensions.Any(e => name.EndsWith(e, StringComparison.OrdinalIgnoreCase));

    public static bool IsTarball(string name) =>
        name.EndsWith(".tar.gz", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".tgz", StringComparison.OrdinalIgnoreCase)
        || name.EndsWith(".tar", StringComparison.OrdinalIgnoreCase);

    public static IEnumerable<RawAlert> Split(byte[] bytes, string origin, AvroSchemaRegistry registry, DateTimeOffset? timestamp)
    {
        if (!ContainerHeader.HasMagic(bytes) || CountRecords(bytes) is <= 1)
        {
            yield return new RawAlert(bytes, SourcePosition.File(origin), DateTimeOffset.UtcNow, timestamp);
            yield break;
        }
        foreach (var r in ContainerRecords(bytes, origin, registry, timestamp)) yield return r;
    }

    /// <summary>Number of records in a container, or null when the header or a block is unreadable (then the decoder judges it).</summary>
    private static long? CountRecords(byte[] bytes)
    {
        try
        {
            var h = ContainerHeader.Parse(bytes);
            long n = 0;
            int at = h.DataStart;
            while (AvroContainer.TryReadBlock(bytes, h, at, out var b)) { n += b.Count; at = b.NextBlock; if (n > 1) break; }
            return n;
        }
        catch (AvroFormatException) { return null; }
    }

    /// <summary>
    /// Cuts a container into single-object records. A corrupt block becomes one raw alert holding the block's
    /// unreadable remainder (the decoder dead-letters it), then reading resumes at the next sync marker.
    /// </summary>
    public static IEnumerable<RawAlert> ContainerRecords(byte[] bytes, string origin, AvroSchemaRegistry registry, DateTimeOffset? timestamp)
    {
        ContainerHeader h;
        AvroSchema schema;
        ulong fp;
        try
        {
            h = ContainerHeader.Parse(bytes);
            (schema, fp) = registry.FromHeader(h.SchemaJson(bytes));
        }
        catch (Exception ex) when (ex is AvroFormatException or AvroSchemaException or System.Text.Json.JsonException)
        {
            // Unreadable header: hand the whole file to the decoder, which dead-letters it with the reason.
            return [new RawAlert(bytes, SourcePosition.File(origin), DateTimeOffset.UtcNow, timestamp)];
        }
        return Records(bytes, h, schema, fp, origin, timestamp);
    }

    private static IEnumerable<RawAlert> Records(byte[] bytes, ContainerHeader h, AvroSchema schema, ulong fp, string origin, DateTimeOffset? timestamp)
    {
        long index = 0;
        int at = h.DataStart;
        byte[] inflated = [];
        while (at < bytes.Length)
        {
            var block = default(ContainerBlock);
            string? blockError = null;
            try
            {
                if (!AvroContainer.TryReadBlock(bytes, h, at, out block)) break;
            }
            catch (AvroFormatException ex) { blockError = ex.Message; }

            if (blockError is not null)
            {
                // Keep the bytes up to the next sync marker as one bad record, then carry on after it.
                int next = AvroContainer.ResyncAfter(bytes, h, at + 1);
                int end = next < 0 ? bytes.Length : next - 16;
                yield return Bad(bytes.AsSpan(at, end - at), fp, origin, index++, timestamp);
                if (next < 0) yield break;
                at = next;
                continue;
            }

            byte[] data;
            int start, length;
            if (h.Codec == AvroCodec.Deflate)
            {
                int n;
                try { n = AvroContainer.Inflate(bytes.AsSpan(block.DataStart, block.DataLength), ref inflated); }
                catch (InvalidDataException) { n = -1; }
                if (n < 0)
                {
                    yield return Bad(bytes.AsSpan(block.DataStart, block.DataLength), fp, origin, index++, timestamp);
                    at = block.NextBlock;
                    continue;
                }
                data = inflated; start = 0; length = n;
            }
            else { data = bytes; start = block.DataStart; length = block.DataLength; }

            var cuts = CutRecords(data.AsSpan(start, length), schema, block.Count, out int badFrom);
            foreach (var (s, l) in cuts)
                yield return new RawAlert(SingleObjectEncoding.Encode(fp, data.AsSpan(start + s, l)), SourcePosition.File(origin, index++), DateTimeOffset.UtcNow, timestamp);
            if (badFrom >= 0) yield return Bad(data.AsSpan(start + badFrom, length - badFrom), fp, origin, index++, timestamp);
            at = block.NextBlock;
        }
    }

    private static List<(int Start, int Length)> CutRecords(ReadOnlySpan<byte> block, AvroSchema schema, long count, out int badFrom)
    {
        var cuts = new List<(int, int)>((int)Math.Min(count, 4096));
        badFrom = -1;
        int at = 0;
        for (long i = 0; i < count; i++)
        {
            // A reader per record: the item bound (AvroLimits.MaxItems) is per datum, not per block.
            var r = new AvroReader(block, at);
            try { r.SkipValue(schema); }
            catch (AvroFormatException) { badFrom = at; return cuts; }
            cuts.Add((at, r.Position - at));
            at = r.Position;
        }
        if (at < block.Length) badFrom = at;
        return cuts;
    }

    private static RawAlert Bad(ReadOnlySpan<byte> bytes, ulong fp, string origin, long index, DateTimeOffset? timestamp) =>
        new(SingleObjectEncoding.Encode(fp, bytes), SourcePosition.File(origin, index), DateTimeOffset.UtcNow, timestamp);
}

/// <summary>One file: a container (one or many records) or a Confluent wire message.</summary>
public sealed class FileAlertSource(string path, AvroSchemaRegistry registry) : IAlertSource
{
    public string Description => $"file {path}";

    public async IAsyncEnumerable<RawAlert> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        byte[] bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        var ts = new DateTimeOffset(File.GetLastWriteTimeUtc(path), TimeSpan.Zero);
        foreach (var raw in AlertFiles.Split(bytes, path, registry, ts))
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return raw;
        }
    }
}

/// <summary>A container file of many records (e.g. a night's archive), cut into single-object records.</summary>
public sealed class ContainerFileSource(string path, AvroSchemaRegistry registry) : IAlertSource
{
    public string Description => $"container {path}";

    public async IAsyncEnumerable<RawAlert> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        byte[] bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        var ts = new DateTimeOffset(File.GetLastWriteTimeUtc(path), TimeSpan.Zero);
        foreach (var raw in AlertFiles.ContainerRecords(bytes, path, registry, ts))
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return raw;
        }
    }
}

/// <summary>Every alert file (*.avro, *.wire) and tarball under a folder, recursively, in ordinal path order.</summary>
public sealed class FolderAlertSource(string folder, AvroSchemaRegistry registry) : IAlertSource
{
    public string Description => $"folder {folder}";

    public async IAsyncEnumerable<RawAlert> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var files = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Where(f => AlertFiles.IsAlertFile(f) || AlertFiles.IsTarball(f))
            .Order(StringComparer.Ordinal)
            .ToList();
        foreach (var f in files)
        {
            IAlertSource inner = AlertFiles.IsTarball(f) ? new TarballAlertSource(f, registry) : new FileAlertSource(f, registry);
            await foreach (var raw in inner.ReadAsync(cancellationToken).ConfigureAwait(false)) yield return raw;
        }
    }
}
