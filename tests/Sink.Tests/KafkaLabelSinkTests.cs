using Alerts.Tests.Shared;
using System.Diagnostics;
using Alerts.Core;
using Alerts.Sink.Kafka;
using Alerts.Sink.Parquet;
using Confluent.Kafka;
using DuckDB.NET.Data;

namespace Alerts.Sink.Tests;

public sealed class KafkaLabelSinkTests
{
    private static LabelRouter Routes(params (string Topic, string Rule)[] r) =>
        LabelRouter.FromConfiguration(r.Select(x => new KeyValuePair<string, string?>(x.Topic, x.Rule)));

    /// <summary>Writes labels 1..n to a 4-partition "labels" topic on a fresh 3-broker mock cluster.</summary>
    private static async Task<MockCluster> ClusterWithLabels(int n)
    {
        var cluster = new MockCluster(3);
        cluster.CreateTopic("labels", 4);
        var input = TestClassifications.Range(1, n);
        await using (var sink = new KafkaLabelSink(new KafkaLabelSinkOptions
        {
            Producer = KafkaTestHelpers.ProducerProps(cluster.BootstrapServers),
            Router = Routes(("labels", "all")),
        }))
        {
            for (int i = 0; i < n; i += 250) await sink.WriteAsync(input.GetRange(i, 250));
            await sink.FlushAsync();
            Assert.Equal(n, sink.Delivered);
            Assert.Equal(0, sink.InFlight);
        }
        return cluster;
    }

    [Fact]
    public async Task Labels_reach_the_topic_keyed_by_object_id_and_read_back_with_a_consumer()
    {
        const int n = 2000;
        using var cluster = await ClusterWithLabels(n);

        var read = KafkaTestHelpers.ReadAll(cluster.BootstrapServers, "labels", 4, expectedAtLeast: n);
        Assert.Equal(n, read.Count);
        var decoded = read.Select(r => (r.Message.Key, Msg: LabelAvroDecoder.Decode(r.Message.Value))).ToList();
        Assert.All(decoded, d => Assert.Equal(d.Key, d.Msg.ObjectId));
        Assert.Equal(Enumerable.Range(1, n).Select(i => (long)i), decoded.Select(d => d.Msg.AlertId).Order());
        var m12 = decoded.Single(d => d.Msg.AlertId == 12).Msg;
        Assert.Equal("RRL", m12.Label);
        Assert.Equal(0.87f, m12.LabelProbability);
        Assert.Equal(0.87f, m12.Probabilities["RRL"]);
        Assert.Equal(14, m12.Probabilities.Count);
        Assert.Equal("ztf_20240115_programid1", m12.SourceOrigin);
        Assert.Equal(TestClassifications.T0, m12.IngestedAt);
        var m10 = decoded.Single(d => d.Msg.AlertId == 10).Msg;
        Assert.Null(m10.Label);
        Assert.Equal("too-few-points", m10.Reason);
        Assert.Empty(m10.Probabilities);
        // Same key -> same partition (all labels of an object stay ordered).
        Assert.All(read.GroupBy(r => r.Message.Key), g => Assert.Single(g.Select(r => r.Partition.Value).Distinct()));
    }

    [RefereeFact(Referee.Kcat)]
    public async Task Labels_on_the_topic_read_back_byte_exact_with_kcat()
    {
        const int n = 2000;
        using var cluster = await ClusterWithLabels(n);
        var kc = KafkaTestHelpers.KcatReadAll(cluster.BootstrapServers, "labels");
        Assert.Equal(n, kc.Count);
        Assert.Equal(Enumerable.Range(1, n).Select(i => (long)i), kc.Select(k => LabelAvroDecoder.Decode(k.Value).AlertId).Order());
        Assert.All(kc, k => Assert.Equal(k.Key, LabelAvroDecoder.Decode(k.Value).ObjectId));
    }

    [Fact]
    public async Task Routing_rules_send_each_label_to_all_and_to_the_matching_filtered_topics()
    {
        using var cluster = new MockCluster(1);
        foreach (var t in new[] { "all", "snia", "unclassified" }) cluster.CreateTopic(t, 2);
        var input = TestClassifications.Range(1, 300);
        await using (var sink = new KafkaLabelSink(new KafkaLabelSinkOptions
        {
            Producer = KafkaTestHelpers.ProducerProps(cluster.BootstrapServers),
            Router = Routes(("all", "all"), ("snia", "SNIa >= 0.8"), ("unclassified", "unclassified")),
            Encoding = LabelEncoding.ConfluentWire, SchemaId = 42,
        }))
        {
            await sink.WriteAsync(input);
            await sink.FlushAsync();
        }
        var all = KafkaTestHelpers.ReadAll(cluster.BootstrapServers, "all", 2, expectedAtLeast: 300);
        var snia = KafkaTestHelpers.ReadAll(cluster.BootstrapServers, "snia", 2);
        var uncl = KafkaTestHelpers.ReadAll(cluster.BootstrapServers, "unclassified", 2);
        Assert.Equal(300, all.Count);
        Assert.All(all, r => { Assert.Equal(0, r.Message.Value[0]); Assert.Equal(42, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(r.Message.Value.AsSpan(1))); });
        var expectedSnia = input.Where(c => c.Label == "SNIa").Select(c => c.Identity.AlertId).Order().ToList();
        Assert.NotEmpty(expectedSnia);
        Assert.Equal(expectedSnia, snia.Select(r => LabelAvroDecoder.Decode(r.Message.Value).AlertId).Order());
        Assert.Equal(input.Count(c => !c.IsClassified), uncl.Count);
    }

    [Fact]
    public async Task Dead_letters_keep_the_original_bytes_and_the_reason_in_headers()
    {
        using var cluster = new MockCluster(1);
        cluster.CreateTopic("dead", 1);
        var payloads = Enumerable.Range(0, 20).Select(i => Enumerable.Range(0, 10 + i).Select(b => (byte)(b * 7 + i)).ToArray()).ToList();
        await using (var sink = new KafkaDeadLetterSink(KafkaTestHelpers.ProducerProps(cluster.BootstrapServers), "dead"))
        {
            for (int i = 0; i < payloads.Count; i++)
                await sink.WriteAsync(new DeadLetter(new RawAlert(payloads[i], SourcePosition.Kafka("ztf_in", 2, 100 + i), TestClassifications.T0),
                    "decode", "bad-magic", $"record {i}: first bytes are not an Avro container; fix the producer", TestClassifications.T0));
            await sink.FlushAsync();
        }
        var read = KafkaTestHelpers.ReadAll(cluster.BootstrapServers, "dead", 1, expectedAtLeast: 20);
        Assert.Equal(20, read.Count);
        for (int i = 0; i < 20; i++)
        {
            var m = read[i].Message;
            Assert.Equal(payloads[i], m.Value);
            Assert.Equal($"ztf_in[2]@{100 + i}", m.Key);
            string H(string k) => System.Text.Encoding.UTF8.GetString(m.Headers.GetLastBytes(k));
            Assert.Equal("bad-magic", H(KafkaDeadLetterSink.ReasonHeader));
            Assert.Equal("decode", H(KafkaDeadLetterSink.StageHeader));
            Assert.Equal("ztf_in", H(KafkaDeadLetterSink.OriginHeader));
            Assert.Equal("2", H(KafkaDeadLetterSink.PartitionHeader));
            Assert.Equal((100 + i).ToString(), H(KafkaDeadLetterSink.OffsetHeader));
            Assert.StartsWith($"record {i}:", H(KafkaDeadLetterSink.DetailHeader));
        }
    }

    [Fact]
    public async Task Labels_survive_injected_produce_errors_and_a_broker_bounce_without_loss_or_duplicates()
    {
        using var cluster = new MockCluster(3);
        cluster.CreateTopic("labels", 3);
        cluster.PushRequestErrors(KafkaApi.Produce, 6, 7, 6, 7); // NOT_LEADER_OR_FOLLOWER, REQUEST_TIMED_OUT: retriable
        var input = TestClassifications.Range(1, 1500);
        await using (var sink = new KafkaLabelSink(new KafkaLabelSinkOptions
        {
            Producer = KafkaTestHelpers.ProducerProps(cluster.BootstrapServers), Router = Routes(("labels", "all")),
        }))
        {
            await sink.WriteAsync(input.GetRange(0, 500));
            cluster.BrokerDown(2);
            await sink.WriteAsync(input.GetRange(500, 500));
            await Task.Delay(300);
            cluster.BrokerUp(2);
            await sink.WriteAsync(input.GetRange(1000, 500));
            await sink.FlushAsync();
            Assert.Equal(1500, sink.Delivered);
        }
        var ids = KafkaTestHelpers.ReadAll(cluster.BootstrapServers, "labels", 3, expectedAtLeast: 1500).Select(r => LabelAvroDecoder.Decode(r.Message.Value).AlertId).ToList();
        Assert.Equal(1500, ids.Count); // idempotent producer: retries did not duplicate
        Assert.Equal(1500, ids.Distinct().Count());
    }

    [RefereeFact(Referee.PythonAvro)]
    public async Task Single_record_container_is_readable_by_the_reference_python_avro_library()
    {
        var enc = new LabelAvroEncoder(LabelEncoding.SingleRecordContainer);
        var dir = Directory.CreateTempSubdirectory("labels-avro").FullName;
        try
        {
            foreach (var id in new long[] { 3, 11, 12 })
                File.WriteAllBytes(Path.Combine(dir, $"{id}.avro"), enc.Encode(TestClassifications.Make(id)).ToArray());
            var script = "import sys,glob,os,avro.datafile,avro.io\n" +
                         "for f in sorted(glob.glob(os.path.join(sys.argv[1],'*.avro'))):\n" +
                         "  r=avro.datafile.DataFileReader(open(f,'rb'),avro.io.DatumReader())\n" +
                         "  for x in r: print(x['alertId'], x['objectId'], x['label'], round(x['probabilities'].get('SNIa',-1),4), x['reason'], x['sourcePartition'], None if x['p_SNIa_family'] is None else round(x['p_SNIa_family'],4))\n";
            var output = DebianPython.Run(script, dir);
            var lines = output.Trim().Split('\n');
            Assert.Equal(["11 ZTF240000011 SNIa 0.87 None 0 0.89", "12 ZTF240000012 RRL 0.01 None 0 0.03", "3 ZTF240000003 None -1 too-few-points 0 None"], lines);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task Every_alert_lands_in_parquet_exactly_once_and_in_the_label_topic_at_least_once()
    {
        using var cluster = new MockCluster(3);
        cluster.CreateTopic("labels", 6);
        var root = Directory.CreateTempSubdirectory("alerts-e2e").FullName;
        try
        {
            var input = TestClassifications.Range(1, 3000);
            await using var parquet = new ParquetArchiveSink(new ParquetArchiveOptions { Root = root, RowGroupRows = 500 });
            await using var labels = new KafkaLabelSink(new KafkaLabelSinkOptions { Producer = KafkaTestHelpers.ProducerProps(cluster.BootstrapServers), Router = Routes(("labels", "all")) });
            IClassificationSink[] sinks = [parquet, labels];
            for (int i = 0; i < input.Count; i += 400)
            {
                var batch = input.GetRange(i, Math.Min(400, input.Count - i));
                foreach (var s in sinks) await s.WriteAsync(batch);
                if (i == 1200) foreach (var s in sinks) await s.WriteAsync(batch); // a re-delivery after a rebalance
                foreach (var s in sinks) await s.FlushAsync();
            }
            using var db = new DuckDBConnection("DataSource=:memory:");
            db.Open();
            using var cmd = db.CreateCommand();
            cmd.CommandText = $"select count(*), count(distinct alert_id), min(alert_id), max(alert_id) from read_parquet('{root}/**/*.parquet', hive_partitioning=true)";
            using var rd = cmd.ExecuteReader();
            rd.Read();
            Assert.Equal(3000L, rd.GetInt64(0)); Assert.Equal(3000L, rd.GetInt64(1)); Assert.Equal(1L, rd.GetInt64(2)); Assert.Equal(3000L, rd.GetInt64(3));
            var ids = KafkaTestHelpers.ReadAll(cluster.BootstrapServers, "labels", 6, expectedAtLeast: 3400).Select(r => LabelAvroDecoder.Decode(r.Message.Value).AlertId).ToHashSet();
            Assert.Equal(3000, ids.Count);
        }
        finally { Directory.Delete(root, true); }
    }
}
