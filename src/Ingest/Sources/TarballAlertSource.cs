using System.Formats.Tar;
using System.IO.Compression;
using System.Runtime.CompilerServices;
using Alerts.Core;
using Alerts.Avro;

namespace Alerts.Ingest.Sources;

/// <summary>
/// A ZTF nightly tarball (<c>.tar.gz</c> of <c>.avro</c> files), streamed with TarReader over GZipStream: nothing is
/// unpacked to disk. Positions read "archive.tar.gz!member.avro". A member that cannot be read whole is handed
/// over with the bytes that could be read (the decoder dead-letters it); a damaged gzip stream ends the archive
/// there, because nothing after the damage can be located.
/// Bounds (<see cref="IngestLimits"/>): a member larger than <c>MaxTarEntryBytes</c> is not read but handed over
/// rejected (<c>too-large</c>, with its first 64 KiB); once the archive has decompressed past
/// <c>MaxTarTotalBytes</c> it ends with one rejected raw alert (a gzip bomb). Member names are only labels: nothing
/// is written to disk, so <c>../x</c> or absolute names cannot escape anywhere. Links, directories and other
/// non-file members are skipped with a reason in <see cref="SkipReasons"/>.
/// </summary>
public sealed class TarballAlertSource(string path, AvroSchemaRegistry registry, IngestLimits? limits = null) : IAlertSource
{
    /// <summary>Bytes of an over-size member kept in its dead letter.</summary>
    public const int RejectedPrefixBytes = 64 << 10;

    private readonly IngestLimits _limits = limits ?? IngestLimits.Default;
    private readonly List<string> _skipReasons = [];

    public string Description => $"tarball {path}";

    /// <summary>Members of the archive that were not alert files or not regular files (skipped), counted for the summary.</summary>
    public int SkippedMembers { get; private set; }

    /// <summary>Why members were skipped ("member: reason"), the first 100.</summary>
    public IReadOnlyList<string> SkipReasons => _skipReasons;

    private void Skip(string member, string reason)
    {
        SkippedMembers++;
        if (_skipReasons.Count < 100) _skipReasons.Add($"{member}: {reason}");
    }

    public async IAsyncEnumerable<RawAlert> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
        Stream inner = path.EndsWith(".tar", StringComparison.OrdinalIgnoreCase) ? file : new GZipStream(file, CompressionMode.Decompress);
        var stream = new BoundedReadStream(inner, _limits.MaxTarTotalBytes);
        await using var _ = stream;
        using var tar = new TarReader(stream, leaveOpen: true);
        var name = Path.GetFileName(path);
        while (true)
        {
            TarEntry? entry;
            string? error = null;
            try { entry = await tar.GetNextEntryAsync(copyData: false, cancellationToken).ConfigureAwait(false); }
            catch (BoundExceededException) { entry = null; error = "bomb"; }
            catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException or FormatException or IOException)
            {
                entry = null;
                error = ex.Message;
            }
            if (stream.Exceeded)
            {
                yield return TotalExceeded();
                yield break;
            }
            if (error is not null)
            {
                // The stream itself is damaged: report it as one bad raw alert so that it is counted and kept.
                yield return new RawAlert(Array.Empty<byte>(), SourcePosition.File($"{path}!<damaged archive: {error}>"), DateTimeOffset.UtcNow);
                yield break;
            }
            if (entry is null) yield break;
            if (entry.EntryType is TarEntryType.SymbolicLink or TarEntryType.HardLink)
            {
                Skip(entry.Name, $"{entry.EntryType} to '{entry.LinkName}' ignored: links are never followed");
                continue;
            }
            if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile))
            {
                if (entry.EntryType is not (TarEntryType.Directory or TarEntryType.GlobalExtendedAttributes or TarEntryType.ExtendedAttributes))
                    Skip(entry.Name, $"{entry.EntryType} member ignored: not a regular file");
                continue;
            }
            if (!AlertFiles.IsAlertFile(entry.Name)) { Skip(entry.Name, "not an alert file (*.avro, *.wire)"); continue; }

            var origin = $"{path}!{entry.Name}";
            if (entry.Length > _limits.MaxTarEntryBytes)
            {
                var prefix = new byte[Math.Min(entry.Length, RejectedPrefixBytes)];
                int got = 0;
                try
                {
                    if (entry.DataStream is not null) got = await entry.DataStream.ReadAtLeastAsync(prefix, prefix.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException or IOException or BoundExceededException) { }
                yield return new RawAlert(prefix.AsMemory(0, got), SourcePosition.File(origin), DateTimeOffset.UtcNow, entry.ModificationTime)
                {
                    RejectedReason = "too-large",
                    RejectedDetail = $"tarball member of {entry.Length} bytes, more than MaxTarEntryBytes {_limits.MaxTarEntryBytes}: not read (the dead letter keeps its first {got} bytes)",
                };
                continue;
            }
            byte[] bytes;
            bool damaged = false;
            var ms = new MemoryStream((int)Math.Min(entry.Length, 1 << 24));
            try
            {
                if (entry.DataStream is not null) await entry.DataStream.CopyToAsync(ms, cancellationToken).ConfigureAwait(false);
            }
            catch (BoundExceededException) { }
            catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException or IOException) { damaged = true; }
            if (stream.Exceeded)
            {
                yield return TotalExceeded();
                yield break;
            }
            bytes = ms.ToArray();
            var ts = entry.ModificationTime;
            foreach (var raw in AlertFiles.Split(bytes, origin, registry, ts)) yield return raw;
            if (damaged) yield break;
        }
    }

    private RawAlert TotalExceeded() =>
        new(Array.Empty<byte>(), SourcePosition.File($"{path}!<decompressed past MaxTarTotalBytes>"), DateTimeOffset.UtcNow)
        {
            RejectedReason = "too-large",
            RejectedDetail = $"the archive decompresses to more than MaxTarTotalBytes {_limits.MaxTarTotalBytes} bytes (a compression bomb, or raise the limit): reading stopped there, the members before it were handed over",
        };
}

/// <summary>Thrown by <see cref="BoundedReadStream"/> once more than its bound has been read.</summary>
internal sealed class BoundExceededException(string message) : IOException(message);

/// <summary>A read-only wrapper that counts bytes read and refuses to read past a bound.</summary>
internal sealed class BoundedReadStream(Stream inner, long maxBytes) : Stream
{
    private long _read;

    public bool Exceeded { get; private set; }
    public long BytesRead => _read;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => _read; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        Check();
        return Count(inner.Read(buffer[..Allowed(buffer.Length)]));
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Check();
        return Count(await inner.ReadAsync(buffer[..Allowed(buffer.Length)], cancellationToken).ConfigureAwait(false));
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    // One byte past the bound is allowed so that reaching exactly the bound is not mistaken for exceeding it.
    private int Allowed(int want) => (int)Math.Min(want, maxBytes + 1 - _read);

    private void Check()
    {
        if (_read > maxBytes) { Exceeded = true; throw new BoundExceededException($"more than {maxBytes} bytes decompressed"); }
    }

    private int Count(int n)
    {
        _read += n;
        if (_read > maxBytes) { Exceeded = true; throw new BoundExceededException($"more than {maxBytes} bytes decompressed"); }
        return n;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) inner.Dispose();
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await inner.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
