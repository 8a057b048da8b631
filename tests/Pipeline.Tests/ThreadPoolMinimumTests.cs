using Alerts.Pipeline.Processing;

namespace Alerts.Pipeline.Tests;

public sealed class ThreadPoolMinimumTests
{
    [Fact]
    public void The_pipeline_raises_the_pools_minimum_worker_threads_and_never_lowers_it()
    {
        ThreadPool.GetMinThreads(out int before, out int io);
        AlertPipeline.EnsureThreadPoolMinimum(before + 1);
        ThreadPool.GetMinThreads(out int raised, out int ioAfter);
        Assert.Equal(before + 1, raised);
        Assert.Equal(io, ioAfter);
        AlertPipeline.EnsureThreadPoolMinimum(1);
        ThreadPool.GetMinThreads(out int kept, out _);
        Assert.Equal(before + 1, kept);
    }
}
