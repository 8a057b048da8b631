using System.Text.Json;
using Alerts.Core;
using Alerts.Sink.DeadLetters;

namespace Alerts.Sink.Tests;

public sealed class FolderDeadLetterSinkTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("deadletters-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static DeadLetter Letter(byte[] bytes, SourcePosition pos, string reason = "truncated") =>
        new(new RawAlert(bytes, pos, DateTimeOffset.Parse("2026-01-02T03:04:05Z")), "decode", reason, "data ends at byte 3: re-fetch", DateTimeOffset.Parse("2026-01-02T03:04:06Z"));

    [Fact]
    public async Task WritesTheOriginalBytesAndASidecarUnderTheReason()
    {
        var sink = new FolderDeadLetterSink(_dir);
        byte[] payload = [0, 1, 2, 255];
        await sink.WriteAsync(Letter(payload, SourcePosition.File("/data/night.tar.gz!a b.avro", 3)));
        await sink.FlushAsync();

        var bins = Directory.GetFiles(Path.Combine(_dir, "truncated"), "*.bin");
        var bin = Assert.Single(bins);
        Assert.Equal(payload, File.ReadAllBytes(bin));
        using var json = JsonDocument.Parse(File.ReadAllBytes(Path.ChangeExtension(bin, ".json")));
        var root = json.RootElement;
        Assert.Equal("/data/night.tar.gz!a b.avro", root.GetProperty("origin").GetString());
        Assert.Equal(3, root.GetProperty("offset").GetInt64());
        Assert.Equal("decode", root.GetProperty("stage").GetString());
        Assert.Equal("truncated", root.GetProperty("reason").GetString());
        Assert.Equal("data ends at byte 3: re-fetch", root.GetProperty("detail").GetString());
        Assert.Equal(4, root.GetProperty("bytes").GetInt32());
        Assert.Equal(Path.GetFileName(bin), root.GetProperty("payloadFile").GetString());
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task ManyConcurrentLettersGetDistinctFiles()
    {
        var sink = new FolderDeadLetterSink(_dir);
        await Parallel.ForEachAsync(Enumerable.Range(0, 200), async (i, ct) =>
            await sink.WriteAsync(Letter([(byte)i], SourcePosition.Kafka("ztf_20260102", i % 4, i), i % 2 == 0 ? "bad-magic" : "bad/../reason"), ct));
        Assert.Equal(200, sink.Written);
        Assert.Equal(100, Directory.GetFiles(Path.Combine(_dir, "bad-magic"), "*.bin").Length);
        Assert.Equal(100, Directory.GetFiles(Path.Combine(_dir, "bad_.._reason"), "*.json").Length);
        Assert.Equal(2, Directory.GetDirectories(_dir).Length);
    }
}
