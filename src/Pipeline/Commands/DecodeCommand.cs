using System.CommandLine;
using System.Text.Json;
using Alerts.Core;
using Alerts.Ingest;
using Alerts.Avro;
using Alerts.Ingest.Decoding;
using Alerts.Sink.DeadLetters;

namespace Alerts.Pipeline.Commands;

/// <summary><c>alerts decode</c>: one JSON line per alert on stdout; last stderr line <c>decoded=N dead_lettered=M</c>.</summary>
public static class DecodeCommand
{
    public static Command Create()
    {
        var paths = new Argument<string[]>("paths") { Description = "Alert files (.avro container, .wire Confluent message), folders (recursive) or .tar.gz tarballs", Arity = ArgumentArity.OneOrMore };
        var schemas = IngestOptions.Schemas();
        var deadLetter = IngestOptions.DeadLetter();
        var cmd = new Command("decode", "Decode alerts (ZTF, Rubin, ELAsTiCC; container, wire or single-object framing) into JSON lines: identity + light curve (flux in nJy).");
        cmd.Arguments.Add(paths);
        cmd.Options.Add(schemas);
        cmd.Options.Add(deadLetter);
        cmd.SetAction(async (parse, ct) =>
        {
            var registry = new AvroSchemaRegistry(IngestOptions.ResolveSchemas(parse.GetValue(schemas)));
            bool argsOk = IngestOptions.TryCreateSources(parse.GetValue(paths) ?? [], registry, null, out var sources);
            var dlDir = parse.GetValue(deadLetter);
            var sink = dlDir is null ? null : new FolderDeadLetterSink(dlDir.FullName);
            var decoder = new AlertDecoder(registry);
            long decoded = 0, dead = 0;
            await using var stdout = Console.OpenStandardOutput();
            await using var buffered = new BufferedStream(stdout, 1 << 16);
            using var json = new Utf8JsonWriter(buffered);
            await foreach (var r in IngestRunner.DecodeAsync(sources, decoder, ownLightCurves: false, ct))
            {
                if (r.Alert is { } a)
                {
                    decoded++;
                    WriteJson(json, a);
                    json.Flush();
                    json.Reset();
                    buffered.WriteByte((byte)'\n');
                }
                else
                {
                    dead++;
                    var d = r.DeadLetter!;
                    Console.Error.WriteLine($"dead-letter {d.Reason}: {d.Detail}");
                    if (sink is not null) await sink.WriteAsync(d, ct);
                }
            }
            await buffered.FlushAsync(ct);
            if (sink is not null) await sink.FlushAsync(ct);
            Console.Error.WriteLine($"decoded={decoded} dead_lettered={dead}");
            return argsOk ? 0 : 2;
        });
        return cmd;
    }

    public static void WriteJson(Utf8JsonWriter w, DecodedAlert a)
    {
        var id = a.Identity;
        w.WriteStartObject();
        w.WriteString("survey", id.Survey.Name());
        w.WriteNumber("alertId", id.AlertId);
        w.WriteString("objectId", id.ObjectId);
        Number(w, "ra", id.Ra);
        Number(w, "dec", id.Dec);
        Number(w, "mjd", id.Mjd);
        w.WriteString("schemaVersion", id.SchemaVersion);
        w.WriteString("source", a.Source.Position.ToString());
        w.WriteStartArray("points");
        var lc = a.LightCurve;
        for (int i = 0; i < lc.Count; i++)
        {
            w.WriteStartObject();
            Number(w, "mjd", lc.Mjd[i]);
            w.WriteString("band", lc.Band[i].Name());
            Number(w, "flux", lc.Flux[i]);
            Number(w, "fluxErr", lc.FluxErr[i]);
            w.WriteString("kind", lc.Kind[i] switch { PointKind.Detection => "detection", PointKind.NonDetection => "nondetection", _ => "forced" });
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void Number(Utf8JsonWriter w, string name, double v)
    {
        if (double.IsFinite(v)) w.WriteNumber(name, v); else w.WriteNull(name);
    }

    private static void Number(Utf8JsonWriter w, string name, float v)
    {
        if (float.IsFinite(v)) w.WriteNumber(name, v); else w.WriteNull(name);
    }
}
