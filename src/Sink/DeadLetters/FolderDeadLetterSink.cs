using System.Text;
using System.Text.Json;
using Alerts.Core;

namespace Alerts.Sink.DeadLetters;

/// <summary>
/// Keeps dead letters in a folder: <c>&lt;root&gt;/&lt;reason&gt;/&lt;name&gt;.bin</c> holds the original bytes exactly as
/// received, and <c>&lt;name&gt;.json</c> next to it the source position, stage, reason, detail and time. Each file is
/// written to a temporary name, flushed to disk and renamed into place, so a reader never sees half a file; the
/// sidecar is renamed last, so a .json always has its .bin. Names are unique per sink instance and time.
/// Thread-safe. Depends on nothing but the BCL.
/// </summary>
public sealed class FolderDeadLetterSink : IDeadLetterSink
{
    private readonly string _root;
    private readonly string _runId = DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmss", System.Globalization.CultureInfo.InvariantCulture) + "-" + Environment.ProcessId;
    private long _sequence;

    public FolderDeadLetterSink(string root)
    {
        _root = Path.GetFullPath(root);
        Directory.CreateDirectory(_root);
    }

    public string Root => _root;

    /// <summary>Number of dead letters written by this instance.</summary>
    public long Written => Interlocked.Read(ref _sequence);

    public ValueTask WriteAsync(DeadLetter deadLetter, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Write(deadLetter);
        return ValueTask.CompletedTask;
    }

    /// <summary>Writes one dead letter; returns the path of its .bin file.</summary>
    public string Write(DeadLetter deadLetter)
    {
        long n = Interlocked.Increment(ref _sequence);
        var dir = Path.Combine(_root, Safe(deadLetter.Reason, 64));
        Directory.CreateDirectory(dir);
        var origin = deadLetter.Source.Position.Origin;
        var baseName = $"{_runId}-{n:D6}-{Safe(Path.GetFileName(origin.Replace('!', '_')), 80)}";
        if (deadLetter.Source.Position.Offset != 0 || deadLetter.Source.Position.IsKafka) baseName += $"-{deadLetter.Source.Position.Offset}";
        var bin = Path.Combine(dir, baseName + ".bin");
        var json = Path.Combine(dir, baseName + ".json");
        WriteAtomic(bin, deadLetter.Source.Payload.Span);
        WriteAtomic(json, Sidecar(deadLetter, Path.GetFileName(bin)));
        return bin;
    }

    private static byte[] Sidecar(DeadLetter d, string binName)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("origin", d.Source.Position.Origin);
            if (d.Source.Position.IsKafka) w.WriteNumber("partition", d.Source.Position.Partition);
            w.WriteNumber("offset", d.Source.Position.Offset);
            w.WriteString("position", d.Source.Position.ToString());
            w.WriteString("stage", d.Stage);
            w.WriteString("reason", d.Reason);
            w.WriteString("detail", d.Detail);
            w.WriteString("at", d.At);
            w.WriteString("receivedAt", d.Source.ReceivedAt);
            if (d.Source.SourceTimestamp is { } ts) w.WriteString("sourceTimestamp", ts);
            w.WriteNumber("bytes", d.Source.Payload.Length);
            w.WriteString("payloadFile", binName);
            w.WriteEndObject();
        }
        return ms.ToArray();
    }

    private static void WriteAtomic(string path, ReadOnlySpan<byte> content)
    {
        var tmp = path + ".tmp";
        using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            fs.Write(content);
            fs.Flush(flushToDisk: true);
        }
        File.Move(tmp, path, overwrite: true);
    }

    private static string Safe(string s, int max)
    {
        var sb = new StringBuilder(Math.Min(s.Length, max));
        foreach (var c in s)
        {
            if (sb.Length == max) break;
            sb.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' ? c : '_');
        }
        return sb.Length == 0 ? "unnamed" : sb.ToString();
    }

    /// <summary>Every write is already on disk when it returns.</summary>
    public ValueTask FlushAsync(CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
