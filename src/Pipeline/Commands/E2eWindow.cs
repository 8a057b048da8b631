using System.Diagnostics;
using Alerts.Pipeline.Processing;

namespace Alerts.Pipeline.Commands;

/// <summary>
/// The process's counters at one moment of a bench run: wall clock, process CPU, managed allocation, GC pauses and
/// collections, CPU per OS thread (Linux /proc/self/task) and the pipeline's stage totals. Two snapshots make a
/// <see cref="E2eWindow"/>.
/// </summary>
public sealed record ProcessSnapshot(long Timestamp, long Alerts, TimeSpan ProcessCpu, long AllocatedBytes, TimeSpan GcPause,
    int Gen0, int Gen1, int Gen2, IReadOnlyDictionary<int, ThreadSample> Threads, IReadOnlyDictionary<string, StageTotals> Stages)
{
    public static ProcessSnapshot Take(long alerts, IReadOnlyDictionary<string, StageTotals> stages)
    {
        using var self = Process.GetCurrentProcess();
        return new ProcessSnapshot(Stopwatch.GetTimestamp(), alerts, self.TotalProcessorTime, GC.GetTotalAllocatedBytes(false), GC.GetTotalPauseDuration(),
            GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), ReadThreads(), stages);
    }

    /// <summary>
    /// Every thread of this process, by thread id: name, utime + stime (clock ticks) from /proc/self/task/*/stat, and
    /// from .../schedstat the time it was runnable but waiting for a core (-1 where the kernel does not report it).
    /// Empty where /proc is missing.
    /// </summary>
    public static IReadOnlyDictionary<int, ThreadSample> ReadThreads()
    {
        var result = new Dictionary<int, ThreadSample>();
        if (!Directory.Exists("/proc/self/task")) return result;
        foreach (var dir in Directory.EnumerateDirectories("/proc/self/task"))
        {
            try
            {
                if (ParseStat(File.ReadAllText(Path.Combine(dir, "stat"))) is not { } t || !int.TryParse(Path.GetFileName(dir), out int tid)) continue;
                long waitNs = -1;
                var sched = File.ReadAllText(Path.Combine(dir, "schedstat")).Split(' ');
                if (sched.Length >= 2 && long.TryParse(sched[1], out long w)) waitNs = w;
                result[tid] = new ThreadSample(t.Name, t.Ticks, waitNs);
            }
            catch (IOException) { } // the thread ended meanwhile
            catch (UnauthorizedAccessException) { }
        }
        return result;
    }

    /// <summary>Name and utime + stime of one /proc/[pid]/task/[tid]/stat line (the name may hold spaces and parentheses).</summary>
    public static (string Name, long Ticks)? ParseStat(string stat)
    {
        int open = stat.IndexOf('('), close = stat.LastIndexOf(')');
        if (open < 0 || close < open) return null;
        var fields = stat[(close + 2)..].Split(' ');
        // After "(name) " field 0 is the state (stat field 3); utime and stime are stat fields 14 and 15.
        if (fields.Length < 13 || !long.TryParse(fields[11], out long utime) || !long.TryParse(fields[12], out long stime)) return null;
        return (stat[(open + 1)..close], utime + stime);
    }
}

/// <summary>One thread at one moment: CPU used (clock ticks) and time spent runnable but waiting for a core (ns, -1 = unknown).</summary>
public readonly record struct ThreadSample(string Name, long CpuTicks, long WaitForCoreNs);

/// <summary>What happened between two <see cref="ProcessSnapshot"/>s: the steady part of a bench run.</summary>
public sealed record E2eWindow(ProcessSnapshot From, ProcessSnapshot To)
{
    /// <summary>USER_HZ: /proc reports thread CPU in these ticks (100 on every Linux build .NET runs on).</summary>
    private const double TicksPerSecond = 100;

    public double Seconds => Stopwatch.GetElapsedTime(From.Timestamp, To.Timestamp).TotalSeconds;
    public long Alerts => To.Alerts - From.Alerts;
    public double Rate => Alerts / Seconds;
    public double CpuSeconds => (To.ProcessCpu - From.ProcessCpu).TotalSeconds;
    public double Cores => CpuSeconds / Seconds;
    public double CpuUsPerAlert => 1e6 * CpuSeconds / Alerts;
    public double AllocatedBytesPerAlert => (To.AllocatedBytes - From.AllocatedBytes) / (double)Alerts;
    public double GcPauseSeconds => (To.GcPause - From.GcPause).TotalSeconds;
    public (int Gen0, int Gen1, int Gen2) Collections => (To.Gen0 - From.Gen0, To.Gen1 - From.Gen1, To.Gen2 - From.Gen2);

    /// <summary>
    /// CPU seconds per thread group over the window. librdkafka's mock brokers all run on the "rdk:mock" thread, which a
    /// real deployment does not have in the service's process; the clients' broker threads are "rdk:broker*".
    /// </summary>
    public IReadOnlyList<ThreadGroup> ThreadGroups()
    {
        var groups = new Dictionary<string, (int Threads, double Cpu, double Max, double Wait)>();
        foreach (var (tid, t) in To.Threads)
        {
            bool same = From.Threads.TryGetValue(tid, out var f) && f.Name == t.Name;
            double cpu = (t.CpuTicks - (same ? f.CpuTicks : 0)) / TicksPerSecond;
            double wait = t.WaitForCoreNs < 0 ? 0 : (t.WaitForCoreNs - (same && f.WaitForCoreNs >= 0 ? f.WaitForCoreNs : 0)) / 1e9;
            var g = GroupOf(t.Name);
            var acc = groups.GetValueOrDefault(g);
            groups[g] = (acc.Threads + (cpu > 0 ? 1 : 0), acc.Cpu + cpu, Math.Max(acc.Max, cpu / Seconds), acc.Wait + wait);
        }
        return groups.Where(kv => kv.Value.Cpu > 0).OrderByDescending(kv => kv.Value.Cpu)
            .Select(kv => new ThreadGroup(kv.Key, kv.Value.Threads, kv.Value.Cpu, kv.Value.Max, kv.Value.Wait)).ToList();
    }

    /// <summary>
    /// CPU seconds of one thread group over the window; WaitForCoreSeconds is how long its threads were runnable with
    /// no core free (the machine's other work, or our own threads outnumbering the cores) — as opposed to blocked on a
    /// lock, a channel or I/O, which is neither.
    /// </summary>
    public sealed record ThreadGroup(string Group, int Threads, double CpuSeconds, double BusiestThreadCores, double WaitForCoreSeconds);

    /// <summary>Process CPU minus the mock cluster's broker thread: what the service itself would use against real brokers.</summary>
    public double ServiceCpuSeconds => CpuSeconds - ThreadGroups().Where(g => g.Group == MockBrokerThread).Sum(g => g.CpuSeconds);

    public const string MockBrokerThread = "rdk:mock";

    /// <summary><see cref="ServiceCpuSeconds"/> without the tiered-compilation thread: the service after its JIT warm-up.</summary>
    public double SteadyServiceCpuSeconds => ServiceCpuSeconds - ThreadGroups().Where(g => g.Group == TieredJitThread).Sum(g => g.CpuSeconds);

    /// <summary>The runtime's background tiered-compilation thread (its name is cut to 15 characters by the kernel).</summary>
    public const string TieredJitThread = ".NET Tiered Com";

    /// <summary>Thread names without their numbers ("rdk:broker3" → "rdk:broker", ".NET TP Worker" stays).</summary>
    public static string GroupOf(string threadName) => threadName.StartsWith("rdk:", StringComparison.Ordinal)
        ? threadName.TrimEnd('0', '1', '2', '3', '4', '5', '6', '7', '8', '9')
        : threadName;

    /// <summary>Stage totals accumulated inside the window.</summary>
    public IReadOnlyDictionary<string, StageTotals> Stages => To.Stages.ToDictionary(kv => kv.Key, kv =>
    {
        var s = kv.Value;
        if (!From.Stages.TryGetValue(kv.Key, out var f)) return s;
        return new StageTotals(s.Calls - f.Calls, s.Items - f.Items, s.Wall - f.Wall, s.Cpu - f.Cpu, s.CpuCalls - f.CpuCalls);
    });
}
