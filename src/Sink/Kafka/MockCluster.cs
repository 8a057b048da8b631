using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;

namespace Alerts.Sink.Kafka;

/// <summary>
/// librdkafka's built-in mock Kafka cluster (rd_kafka_mock_*), driven by P/Invoke into the librdkafka shipped with
/// librdkafka.redist (the same library Confluent.Kafka uses). It speaks the real Kafka protocol on localhost, so
/// Confluent clients and kcat connect to <see cref="BootstrapServers"/> as to any broker. Supports idempotent and
/// transactional producers, consumer groups, and fault injection (broker down/up, per-request error codes, RTT).
/// Used by Sink.Tests, Pipeline.Tests (Kafka fault tests), <c>alerts demo</c> and the benchmarks.
/// </summary>
public sealed class MockCluster : IDisposable
{
    private IntPtr _rk, _mcluster;

    /// <param name="brokers">Number of brokers (ids 1..n).</param>
    public MockCluster(int brokers = 3)
    {
        if (brokers < 1) throw new ArgumentOutOfRangeException(nameof(brokers), brokers, "at least one broker");
        Native.EnsureLoaded();
        var err = new StringBuilder(512);
        var conf = Native.rd_kafka_conf_new();
        Native.rd_kafka_conf_set(conf, "log_level", "3", err, (UIntPtr)err.Capacity); // the idle host handle has no bootstrap: keep it quiet
        _rk = Native.rd_kafka_new(0 /* RD_KAFKA_PRODUCER */, conf, err, (UIntPtr)err.Capacity);
        if (_rk == IntPtr.Zero) throw new InvalidOperationException("rd_kafka_new failed for the mock cluster host: " + err);
        _mcluster = Native.rd_kafka_mock_cluster_new(_rk, brokers);
        if (_mcluster == IntPtr.Zero)
        {
            Native.rd_kafka_destroy(_rk);
            throw new InvalidOperationException("rd_kafka_mock_cluster_new failed (is librdkafka built with the mock cluster?)");
        }
        BootstrapServers = Marshal.PtrToStringUTF8(Native.rd_kafka_mock_cluster_bootstraps(_mcluster))!;
        Brokers = brokers;
    }

    /// <summary>"127.0.0.1:port,127.0.0.1:port,..." for bootstrap.servers.</summary>
    public string BootstrapServers { get; }

    public int Brokers { get; }

    public void CreateTopic(string topic, int partitions, int replicationFactor = 1)
        => Check(Call(h => Native.rd_kafka_mock_topic_create(h, topic, partitions, replicationFactor)), $"create topic {topic}");

    /// <summary>Takes a broker down (connections closed, no new ones accepted) until <see cref="BrokerUp"/>.</summary>
    public void BrokerDown(int brokerId) => Check(Call(h => Native.rd_kafka_mock_broker_set_down(h, brokerId)), $"broker {brokerId} down");

    public void BrokerUp(int brokerId) => Check(Call(h => Native.rd_kafka_mock_broker_set_up(h, brokerId)), $"broker {brokerId} up");

    public void SetBrokerRtt(int brokerId, int rttMs) => Check(Call(h => Native.rd_kafka_mock_broker_set_rtt(h, brokerId, rttMs)), $"broker {brokerId} rtt");

    public void SetPartitionLeader(string topic, int partition, int brokerId)
        => Check(Call(h => Native.rd_kafka_mock_partition_set_leader(h, topic, partition, brokerId)), $"leader of {topic}[{partition}]");

    /// <summary>Pins the coordinator of a consumer group (<paramref name="keyType"/> "group") or transactional id ("transaction")
    /// to a broker, e.g. to take other brokers down without losing the group.</summary>
    public void SetCoordinator(string keyType, string key, int brokerId)
        => Check(Call(h => Native.rd_kafka_mock_coordinator_set(h, keyType, key, brokerId)), $"{keyType} coordinator of {key}");

    /// <summary>
    /// The next <c>errors.Length</c> requests of this API (any broker) fail with these Kafka error codes, in order.
    /// Example: <c>PushRequestErrors(KafkaApi.Produce, 6 /*NOT_LEADER_OR_FOLLOWER*/, 7 /*REQUEST_TIMED_OUT*/)</c>.
    /// </summary>
    public void PushRequestErrors(KafkaApi api, params int[] errorCodes)
        => Call(h => { Native.rd_kafka_mock_push_request_errors_array(h, (short)api, (UIntPtr)errorCodes.Length, errorCodes); return 0; });

    public void ClearRequestErrors(KafkaApi api) => Call(h => { Native.rd_kafka_mock_clear_request_errors(h, (short)api); return 0; });

    public void Dispose()
    {
        lock (_gate)
        {
            if (_mcluster != IntPtr.Zero) { Native.rd_kafka_mock_cluster_destroy(_mcluster); _mcluster = IntPtr.Zero; }
            if (_rk != IntPtr.Zero) { Native.rd_kafka_destroy(_rk); _rk = IntPtr.Zero; }
        }
    }

    // Fault injections often run on timers (a broker back up after 3 s): one lock orders every native call against
    // Dispose, so a late call sees ObjectDisposedException instead of a destroyed cluster.
    private readonly object _gate = new();

    private int Call(Func<IntPtr, int> native)
    {
        lock (_gate) return native(Handle);
    }

    private IntPtr Handle => _mcluster != IntPtr.Zero ? _mcluster : throw new ObjectDisposedException(nameof(MockCluster));

    private static void Check(int err, string what)
    {
        if (err != 0) throw new InvalidOperationException($"mock cluster: {what} failed: {Marshal.PtrToStringUTF8(Native.rd_kafka_err2str(err))} ({err})");
    }

    private static class Native
    {
        private const string Lib = "librdkafka";
        private static readonly Lock LoadLock = new();
        private static bool _loaded;

        /// <summary>Resolves "librdkafka" to the copy librdkafka.redist put under runtimes/&lt;rid&gt;/native.</summary>
        public static void EnsureLoaded()
        {
            // A lock, not a flag: a second caller (parallel test classes) must wait until the resolver is in place, or its
            // first P/Invoke falls back to the default probe and fails (DllNotFoundException: libsasl2.so.3).
            lock (LoadLock)
            {
                if (_loaded) return;
                Load();
                _loaded = true;
            }
        }

        private static void Load()
        {
            Confluent.Kafka.Library.Load();
            try
            {
                NativeLibrary.SetDllImportResolver(typeof(MockCluster).Assembly, (name, asm, path) =>
                {
                    if (name != Lib) return IntPtr.Zero;
                    // Use the very copy Confluent.Kafka loaded (it may have fallen back to a distro variant, e.g.
                    // centos8-librdkafka.so on Debian, where librdkafka.so lacks libsasl2.so.3).
                    if (LoadedPath() is { } loaded && NativeLibrary.TryLoad(loaded, out var mine)) return mine;
                    var baseDir = AppContext.BaseDirectory;
                    var rid = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? "linux-arm64" : "linux-x64";
                    foreach (var candidate in new[]
                             {
                                 Path.Combine(baseDir, "runtimes", rid, "native", "librdkafka.so"),
                                 Path.Combine(baseDir, "runtimes", rid, "native", "centos8-librdkafka.so"),
                                 Path.Combine(baseDir, "librdkafka.so"),
                                 Path.Combine(Path.GetDirectoryName(typeof(Confluent.Kafka.Library).Assembly.Location) ?? baseDir, "runtimes", rid, "native", "librdkafka.so"),
                             })
                        if (File.Exists(candidate) && NativeLibrary.TryLoad(candidate, out var h)) return h;
                    return NativeLibrary.TryLoad(name, asm, path, out var h2) ? h2 : IntPtr.Zero;
                });
            }
            catch (InvalidOperationException) { /* a resolver is already set for this assembly */ }
        }

        private static string? LoadedPath()
        {
            try
            {
                foreach (var line in File.ReadLines("/proc/self/maps"))
                {
                    int slash = line.IndexOf('/');
                    if (slash >= 0 && line.Contains("librdkafka", StringComparison.Ordinal)) return line[slash..].Trim();
                }
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
            return null;
        }

        [DllImport(Lib)] public static extern IntPtr rd_kafka_conf_new();
        [DllImport(Lib)] public static extern int rd_kafka_conf_set(IntPtr conf, [MarshalAs(UnmanagedType.LPUTF8Str)] string name, [MarshalAs(UnmanagedType.LPUTF8Str)] string value, StringBuilder errstr, UIntPtr errstrSize);
        [DllImport(Lib)] public static extern IntPtr rd_kafka_new(int type, IntPtr conf, StringBuilder errstr, UIntPtr errstrSize);
        [DllImport(Lib)] public static extern void rd_kafka_destroy(IntPtr rk);
        [DllImport(Lib)] public static extern IntPtr rd_kafka_err2str(int err);
        [DllImport(Lib)] public static extern IntPtr rd_kafka_mock_cluster_new(IntPtr rk, int brokers);
        [DllImport(Lib)] public static extern void rd_kafka_mock_cluster_destroy(IntPtr mcluster);
        [DllImport(Lib)] public static extern IntPtr rd_kafka_mock_cluster_bootstraps(IntPtr mcluster);
        [DllImport(Lib)] public static extern int rd_kafka_mock_topic_create(IntPtr mcluster, [MarshalAs(UnmanagedType.LPUTF8Str)] string topic, int partitions, int replicationFactor);
        [DllImport(Lib)] public static extern int rd_kafka_mock_broker_set_down(IntPtr mcluster, int brokerId);
        [DllImport(Lib)] public static extern int rd_kafka_mock_broker_set_up(IntPtr mcluster, int brokerId);
        [DllImport(Lib)] public static extern int rd_kafka_mock_broker_set_rtt(IntPtr mcluster, int brokerId, int rttMs);
        [DllImport(Lib)] public static extern int rd_kafka_mock_partition_set_leader(IntPtr mcluster, [MarshalAs(UnmanagedType.LPUTF8Str)] string topic, int partition, int brokerId);
        [DllImport(Lib)] public static extern int rd_kafka_mock_coordinator_set(IntPtr mcluster, [MarshalAs(UnmanagedType.LPUTF8Str)] string keyType, [MarshalAs(UnmanagedType.LPUTF8Str)] string key, int brokerId);
        [DllImport(Lib)] public static extern void rd_kafka_mock_push_request_errors_array(IntPtr mcluster, short apiKey, UIntPtr count, int[] errors);
        [DllImport(Lib)] public static extern void rd_kafka_mock_clear_request_errors(IntPtr mcluster, short apiKey);
    }
}

/// <summary>Kafka protocol API keys used for error injection.</summary>
public enum KafkaApi : short
{
    Produce = 0,
    Fetch = 1,
    ListOffsets = 2,
    Metadata = 3,
    OffsetCommit = 8,
    OffsetFetch = 9,
    FindCoordinator = 10,
    JoinGroup = 11,
    Heartbeat = 12,
    LeaveGroup = 13,
    SyncGroup = 14,
    InitProducerId = 22,
    AddPartitionsToTxn = 24,
    AddOffsetsToTxn = 25,
    EndTxn = 26,
    TxnOffsetCommit = 28,
}
