namespace Alerts.Sink.Delivery;

/// <summary>A Kafka topic-partition, kept free of Confluent types so the tracker can be used by any source.</summary>
public readonly record struct TopicPartitionKey(string Topic, int Partition)
{
    public override string ToString() => $"{Topic}[{Partition}]";
}

/// <summary>An offset that may be committed: the next offset to consume from that partition (Kafka's convention).</summary>
public readonly record struct CommittableOffset(TopicPartitionKey Partition, long Offset);

/// <summary>
/// Per-partition delivery watermarks for at-least-once consumption.
/// The source calls <see cref="Track"/> for every message it hands to the pipeline, in consumption order;
/// each sink calls <see cref="Complete(TopicPartitionKey,long,int)"/> once the message is durable there
/// (or the pipeline calls <see cref="Complete(TopicPartitionKey,long)"/> after every sink has flushed).
/// The committable offset of a partition is the first handed-out offset that is not yet complete in every sink,
/// or (last handed-out + 1) when all are complete. Offsets are tracked as handed out, not assumed contiguous:
/// compacted topics and transaction markers leave gaps. Thread-safe: one lock per partition.
/// </summary>
public sealed class PartitionWatermarkTracker
{
    private readonly int _sinkCount;
    private readonly ulong _allSinks;
    private readonly Dictionary<TopicPartitionKey, PartitionState> _partitions = new();
    private readonly Lock _mapLock = new();

    /// <param name="sinkCount">How many sinks must confirm each offset (1..64).</param>
    public PartitionWatermarkTracker(int sinkCount = 1)
    {
        if (sinkCount is < 1 or > 64) throw new ArgumentOutOfRangeException(nameof(sinkCount), sinkCount, "between 1 and 64 sinks");
        _sinkCount = sinkCount;
        _allSinks = sinkCount == 64 ? ulong.MaxValue : (1UL << sinkCount) - 1;
    }

    public int SinkCount => _sinkCount;

    /// <summary>Starts (or restarts) tracking a partition, e.g. on assignment. Existing state is dropped.</summary>
    public void Assign(TopicPartitionKey tp)
    {
        lock (_mapLock) _partitions[tp] = new PartitionState();
    }

    /// <summary>Registers an offset handed to the pipeline. Offsets must increase within a partition.</summary>
    public void Track(TopicPartitionKey tp, long offset)
    {
        var s = GetOrAdd(tp);
        lock (s.Lock)
        {
            if (s.Revoked) throw new InvalidOperationException($"Partition {tp} was revoked; call Assign before tracking offset {offset}.");
            if (offset <= s.LastTracked)
                throw new InvalidOperationException($"Offset {offset} on {tp} is not after the last tracked offset {s.LastTracked}: offsets must be tracked in consumption order.");
            s.Pending.Enqueue(offset);
            s.Masks[offset] = 0;
            s.LastTracked = offset;
        }
    }

    /// <summary>Marks an offset as durable in every sink.</summary>
    public void Complete(TopicPartitionKey tp, long offset) => Mark(tp, offset, _allSinks);

    /// <summary>Marks an offset as durable in sink number <paramref name="sinkIndex"/> (0-based).</summary>
    public void Complete(TopicPartitionKey tp, long offset, int sinkIndex)
    {
        if ((uint)sinkIndex >= (uint)_sinkCount) throw new ArgumentOutOfRangeException(nameof(sinkIndex), sinkIndex, $"this tracker has {_sinkCount} sinks");
        Mark(tp, offset, 1UL << sinkIndex);
    }

    private void Mark(TopicPartitionKey tp, long offset, ulong bits)
    {
        PartitionState? s;
        lock (_mapLock) _partitions.TryGetValue(tp, out s);
        if (s is null) return; // partition revoked and forgotten: a late completion is harmless
        lock (s.Lock)
        {
            if (!s.Masks.TryGetValue(offset, out var m)) return; // already advanced past, or never tracked (revoked)
            m |= bits;
            if (m == _allSinks)
            {
                s.Masks.Remove(offset);
                s.Done.Add(offset);
                while (s.Pending.Count > 0 && s.Done.Remove(s.Pending.Peek()))
                    s.Pending.Dequeue();
                if (s.Pending.Count == 0) { s.Drained?.TrySetResult(); s.Drained = null; }
            }
            else s.Masks[offset] = m;
        }
    }

    /// <summary>The offset to commit for a partition (next offset to read), or null when nothing was tracked yet.</summary>
    public long? CommittableOffset(TopicPartitionKey tp)
    {
        PartitionState? s;
        lock (_mapLock) _partitions.TryGetValue(tp, out s);
        if (s is null) return null;
        lock (s.Lock) return Committable(s);
    }

    private static long? Committable(PartitionState s) =>
        s.Pending.Count > 0 ? s.Pending.Peek() : s.LastTracked >= 0 ? s.LastTracked + 1 : null;

    /// <summary>
    /// Offsets that moved since the last call (or since <see cref="MarkCommitted"/>). Call, commit them to Kafka,
    /// then <see cref="MarkCommitted"/> them; if the commit fails, they are returned again next time.
    /// </summary>
    public IReadOnlyList<CommittableOffset> GetCommittable()
    {
        var result = new List<CommittableOffset>();
        foreach (var (tp, s) in Snapshot())
            lock (s.Lock)
            {
                var c = Committable(s);
                if (c is long o && o > s.Committed) result.Add(new CommittableOffset(tp, o));
            }
        return result;
    }

    /// <summary>Records that these offsets were committed to the broker.</summary>
    public void MarkCommitted(IEnumerable<CommittableOffset> offsets)
    {
        foreach (var c in offsets)
        {
            PartitionState? s;
            lock (_mapLock) _partitions.TryGetValue(c.Partition, out s);
            if (s is null) continue;
            lock (s.Lock) if (c.Offset > s.Committed) s.Committed = c.Offset;
        }
    }

    /// <summary>Number of handed-out offsets not yet complete in every sink, over all partitions.</summary>
    public int InFlight
    {
        get
        {
            int n = 0;
            foreach (var (_, s) in Snapshot()) lock (s.Lock) n += s.Pending.Count;
            return n;
        }
    }

    /// <summary>
    /// Waits until every offset handed out on these partitions is complete (rebalance revoke, shutdown), or the token fires.
    /// Returns true when drained. The caller then commits <see cref="CommittableOffset"/> and calls <see cref="Revoke"/>.
    /// </summary>
    public async Task<bool> WaitDrainedAsync(IEnumerable<TopicPartitionKey> partitions, CancellationToken cancellationToken)
    {
        foreach (var tp in partitions)
        {
            PartitionState? s;
            lock (_mapLock) _partitions.TryGetValue(tp, out s);
            if (s is null) continue;
            while (true)
            {
                Task wait;
                lock (s.Lock)
                {
                    if (s.Pending.Count == 0) break;
                    s.Drained ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    wait = s.Drained.Task;
                }
                try { await wait.WaitAsync(cancellationToken).ConfigureAwait(false); }
                catch (OperationCanceledException) { return false; }
            }
        }
        return true;
    }

    /// <summary>Stops tracking a revoked partition and returns its final committable offset (null if nothing was tracked).
    /// Later completions for it are ignored, and in-flight offsets will be re-consumed by the next owner (at-least-once).</summary>
    public long? Revoke(TopicPartitionKey tp)
    {
        PartitionState? s;
        lock (_mapLock) { _partitions.Remove(tp, out s); }
        if (s is null) return null;
        lock (s.Lock)
        {
            s.Revoked = true;
            s.Drained?.TrySetResult();
            return Committable(s);
        }
    }

    public IReadOnlyCollection<TopicPartitionKey> Partitions
    {
        get { lock (_mapLock) return _partitions.Keys.ToArray(); }
    }

    private PartitionState GetOrAdd(TopicPartitionKey tp)
    {
        lock (_mapLock)
        {
            if (!_partitions.TryGetValue(tp, out var s)) _partitions[tp] = s = new PartitionState();
            return s;
        }
    }

    private KeyValuePair<TopicPartitionKey, PartitionState>[] Snapshot()
    {
        lock (_mapLock) return _partitions.ToArray();
    }

    private sealed class PartitionState
    {
        public readonly Lock Lock = new();
        public readonly Queue<long> Pending = new();
        public readonly Dictionary<long, ulong> Masks = new();
        public readonly HashSet<long> Done = new();
        public long LastTracked = -1;
        public long Committed = -1;
        public bool Revoked;
        public TaskCompletionSource? Drained;
    }
}
