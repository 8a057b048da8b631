using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Alerts.Core;
using Alerts.Simulator;

namespace Alerts.Pipeline.Processing;

/// <summary>
/// Streams alerts from the project's own simulator, in the survey's real byte format, as if read from an archive.
/// It remembers the true class of every alert so a run can be scored against the truth.
/// </summary>
public sealed class SimulatedAlertSource(SimulationOptions options) : IAlertSource
{
    private readonly ConcurrentDictionary<long, string> _truth = new();

    public string Description => $"simulated {options.Survey.Name()} ({options.Objects} objects, seed {options.Seed})";

    /// <summary>True class by alert id (filled while streaming).</summary>
    public IReadOnlyDictionary<long, string> Truth => _truth;

    public long Bytes { get; private set; }

    public async IAsyncEnumerable<RawAlert> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await Task.Yield();
        var origin = $"simulated:{options.Survey.Name()}:seed{options.Seed}";
        long index = 0;
        foreach (var alert in new AlertSimulator(options).Generate())
        {
            cancellationToken.ThrowIfCancellationRequested();
            _truth[alert.AlertId] = alert.ClassName;
            Bytes += alert.Bytes.Length;
            yield return new RawAlert(alert.Bytes, SourcePosition.File(origin, index++), DateTimeOffset.UtcNow);
        }
    }
}
