using System.CommandLine;
using System.Diagnostics;
using Alerts.Core;
using Alerts.Avro;
using Alerts.Ingest.Sources;
using Alerts.Pipeline.Service;
using Spectre.Console;

namespace Alerts.Pipeline.Commands;

/// <summary>`alerts produce`: simulated alerts, or alert files / folders / ZTF nightly tarballs, into a Kafka topic.</summary>
public static class ProduceCommand
{
    public static Command Create()
    {
        var paths = new Argument<string[]>("paths") { Description = "Alert files (.avro OCF, .wire Rubin), folders or .tar.gz tarballs (omit with --simulate)", Arity = ArgumentArity.ZeroOrMore };
        var simulate = new Option<int?>("--simulate") { Description = "Produce alerts of this many simulated objects instead of files" };
        var survey = new Option<string>("--survey") { Description = "Survey to simulate: ztf or lsst", DefaultValueFactory = _ => "ztf" };
        var seed = new Option<ulong>("--seed") { Description = "Simulation seed", DefaultValueFactory = _ => 42UL };
        var topic = new Option<string>("--topic") { Description = "Topic to produce to (ZTF style: ztf_YYYYMMDD_programid1)", Required = true };
        var bootstrap = new Option<string>("--bootstrap") { Description = "bootstrap.servers", DefaultValueFactory = _ => "localhost:9092" };
        var partitions = new Option<int>("--partitions") { Description = "Create the topic with this many partitions if it does not exist (0: do not create)", DefaultValueFactory = _ => 6 };
        var property = new Option<string[]>("--property", "-X") { Description = "Extra librdkafka producer property key=value (security.protocol=SASL_SSL, ...)", AllowMultipleArgumentsPerToken = false };
        var schemas = IngestOptions.Schemas();
        var cmd = new Command("produce", "Produce simulated alerts, or alert files/folders/tarballs, into a Kafka topic (one message per alert, bytes untouched).");
        cmd.Arguments.Add(paths);
        foreach (var o in new Option[] { simulate, survey, seed, topic, bootstrap, partitions, property, schemas }) cmd.Options.Add(o);
        cmd.SetAction(async (parse, ct) =>
        {
            var props = new Dictionary<string, string> { ["bootstrap.servers"] = parse.GetValue(bootstrap)! };
            foreach (var kv in parse.GetValue(property) ?? [])
            {
                int eq = kv.IndexOf('=');
                if (eq <= 0) { Console.Error.WriteLine($"error: --property {kv}: expected key=value, e.g. -X security.protocol=SASL_SSL"); return 2; }
                props[kv[..eq]] = kv[(eq + 1)..];
            }
            var given = parse.GetValue(paths) ?? [];
            var n = parse.GetValue(simulate);
            if (n is null == (given.Length == 0)) { Console.Error.WriteLine("error: give either --simulate N (objects) or alert paths, not both and not neither"); return 2; }
            IEnumerable<byte[]> payloads;
            string what;
            if (n is int objects)
            {
                var s = parse.GetValue(survey)!.ToLowerInvariant();
                if (s is not ("ztf" or "lsst")) { Console.Error.WriteLine($"error: --survey {s}: use ztf or lsst"); return 2; }
                payloads = AlertProducer.Simulate(s == "ztf" ? Survey.Ztf : Survey.Lsst, objects, parse.GetValue(seed)).Select(a => a.Bytes);
                what = $"simulated {s}, {objects:N0} objects";
            }
            else
            {
                var registry = new AvroSchemaRegistry(IngestOptions.ResolveSchemas(parse.GetValue(schemas)));
                if (!IngestOptions.TryCreateSources(given, registry, null, out var sources)) return 2;
                payloads = AlertSources.Concat(sources, ct).ToBlockingEnumerable(ct).Select(r => r.Payload.ToArray());
                what = string.Join(", ", given);
            }
            var t = parse.GetValue(topic)!;
            int parts = parse.GetValue(partitions);
            bool created = parts > 0 && await AlertProducer.EnsureTopicAsync(props["bootstrap.servers"], t, parts, props, Console.Error.WriteLine);

            using var producer = new AlertProducer(props);
            var clock = Stopwatch.StartNew();
            long queued = 0;
            await Consoles.Err.Status().StartAsync($"producing {Markup.Escape(what)} to {Markup.Escape(t)} ...", async ctx =>
            {
                await Task.Run(() =>
                {
                    foreach (var p in payloads)
                    {
                        ct.ThrowIfCancellationRequested();
                        producer.Produce(t, p);
                        if (++queued % 500 == 0) ctx.Status($"queued {queued:N0}, acknowledged {producer.Delivered:N0}");
                    }
                    producer.Flush(TimeSpan.FromMinutes(2));
                }, ct);
            });
            clock.Stop();
            var table = new Table().Title("alerts produce").AddColumn("measure").AddColumn(new TableColumn("value").RightAligned());
            table.AddRow("input", Markup.Escape(what));
            table.AddRow("topic", Markup.Escape(t) + (created ? $" (created, {parts} partitions)" : ""));
            table.AddRow("alerts acknowledged", $"{producer.Delivered:N0}");
            table.AddRow("failed", producer.Failed == 0 ? "0" : $"[red]{producer.Failed:N0}[/] ({Markup.Escape(producer.FirstError ?? "")})");
            table.AddRow("bytes", $"{producer.Bytes:N0} ({producer.Bytes / Math.Max(1, queued):N0} per alert)");
            table.AddRow("elapsed", $"{clock.Elapsed.TotalSeconds:N2} s");
            table.AddRow("rate", $"{queued / Math.Max(clock.Elapsed.TotalSeconds, 1e-9):N0} alerts/s");
            AnsiConsole.Write(table);
            return producer.Failed == 0 ? 0 : 1;
        });
        return cmd;
    }
}
