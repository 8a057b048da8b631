using Alerts.Pipeline.Commands;

namespace Alerts.Pipeline.Tests;

/// <summary>The per-thread CPU that `alerts bench e2e` reports in its steady window.</summary>
public sealed class E2eWindowTests
{
    [Fact]
    public void A_thread_stat_line_gives_its_name_and_user_plus_system_ticks_even_when_the_name_holds_spaces_and_parentheses()
    {
        var line = "4242 (.NET TP (x) Worker) S 1 4242 4242 0 -1 4194368 1353 0 0 0 712 88 0 0 20 0 41 0 1234 0 0";
        Assert.Equal((".NET TP (x) Worker", 800L), ProcessSnapshot.ParseStat(line));
        Assert.Null(ProcessSnapshot.ParseStat("garbage"));
    }

    [Fact]
    public void This_process_lists_its_threads_with_cpu_on_linux()
    {
        var threads = ProcessSnapshot.ReadThreads();
        if (!OperatingSystem.IsLinux()) { Assert.Empty(threads); return; }
        Assert.Contains(threads.Values, t => t.CpuTicks >= 0 && t.Name.Length > 0);
        Assert.All(threads.Values, t => Assert.True(t.WaitForCoreNs >= -1));
        Assert.True(threads.ContainsKey(Environment.ProcessId)); // the main thread's id is the process id
    }

    [Theory]
    [InlineData("rdk:broker3", "rdk:broker")]
    [InlineData("rdk:broker-1", "rdk:broker-")]
    [InlineData("rdk:mock", "rdk:mock")]
    [InlineData(".NET TP Worker", ".NET TP Worker")]
    [InlineData("kafka-consume", "kafka-consume")]
    public void Threads_group_by_name_without_librdkafkas_broker_numbers(string name, string group) =>
        Assert.Equal(group, E2eWindow.GroupOf(name));
}
