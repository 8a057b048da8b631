using System.Globalization;
using Alerts.Core;
using Alerts.Pipeline.Commands;
using Alerts.Simulator;

namespace Alerts.Pipeline.Tests;

/// <summary>
/// `alerts features --survey lsst --augment-from ztf`: a ZTF labelled table (g/r magnitudes, as tools/train/real_sets.py
/// writes it) read as ZTF and moved into Rubin's bands; only the moved copies come back, tied to their source object.
/// </summary>
public class AugmentFromZtfTests
{
    [Fact]
    public void Ztf_table_moved_into_rubin_gives_only_rubin_band_copies_of_each_real_object()
    {
        var dir = Directory.CreateTempSubdirectory("augment-from-ztf");
        try
        {
            var sim = new AlertSimulator(new SimulationOptions { Survey = Survey.Ztf, Objects = 16, Seed = 3, SpanDays = 150, Balanced = true });
            var objects = sim.Generate().GroupBy(a => a.ObjectId).Select(g => g.First().Object).Where(o => T2Classes.IndexOf(o.ClassName) >= 0).ToList();
            Assert.NotEmpty(objects);
            var curves = new List<string> { "object_id,mjd,band,mag,mag_err" };
            var labels = new List<string> { "object_id,class,redshift,set,fold" };
            foreach (var (o, k) in objects.Select((o, k) => (o, k)))
            {
                foreach (var p in o.Observations)
                    if (p.Detected && p.Flux > 0 && p.Band is Band.ZtfG or Band.ZtfR)
                        curves.Add(string.Create(CultureInfo.InvariantCulture,
                            $"{o.ObjectId},{p.Mjd:0.000000},{(p.Band == Band.ZtfG ? "g" : "r")},{Photometry.FluxToMag(p.Flux):0.0000},{1.0857 * p.FluxErr / p.Flux:0.0000}"));
                // Every other object without a redshift: the augmenter's default stands in.
                labels.Add(string.Create(CultureInfo.InvariantCulture, $"{o.ObjectId},{o.ClassName},{(k % 2 == 0 ? o.Redshift.ToString("0.0000", CultureInfo.InvariantCulture) : "")},bts,{k % 5}"));
            }
            File.WriteAllLines(Path.Combine(dir.FullName, "lightcurves.csv"), curves);
            File.WriteAllLines(Path.Combine(dir.FullName, "labels.csv"), labels);

            var skipped = new Dictionary<string, int>();
            var read = ClassifierInputs.ReadLabelled(null, Path.Combine(dir.FullName, "lightcurves.csv"), Path.Combine(dir.FullName, "labels.csv"), Survey.Ztf, skipped, 0);
            Assert.All(read, o => Assert.All(o.LightCurve.Band.ToArray(), b => Assert.Contains(b, new[] { Band.ZtfG, Band.ZtfR })));
            var moved = ClassifierInputs.Augment(read, _ => 3, Survey.Lsst, Survey.Ztf, seed: 1, workers: 2);
            Assert.NotEmpty(moved);
            var sources = read.Select(o => o.Id).ToHashSet();
            foreach (var m in moved)
            {
                Assert.True(m.IsAugmented);
                Assert.True(m.IsReal);   // a label table with a set column: real objects, and the copies derive from them
                Assert.Contains(m.Object, sources);
                Assert.StartsWith(m.Object + "~", m.Id);
                Assert.True(m.LightCurve.Count >= 3);
                Assert.All(m.LightCurve.Band.ToArray(), b => Assert.Contains(b, Bands.Lsst));
                Assert.InRange(m.Redshift, 0.0, 0.8 + 1e-9);
            }
            // Same seed, same copies (two workers or one).
            var again = ClassifierInputs.Augment(read, _ => 3, Survey.Lsst, Survey.Ztf, seed: 1, workers: 1);
            Assert.Equal(moved.Select(m => (m.Id, m.LightCurve.Count)), again.Select(m => (m.Id, m.LightCurve.Count)));
            Assert.Throws<ArgumentException>(() => ClassifierInputs.Augment(read, _ => 1, Survey.Ztf, Survey.Lsst, 1, 1));
        }
        finally { dir.Delete(recursive: true); }
    }
}
