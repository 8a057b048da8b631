using Alerts.Core;
using Alerts.Avro;
using Alerts.Ingest.Decoding;
using Avro.Generic;
using Avro.IO;
using BenchmarkDotNet.Attributes;

namespace Alerts.Ingest.Bench;

/// <summary>
/// Decodes every real ZTF alert in ../shared/data/ztf/alerts (331 one-record container files, 2.0–3.3) once per
/// operation; results are per alert (OperationsPerInvoke = number of alerts).
/// Baseline: Apache.Avro GenericDatumReader with the full writer schema, parsed once per distinct schema (so the
/// baseline is not charged for JSON parsing), reading the datum bytes only. Ours: AlertDecoder.DecodeInto on the
/// whole file bytes (container header parse, schema cache lookup, projection, normalisation into a LightCurve).
/// </summary>
[MemoryDiagnoser]
public class ZtfDecodeBenchmarks
{
    public const int AlertsPerOp = 331;

    private RawAlert[] _raw = [];
    private (global::Avro.Schema Schema, byte[] File, int Start, int Length)[] _datums = [];
    private readonly AlertDecoder _decoder = new();
    private readonly LightCurve _lc = new(256);

    public static string? DataFolder()
    {
        var env = Environment.GetEnvironmentVariable("ALERTS_SHARED_DATA");
        if (!string.IsNullOrEmpty(env) && Directory.Exists(env)) return Path.Combine(env, "ztf", "alerts");
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            var c = Path.Combine(d.FullName, "shared", "data", "ztf", "alerts");
            if (Directory.Exists(c)) return c;
        }
        return null;
    }

    public long TotalBytes { get; private set; }

    [GlobalSetup]
    public void Setup()
    {
        var dir = DataFolder() ?? throw new InvalidOperationException("../shared/data/ztf/alerts is absent: set ALERTS_SHARED_DATA to the shared data folder to run this benchmark");
        var files = Directory.EnumerateFiles(dir, "*.avro", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToArray();
        if (files.Length != AlertsPerOp) throw new InvalidOperationException($"expected {AlertsPerOp} ZTF alerts under {dir}, found {files.Length}");
        var schemas = new Dictionary<string, global::Avro.Schema>();
        _raw = new RawAlert[files.Length];
        _datums = new (global::Avro.Schema, byte[], int, int)[files.Length];
        for (int i = 0; i < files.Length; i++)
        {
            var bytes = File.ReadAllBytes(files[i]);
            TotalBytes += bytes.Length;
            _raw[i] = new RawAlert(bytes, SourcePosition.File(files[i]), DateTimeOffset.UtcNow);
            var h = ContainerHeader.Parse(bytes);
            var json = System.Text.Encoding.UTF8.GetString(h.SchemaJson(bytes));
            if (!schemas.TryGetValue(json, out var s)) schemas[json] = s = global::Avro.Schema.Parse(json);
            AvroContainer.TryReadBlock(bytes, h, h.DataStart, out var block);
            _datums[i] = (s, bytes, block.DataStart, block.DataLength);
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = AlertsPerOp, Description = "Apache.Avro GenericDatumReader (full schema)")]
    public long ApacheAvroGeneric()
    {
        long n = 0;
        foreach (var (schema, file, start, length) in _datums)
        {
            var reader = new GenericDatumReader<GenericRecord>(schema, schema);
            var rec = reader.Read(null!, new BinaryDecoder(new MemoryStream(file, start, length, writable: false)));
            n += ((object[]?)rec["prv_candidates"])?.Length ?? 0;
        }
        return n;
    }

    /// <summary>One alert over and over (hot cache; a breakdown, not a benchmark).</summary>
    public long SameAlert(int index)
    {
        long n = 0;
        for (int i = 0; i < AlertsPerOp; i++) n += _decoder.DecodeInto(_raw[index], _lc).Alert!.LightCurve.Count;
        return n;
    }

    /// <summary>Only the container header parse and the schema cache lookup (a breakdown, not a benchmark).</summary>
    public long HeaderOnly()
    {
        long n = 0;
        foreach (var raw in _raw)
        {
            var h = ContainerHeader.Parse(raw.Payload.Span);
            n += (long)_decoder.Registry.FromHeader(h.SchemaJson(raw.Payload.Span)).Fingerprint & 1;
        }
        return n;
    }

    [Benchmark(OperationsPerInvoke = AlertsPerOp, Description = "AlertDecoder.DecodeInto (projection)")]
    public long AlertDecoderDecodeInto()
    {
        long n = 0;
        foreach (var raw in _raw)
        {
            var r = _decoder.DecodeInto(raw, _lc);
            n += r.Alert!.LightCurve.Count;
        }
        return n;
    }
}
