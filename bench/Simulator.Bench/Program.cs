using Alerts.Avro;
using Alerts.Core;
using Alerts.Simulator;
using Alerts.Simulator.Avro;
using Avro;
using Avro.Generic;
using Avro.IO;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;

namespace Alerts.Simulator.Bench;

public static class Program
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}

/// <summary>
/// Alerts encoded per second, with stamps, on one core. Each operation is one ZTF 4.02 alert (~60 KB: three
/// ~16 KB gzipped FITS stamps, 30 days of history). Baseline: Apache.Avro's GenericDatumWriter writing the very
/// same alert records (decoded once from our bytes), into a reused MemoryStream.
/// </summary>
[MemoryDiagnoser]
public class ZtfAlertEncodingBenchmarks
{
    private const int N = 256;
    private (SimulatedObject Obj, int Index)[] _alerts = [];
    private GenericRecord[] _records = [];
    private AlertWriter _writer = null!;
    private GenericDatumWriter<GenericRecord> _apache = null!;
    private MemoryStream _ms = null!;
    private AlertSimulator _sim = null!;

    [GlobalSetup(Targets = [nameof(ApacheGenericDatumWriter), nameof(OurEncoderOcf)])]
    public void Setup()
    {
        var o = new SimulationOptions { Survey = Survey.Ztf, Objects = 1000, Seed = 1, Balanced = true };
        _sim = new AlertSimulator(o);
        _writer = new AlertWriter(o);
        var list = new List<(SimulatedObject, int)>();
        foreach (var obj in _sim.Objects())
        {
            for (int i = 0; i < obj.Observations.Length && list.Count < N; i++) if (obj.Observations[i].Detected) list.Add((obj, i));
            if (list.Count >= N) break;
        }
        _alerts = list.ToArray();
        var schema = Schema.Parse(SchemaSet.Ztf402().FullSchemaJson);
        var reader = new GenericDatumReader<GenericRecord>(schema, schema);
        var datum = new AvroBinaryWriter();
        var enc = new Alerts.ZtfAlertEncoder(new Alerts.StampPool(1, gzip: true));
        _records = _alerts.Select(a =>
        {
            datum.Reset(); enc.WriteDatum(datum, a.Obj, a.Index);
            return reader.Read(null!, new BinaryDecoder(new MemoryStream(datum.ToArray())));
        }).ToArray();
        _apache = new GenericDatumWriter<GenericRecord>(schema);
        _ms = new MemoryStream(256 * 1024);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = N, Description = "Apache.Avro GenericDatumWriter (datum only)")]
    public long ApacheGenericDatumWriter()
    {
        long bytes = 0;
        foreach (var r in _records)
        {
            _ms.Position = 0;
            var e = new BinaryEncoder(_ms);
            _apache.Write(r, e);
            e.Flush();
            bytes += _ms.Position;
        }
        return bytes;
    }

    [Benchmark(OperationsPerInvoke = N, Description = "our encoder: OCF file (header + datum + stamps)")]
    public long OurEncoderOcf()
    {
        long bytes = 0;
        foreach (var (obj, i) in _alerts) { _writer.Write(obj, i); bytes += _writer.Buffer.Length; }
        return bytes;
    }

    /// <summary>Physics + survey + encoding: simulate 28 objects (2 per class) and encode all their alerts.
    /// The alert count of this fixed batch is printed at setup; alerts/s = count / mean time.</summary>
    [Benchmark(Description = "simulate 28 objects + encode all their alerts (per batch)")]
    public long SimulateAndEncodeBatch()
    {
        long n = 0;
        for (long k = 0; k < BatchObjects; k++)
        {
            var obj = _sim.SimulateObject(k);
            for (int i = 0; i < obj.Observations.Length; i++)
                if (obj.Observations[i].Detected) { _writer.Write(obj, i); n++; }
        }
        return n;
    }

    private const int BatchObjects = 28;

    [GlobalSetup(Target = nameof(SimulateAndEncodeBatch))]
    public void SetupBatch()
    {
        Setup();
        long n = 0;
        for (long k = 0; k < BatchObjects; k++) n += _sim.SimulateObject(k).DetectionCount;
        Console.WriteLine($"// batch alerts: {n}");
    }
}
