using System.Runtime.InteropServices;

namespace Alerts.Classifier.Bench;

/// <summary>
/// CPU time of the calling thread (Linux CLOCK_THREAD_CPUTIME_ID). With one intra-op thread ORT runs the graph on
/// the caller, so this is the per-core cost of a run even when other processes share the cores and stretch the wall
/// clock (time waiting for a core is not counted; cache and SMT contention still are).
/// </summary>
public static partial class ThreadCpuClock
{
    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec { public long Seconds; public long Nanoseconds; }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out Timespec ts);

    public static double NowMicroseconds()
    {
        const int ClockThreadCpuTimeId = 3;
        if (ClockGetTime(ClockThreadCpuTimeId, out var ts) != 0) throw new InvalidOperationException("clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
        return ts.Seconds * 1e6 + ts.Nanoseconds / 1e3;
    }
}
