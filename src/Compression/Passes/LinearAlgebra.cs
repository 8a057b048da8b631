namespace Alerts.Compression.Passes;

/// <summary>Small dense double-precision routines for the passes (matrices here are at most a few hundred wide).</summary>
internal static class LinearAlgebra
{
    /// <summary>X^T X for X [rows x cols] row-major, as double.</summary>
    public static double[,] Gram(ReadOnlySpan<float> x, int rows, int cols)
    {
        var g = new double[cols, cols];
        var row = new double[cols];
        for (int r = 0; r < rows; r++)
        {
            var xr = x.Slice(r * cols, cols);
            for (int i = 0; i < cols; i++) row[i] = xr[i];
            for (int i = 0; i < cols; i++)
            {
                double xi = row[i];
                if (xi == 0) continue;
                for (int j = i; j < cols; j++) g[i, j] += xi * row[j];
            }
        }
        for (int i = 0; i < cols; i++) for (int j = 0; j < i; j++) g[i, j] = g[j, i];
        return g;
    }

    /// <summary>Lower-triangular L with A = L L^T. Throws when A is not positive definite.</summary>
    public static double[,] Cholesky(double[,] a)
    {
        int n = a.GetLength(0);
        var l = new double[n, n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j <= i; j++)
            {
                double s = a[i, j];
                for (int k = 0; k < j; k++) s -= l[i, k] * l[j, k];
                if (i == j)
                {
                    if (s <= 0) throw new InvalidOperationException($"matrix is not positive definite (pivot {i} = {s})");
                    l[i, i] = Math.Sqrt(s);
                }
                else l[i, j] = s / l[j, j];
            }
        }
        return l;
    }

    /// <summary>Inverse of a symmetric positive definite matrix via Cholesky.</summary>
    public static double[,] InverseSpd(double[,] a)
    {
        int n = a.GetLength(0);
        var l = Cholesky(a);
        var inv = new double[n, n];
        var e = new double[n];
        for (int c = 0; c < n; c++)
        {
            Array.Clear(e);
            e[c] = 1;
            var y = SolveLower(l, e);
            var x = SolveUpperTransposed(l, y);
            for (int r = 0; r < n; r++) inv[r, c] = x[r];
        }
        return inv;
    }

    /// <summary>Solves (A) X = B for SPD A [n x n] and B [n x m] (ridge-regularised least squares normal equations).</summary>
    public static double[,] SolveSpd(double[,] a, double[,] b)
    {
        int n = a.GetLength(0), m = b.GetLength(1);
        var l = Cholesky(a);
        var x = new double[n, m];
        var col = new double[n];
        for (int c = 0; c < m; c++)
        {
            for (int r = 0; r < n; r++) col[r] = b[r, c];
            var y = SolveLower(l, col);
            var s = SolveUpperTransposed(l, y);
            for (int r = 0; r < n; r++) x[r, c] = s[r];
        }
        return x;
    }

    private static double[] SolveLower(double[,] l, double[] b)
    {
        int n = b.Length;
        var y = new double[n];
        for (int i = 0; i < n; i++)
        {
            double s = b[i];
            for (int k = 0; k < i; k++) s -= l[i, k] * y[k];
            y[i] = s / l[i, i];
        }
        return y;
    }

    private static double[] SolveUpperTransposed(double[,] l, double[] y)
    {
        int n = y.Length;
        var x = new double[n];
        for (int i = n - 1; i >= 0; i--)
        {
            double s = y[i];
            for (int k = i + 1; k < n; k++) s -= l[k, i] * x[k];
            x[i] = s / l[i, i];
        }
        return x;
    }
}
