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
/// </summary>
public sealed class TarballAlertSource(string path, AvroSchemaRegistry registry) : IAlertSource
{
    public string Description => $"tarball {path}";

    /// <summary>Members of the archive that were not alert files (skipped), counted for the summary.</summary>
    public int SkippedMembers { get; private set; }

    public async IAsyncEnumerable<RawAlert> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
        Stream stream = path.EndsWith(".tar", StringComparison.OrdinalIgnoreCase) ? file : new GZipStream(file, CompressionMode.Decompress);
        await using var _ = stream;
        using var tar = new TarReader(stream, leaveOpen: true);
        var name = Path.GetFileName(path);
        while (true)
        {
            TarEntry? entry;
            string? error = null;
            try { entry = await tar.GetNextEntryAsync(copyData: false, cancellationToken).ConfigureAwait(false); }
            catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException or FormatException or IOException)
            {
                entry = null;
                error = ex.Message;
            }
            if (error is not null)
            {
                // The stream itself is damaged: report it as one bad raw alert so that it is counted and kept.
                yield return new RawAlert(Array.Empty<byte>(), SourcePosition.File($"{path}!<damaged archive: {error}>"), DateTimeOffset.UtcNow);
                yield break;
            }
            if (entry is null) yield break;
            if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile)) continue;
            if (!AlertFiles.IsAlertFile(entry.Name)) { SkippedMembers++; continue; }

            var origin = $"{path}!{entry.Name}";
            byte[] bytes;
            bool damaged = false;
            var ms = new MemoryStream((int)Math.Min(entry.Length, 1 << 24));
            try
            {
                if (entry.DataStream is not null) await entry.DataStream.CopyToAsync(ms, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException or IOException) { damaged = true; }
            bytes = ms.ToArray();
            var ts = entry.ModificationTime;
            foreach (var raw in AlertFiles.Split(bytes, origin, registry, ts)) yield return raw;
            if (damaged) yield break;
        }
    }
}
