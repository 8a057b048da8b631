namespace Alerts.Core;

/// <summary>
/// A light curve stored as columns: time (MJD), band, flux and flux error (nJy, see <see cref="Photometry"/>)
/// and point kind. Instances are reusable buffers: <see cref="Clear"/> keeps the arrays, so a decoder that
/// owns one instance per worker allocates nothing per alert once the arrays have grown to the largest history.
/// Points are kept in the order they were added; call <see cref="SortByTime"/> when order matters.
/// </summary>
public sealed class LightCurve
{
    private double[] _mjd;
    private float[] _flux;
    private float[] _fluxErr;
    private Band[] _band;
    private PointKind[] _kind;

    public LightCurve(int capacity = 64)
    {
        capacity = Math.Max(capacity, 1);
        _mjd = new double[capacity];
        _flux = new float[capacity];
        _fluxErr = new float[capacity];
        _band = new Band[capacity];
        _kind = new PointKind[capacity];
    }

    public int Count { get; private set; }

    public ReadOnlySpan<double> Mjd => _mjd.AsSpan(0, Count);
    public ReadOnlySpan<float> Flux => _flux.AsSpan(0, Count);
    public ReadOnlySpan<float> FluxErr => _fluxErr.AsSpan(0, Count);
    public ReadOnlySpan<Band> Band => _band.AsSpan(0, Count);
    public ReadOnlySpan<PointKind> Kind => _kind.AsSpan(0, Count);

    public void Clear() => Count = 0;

    public void Add(double mjd, Band band, float flux, float fluxErr, PointKind kind)
    {
        if (Count == _mjd.Length) Grow();
        _mjd[Count] = mjd;
        _band[Count] = band;
        _flux[Count] = flux;
        _fluxErr[Count] = fluxErr;
        _kind[Count] = kind;
        Count++;
    }

    public int CountOf(PointKind kind)
    {
        int n = 0;
        foreach (var k in Kind) if (k == kind) n++;
        return n;
    }

    /// <summary>Stable sort by time (insertion sort: histories arrive almost sorted, and are short).</summary>
    public void SortByTime()
    {
        for (int i = 1; i < Count; i++)
        {
            var t = _mjd[i];
            if (_mjd[i - 1] <= t) continue;
            var b = _band[i]; var f = _flux[i]; var e = _fluxErr[i]; var k = _kind[i];
            int j = i - 1;
            while (j >= 0 && _mjd[j] > t)
            {
                _mjd[j + 1] = _mjd[j]; _band[j + 1] = _band[j]; _flux[j + 1] = _flux[j];
                _fluxErr[j + 1] = _fluxErr[j]; _kind[j + 1] = _kind[j];
                j--;
            }
            _mjd[j + 1] = t; _band[j + 1] = b; _flux[j + 1] = f; _fluxErr[j + 1] = e; _kind[j + 1] = k;
        }
    }

    public void CopyTo(LightCurve target)
    {
        target.Clear();
        for (int i = 0; i < Count; i++) target.Add(_mjd[i], _band[i], _flux[i], _fluxErr[i], _kind[i]);
    }

    public LightCurve Clone()
    {
        var c = new LightCurve(Math.Max(Count, 1));
        CopyTo(c);
        return c;
    }

    private void Grow()
    {
        int n = _mjd.Length * 2;
        Array.Resize(ref _mjd, n);
        Array.Resize(ref _flux, n);
        Array.Resize(ref _fluxErr, n);
        Array.Resize(ref _band, n);
        Array.Resize(ref _kind, n);
    }
}
