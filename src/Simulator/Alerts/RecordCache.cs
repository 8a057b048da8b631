using Alerts.Avro;
using Alerts.Simulator.Avro;

namespace Alerts.Simulator.Alerts;

/// <summary>
/// Encoded bytes of per-observation history records (prv_candidate, fp_hist, diaSource, diaForcedSource) of the
/// object being written. A history record does not depend on which alert carries it, so each is encoded once per
/// object and then copied into every later alert (the history window of alert i repeats those of alerts before it).
/// </summary>
internal sealed class RecordCache : IDisposable
{
    private readonly AvroBinaryWriter _bytes = new(64 * 1024);
    private int[] _offset = new int[256], _length = new int[256];
    private object? _owner;

    public void Bind(SimulatedObject obj)
    {
        if (ReferenceEquals(obj, _owner)) return;
        _owner = obj;
        _bytes.Reset();
        int n = obj.Observations.Length;
        if (_offset.Length < n) { _offset = new int[n * 2]; _length = new int[n * 2]; }
        Array.Fill(_length, -1, 0, n);
    }

    /// <summary>Copies record <paramref name="k"/> into <paramref name="output"/>, encoding it with <paramref name="encode"/> on first use.</summary>
    public void CopyTo(AvroBinaryWriter output, int k, Action<AvroBinaryWriter, int> encode)
    {
        if (_length[k] < 0)
        {
            _offset[k] = _bytes.Length;
            encode(_bytes, k);
            _length[k] = _bytes.Length - _offset[k];
        }
        output.WriteRaw(_bytes.WrittenSpan.Slice(_offset[k], _length[k]));
    }

    public void Dispose() => _bytes.Dispose();
}
