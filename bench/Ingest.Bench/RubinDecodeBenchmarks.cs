using Alerts.Core;
using Alerts.Avro;
using Alerts.Ingest.Decoding;
using Avro.Generic;
using Avro.IO;
using BenchmarkDotNet.Attributes;

namespace Alerts.Ingest.Bench;

/// <summary>
/// The 100 real Rubin v9.0 alerts Fink wrote with Spark (../shared/data/lsst/alerts/fink-rubin-v9.0, ~137 KB each,
/// every field a [T,"null"] union), per alert; same baseline and method as <see cref="ZtfDecodeBenchmarks"/>.
/// </summary>
[MemoryDiagnoser]
public class RubinDecodeBenchmarks
{
    public const int AlertsPerOp = 100;

    private RawAlert[] _raw = [];
    private (global::Avro.Schema Schema, byte[] File, int Start, int Length)[] _datums = [];
    private readonly AlertDecoder _decoder = new();
    private readonly LightCurve _lc = new(256);

    [GlobalSetup]
    public void Setup()
    {
        var ztf = ZtfDecodeBenchmarks.DataFolder() ?? throw new InvalidOperationException("../shared/data is absent: set ALERTS_SHARED_DATA");
        var dir = Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(ztf)!)!, "lsst", "alerts", "fink-rubin-v9.0");
        var files = Directory.GetFiles(dir, "*.avro").Order(StringComparer.Ordinal).ToArray();
        if (files.Length != AlertsPerOp) throw new InvalidOperationException($"expected {AlertsPerOp} alerts in {dir}, found {files.Length}");
        var schemas = new Dictionary<string, global::Avro.Schema>();
        _raw = new RawAlert[files.Length];
        _datums = new (global::Avro.Schema, byte[], int, int)[files.Length];
        for (int i = 0; i < files.Length; i++)
        {
            var bytes = File.ReadAllBytes(files[i]);
            _raw[i] = new RawAlert(bytes, SourcePosition.File(files[i]), DateTimeOffset.UtcNow);
            var h = ContainerHeader.Parse(bytes);
            var json = System.Text.Encoding.UTF8.GetString(h.SchemaJson(bytes));
            if (!schemas.TryGetValue(json, out var s)) schemas[json] = s = global::Avro.Schema.Parse(json);
            AvroContainer.TryReadBlock(bytes, h, h.DataStart, out var block);
            _datums[i] = (s, bytes, block.DataStart, block.DataLength);
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = AlertsPerOp, Description = "Rubin v9: Apache.Avro GenericDatumReader (full schema)")]
    public long ApacheAvroGeneric()
    {
        long n = 0;
        foreach (var (schema, file, start, length) in _datums)
        {
            var rec = new GenericDatumReader<GenericRecord>(schema, schema).Read(null!, new BinaryDecoder(new MemoryStream(file, start, length, writable: false)));
            n += rec["diaSource"] is null ? 0 : 1;
        }
        return n;
    }

    [Benchmark(OperationsPerInvoke = AlertsPerOp, Description = "Rubin v9: AlertDecoder.DecodeInto (projection)")]
    public long AlertDecoderDecodeInto()
    {
        long n = 0;
        foreach (var raw in _raw) n += _decoder.DecodeInto(raw, _lc).Alert!.LightCurve.Count;
        return n;
    }
}
