using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Alerts.Pipeline.Processing;

/// <summary>Totals of one pipeline stage: items, wall time, and CPU time of the thread that ran it (where known).</summary>
public sealed record StageTotals(long Calls, long Items, TimeSpan Wall, TimeSpan Cpu, long CpuCalls)
{
    /// <summary>CPU share of wall for the calls whose CPU was measured (1 = busy all along, ~0 = waiting on I/O or locks).</summary>
    public double CpuFraction => CpuCalls == 0 || Wall <= TimeSpan.Zero ? double.NaN : Cpu.TotalSeconds / (Wall.TotalSeconds * CpuCalls / Calls);
}

/// <summary>
/// Wall and thread-CPU time of a stretch of code. CPU comes from clock_gettime(CLOCK_THREAD_CPUTIME_ID) on Linux and
/// counts only when the stretch ended on the thread it began on (an await that resumed elsewhere, or work fanned out
/// to other threads such as a parallel GP, is not in it); elsewhere CPU is unknown. Callers also drop it for waits and
/// for work that went asynchronous (the thread may have run other work meanwhile).
/// </summary>
public readonly struct StageClock
{
    private readonly long _wallStart;
    private readonly long _cpuStartNs;
    private readonly int _thread;

    private StageClock(long wall, long cpu, int thread) { _wallStart = wall; _cpuStartNs = cpu; _thread = thread; }

    public static StageClock Start() => new(Stopwatch.GetTimestamp(), ThreadCpuNanoseconds(), Environment.CurrentManagedThreadId);

    public TimeSpan Wall => Stopwatch.GetElapsedTime(_wallStart);

    /// <summary>Thread CPU since <see cref="Start"/>, or null when it cannot be known.</summary>
    public TimeSpan? Cpu
    {
        get
        {
            if (_cpuStartNs < 0 || Environment.CurrentManagedThreadId != _thread) return null;
            long now = ThreadCpuNanoseconds();
            return now < 0 ? null : TimeSpan.FromTicks((now - _cpuStartNs) / 100);
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec { public long Seconds; public long Nanoseconds; }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out Timespec ts);

    private const int ClockThreadCpuTime = 3; // CLOCK_THREAD_CPUTIME_ID
    private static readonly bool Available = OperatingSystem.IsLinux() && Probe();

    private static bool Probe()
    {
        try { return ClockGetTime(ClockThreadCpuTime, out _) == 0; }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException) { return false; }
    }

    /// <summary>CPU time the calling OS thread has used, in ns; -1 where unavailable.</summary>
    public static long ThreadCpuNanoseconds()
    {
        if (!Available || ClockGetTime(ClockThreadCpuTime, out var ts) != 0) return -1;
        return ts.Seconds * 1_000_000_000L + ts.Nanoseconds;
    }
}
