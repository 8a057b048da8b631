using Alerts.Sink.Delivery;
using CsCheck;

namespace Alerts.Sink.Tests;

public sealed class PartitionWatermarkTrackerTests
{
    private static readonly TopicPartitionKey P0 = new("ztf", 0), P1 = new("ztf", 1);

    [Fact]
    public void Committable_offset_is_the_first_incomplete_one_and_skips_offset_gaps()
    {
        var t = new PartitionWatermarkTracker();
        Assert.Null(t.CommittableOffset(P0));
        foreach (var o in new long[] { 10, 11, 13, 14, 20 }) t.Track(P0, o); // gaps: transaction markers, compaction
        Assert.Equal(10, t.CommittableOffset(P0));
        t.Complete(P0, 11); t.Complete(P0, 13);
        Assert.Equal(10, t.CommittableOffset(P0));
        t.Complete(P0, 10);
        Assert.Equal(14, t.CommittableOffset(P0));
        t.Complete(P0, 20); t.Complete(P0, 14);
        Assert.Equal(21, t.CommittableOffset(P0));
        Assert.Equal(0, t.InFlight);
    }

    [Fact]
    public void An_offset_counts_only_when_every_sink_has_confirmed_it()
    {
        var t = new PartitionWatermarkTracker(sinkCount: 2);
        t.Track(P0, 0); t.Track(P0, 1);
        t.Complete(P0, 0, sinkIndex: 0); t.Complete(P0, 1, sinkIndex: 0);
        Assert.Equal(0, t.CommittableOffset(P0));
        t.Complete(P0, 0, sinkIndex: 1);
        Assert.Equal(1, t.CommittableOffset(P0));
        t.Complete(P0, 1, sinkIndex: 1);
        Assert.Equal(2, t.CommittableOffset(P0));
    }

    [Fact]
    public void GetCommittable_returns_only_partitions_that_moved_since_the_last_commit()
    {
        var t = new PartitionWatermarkTracker();
        t.Track(P0, 0); t.Track(P1, 5);
        t.Complete(P0, 0);
        var c = t.GetCommittable();
        Assert.Equal([new CommittableOffset(P0, 1), new CommittableOffset(P1, 5)], c.OrderBy(x => x.Partition.Partition));
        t.MarkCommitted(c);
        Assert.Empty(t.GetCommittable());
        t.Complete(P1, 5);
        Assert.Equal([new CommittableOffset(P1, 6)], t.GetCommittable());
    }

    [Fact]
    public void Tracking_out_of_order_is_refused_with_a_clear_message()
    {
        var t = new PartitionWatermarkTracker();
        t.Track(P0, 5);
        var e = Assert.Throws<InvalidOperationException>(() => t.Track(P0, 5));
        Assert.Contains("consumption order", e.Message);
    }

    [Fact]
    public async Task Revoke_drains_then_returns_the_final_offset_and_late_completions_are_ignored()
    {
        var t = new PartitionWatermarkTracker();
        for (long o = 0; o < 5; o++) t.Track(P0, o);
        var drain = t.WaitDrainedAsync([P0], CancellationToken.None);
        Assert.False(drain.IsCompleted);
        for (long o = 0; o < 5; o++) t.Complete(P0, o);
        Assert.True(await drain.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal(5, t.Revoke(P0));
        t.Complete(P0, 7); // no throw after revoke
        Assert.Null(t.CommittableOffset(P0));

        t.Assign(P1);
        t.Track(P1, 0);
        using var cts = new CancellationTokenSource(50);
        Assert.False(await t.WaitDrainedAsync([P1], cts.Token)); // drain timeout: caller commits what is done and moves on
        Assert.Equal(0, t.Revoke(P1));
    }

    [Fact]
    public void Random_completion_orders_never_let_the_committed_offset_pass_an_incomplete_one()
    {
        // Offsets with random gaps, completed in a random order by two sinks, from several threads.
        var gen = Gen.Select(Gen.Int[1, 5].Array[1, 200], Gen.Int[0, int.MaxValue], Gen.Int[1, 3]);
        gen.Sample((gaps, seed, sinks) =>
        {
            var t = new PartitionWatermarkTracker(sinks);
            var offsets = new List<long>();
            long o = 100;
            foreach (var g in gaps) { o += g; offsets.Add(o); t.Track(P0, o); }
            var events = offsets.SelectMany(x => Enumerable.Range(0, sinks).Select(s => (Offset: x, Sink: s))).ToArray();
            new Random(seed).Shuffle(events);
            var done = new HashSet<(long, int)>();
            long lastCommitted = -1;
            foreach (var (off, sink) in events)
            {
                t.Complete(P0, off, sink);
                done.Add((off, sink));
                var c = t.CommittableOffset(P0)!.Value;
                // Every tracked offset below c is complete in every sink...
                foreach (var x in offsets.TakeWhile(x => x < c))
                    for (int s = 0; s < sinks; s++) if (!done.Contains((x, s))) return false;
                // ...c is the first incomplete one (or past the end), and the watermark never goes back.
                if (c <= offsets[^1] && !offsets.Contains(c)) return false;
                if (c < lastCommitted) return false;
                lastCommitted = c;
            }
            return t.CommittableOffset(P0) == offsets[^1] + 1 && t.InFlight == 0;
        }, iter: 300);
    }

    [Fact]
    public void Concurrent_completions_from_many_threads_end_at_the_last_offset_plus_one()
    {
        var t = new PartitionWatermarkTracker(2);
        const int n = 20_000;
        for (long o = 0; o < n; o++) t.Track(P0, o);
        Parallel.For(0, 4, w =>
        {
            for (long o = w; o < n; o += 4) { t.Complete(P0, o, 0); t.Complete(P0, n - 1 - o, 1); }
        });
        Assert.Equal(n, t.CommittableOffset(P0));
    }
}
