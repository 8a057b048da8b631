using System.Collections.Concurrent;
using Alerts.Pipeline.Service;
using Alerts.Sink.Delivery;
using Xunit.Abstractions;

namespace Alerts.Pipeline.Tests.Kafka;

/// <summary>
/// The service under partition.assignment.strategy=cooperative-sticky (incremental rebalancing, what large deployments
/// use so that a member joining or leaving does not stop the whole group). Confluent.Kafka then hands the assigned and
/// revoked handlers only the delta; the service's assignment epochs, watermark tracker and revoke-time drain + commit must
/// act on that delta alone.
/// </summary>
public sealed class CooperativeRebalanceTests(ITestOutputHelper output) : IDisposable
{
    private readonly ServiceHarness _h = new();

    public void Dispose() => _h.Dispose();

    private static readonly Dictionary<string, string?> Cooperative = new() { ["Alerts:Kafka:Consumer:partition.assignment.strategy"] = "cooperative-sticky" };

    private sealed record Logged(long Seq, string Instance, RebalanceEvent Event);

    /// <summary>
    /// One instance owns all 6 partitions; a second and a third join while alerts stream in, then the second leaves.
    /// Asserted: every alert in Parquet and in the label topic, no duplicate within a writer; the join revoked only some of
    /// the first instance's partitions (the delta, not all 6 as an eager rebalance would); every partition revoked outside
    /// an instance's own shutdown next went to a different instance (so no partition that stayed put was ever revoked,
    /// drained, committed at revoke time or restarted); revoke-time commits only touch the revoked partitions; and every
    /// partition the first instance kept from start to end was assigned to it exactly once.
    /// </summary>
    [Fact]
    public async Task Cooperative_sticky_instances_join_and_leave_mid_run_and_only_moved_partitions_are_revoked_and_committed()
    {
        var alerts = TestAlerts.ZtfNight.Take(900).ToList();
        var log = new ConcurrentQueue<Logged>();
        long seq = 0;
        ServiceHarness.Instance Start(string id) => _h.Start(_h.Settings(id, extra: Cooperative), s =>
        {
            Assert.True(s.CooperativeRebalancing);
            s.Rebalanced += e => log.Enqueue(new Logged(Interlocked.Increment(ref seq), id, e));
        });

        using var a = Start("a");
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (a.Service.AssignedPartitions < 6)
        {
            Assert.True(DateTime.UtcNow < deadline, $"a alone has {a.Service.AssignedPartitions} of 6 partitions after 30 s");
            await Task.Delay(50);
        }
        ServiceHarness.Instance? b = null, c = null;
        Task<ServiceExit>? bLeft = null;
        try
        {
            using var producer = new AlertProducer(new Dictionary<string, string> { ["bootstrap.servers"] = _h.Cluster.BootstrapServers });
            long n = 0;
            var payloads = alerts.Select(x =>
            {
                switch (++n)
                {
                    case 200: b = Start("b"); break;
                    case 400: c = Start("c"); break;
                    case 650: bLeft = b!.StopAsync(); break;
                }
                return x.Bytes;
            });
            long produced = await Task.Run(() => producer.ProduceStreaming(ServiceHarness.AlertTopic, payloads, () => _h.CommittedTotal, maxBacklog: 200, ServiceHarness.ProduceDeadline()));
            await _h.WaitAllCommittedAsync(produced, TimeSpan.FromSeconds(90), () => string.Join("; ", new[] { a, b, c }.Select(i => $"read {i?.Service.Stats.ReadCount}, partitions {i?.Service.AssignedPartitions}")));
            Assert.Equal(ServiceExit.Clean, await bLeft!);
            Assert.Equal(ServiceExit.Clean, await c!.StopAsync());
            Assert.Equal(ServiceExit.Clean, await a.StopAsync());
            Assert.True(b!.Service.Stats.ReadCount > 0, "the instance that left never got partitions");
        }
        finally
        {
            b?.Dispose();
            c?.Dispose();
        }

        var events = log.OrderBy(e => e.Seq).ToList();
        foreach (var e in events)
            output.WriteLine($"{e.Seq,3} {e.Instance} {e.Event.Kind,-8} {string.Join(",", e.Event.Partitions.Select(p => p.Partition))}" +
                             (e.Event.Committed.Count > 0 ? $" committed {string.Join(",", e.Event.Committed.Select(o => $"{o.Partition.Partition}@{o.Offset}"))}" : "") +
                             (e.Event.Stopping ? " (stopping)" : ""));

        // The join of b revoked a delta of a's 6 partitions, not all of them (eager would revoke 6 and re-assign).
        var firstRevokeOfA = events.First(e => e.Instance == "a" && e.Event.Kind == RebalanceKind.Revoked);
        Assert.InRange(firstRevokeOfA.Event.Partitions.Count, 1, 5);

        foreach (var revoke in events.Where(e => e.Event.Kind == RebalanceKind.Revoked))
        {
            Assert.All(revoke.Event.Committed, o => Assert.Contains(o.Partition, revoke.Event.Partitions));
            if (revoke.Event.Stopping) continue;
            foreach (var p in revoke.Event.Partitions)
            {
                var next = events.FirstOrDefault(e => e.Seq > revoke.Seq && e.Event.Kind == RebalanceKind.Assigned && e.Event.Partitions.Contains(p));
                Assert.True(next is not null, $"{p} revoked from {revoke.Instance} (event {revoke.Seq}) was never assigned again");
                Assert.True(next!.Instance != revoke.Instance, $"{p} was revoked from {revoke.Instance} (event {revoke.Seq}) and handed back to it (event {next.Seq}): a partition that did not move was stopped");
            }
        }
        Assert.DoesNotContain(events, e => e.Event.Kind == RebalanceKind.Lost);

        var keptByA = Enumerable.Range(0, 6).Select(p => new TopicPartitionKey(ServiceHarness.AlertTopic, p))
            .Where(p => !events.Any(e => e.Instance == "a" && e.Event.Kind == RebalanceKind.Revoked && !e.Event.Stopping && e.Event.Partitions.Contains(p))).ToList();
        Assert.NotEmpty(keptByA);
        foreach (var p in keptByA)
            Assert.Equal(1, events.Count(e => e.Instance == "a" && e.Event.Kind == RebalanceKind.Assigned && e.Event.Partitions.Contains(p)));

        var byWriter = await _h.ParquetIdsByWriterAsync();
        foreach (var (writer, ids) in byWriter)
            Assert.True(ids.Count == ids.Distinct().Count(), $"writer {writer} archived {ids.Count - ids.Distinct().Count()} alerts twice");
        var all = byWriter.Values.SelectMany(x => x).ToHashSet();
        var expected = alerts.Select(x => x.AlertId).ToHashSet();
        Assert.True(expected.SetEquals(all), $"{expected.Except(all).Count()} alerts missing from Parquet");
        var labelled = _h.LabelAlertIds();
        Assert.True(expected.IsSubsetOf(labelled), $"{expected.Except(labelled).Count()} alerts have no label");
        output.WriteLine($"rows {byWriter.Values.Sum(v => v.Count)} (duplicates across writers {byWriter.Values.Sum(v => v.Count) - all.Count}); a kept {string.Join(",", keptByA.Select(p => p.Partition))}");
    }
}
