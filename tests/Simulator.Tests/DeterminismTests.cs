using System.Security.Cryptography;
using Alerts.Core;

namespace Alerts.Simulator.Tests;

public class DeterminismTests
{
    private static string Hash(SimulationOptions o)
    {
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var a in new AlertSimulator(o).Generate()) h.AppendData(a.Bytes);
        return Convert.ToHexString(h.GetHashAndReset());
    }

    [Theory]
    [InlineData(Survey.Ztf, AlertFormat.Container)]
    [InlineData(Survey.Lsst, AlertFormat.Wire)]
    public void The_same_seed_gives_the_same_bytes_and_another_seed_different_bytes(Survey survey, AlertFormat format)
    {
        var o = new SimulationOptions { Survey = survey, Format = format, Objects = 20, Seed = 11, Balanced = true };
        Assert.Equal(Hash(o), Hash(o));
        Assert.NotEqual(Hash(o), Hash(o with { Seed = 12 }));
    }

    [Fact]
    public async Task Written_folders_are_byte_identical_for_the_same_seed()
    {
        var a = Directory.CreateTempSubdirectory("det-a").FullName; var b = Directory.CreateTempSubdirectory("det-b").FullName;
        try
        {
            var o = new SimulationOptions { Survey = Survey.Ztf, Format = AlertFormat.Tarball, Objects = 14, Seed = 5, Balanced = true };
            await new AlertSimulator(o).WriteAsync(a);
            await new AlertSimulator(o).WriteAsync(b);
            var fa = Directory.GetFiles(a).Select(Path.GetFileName).Order().ToArray();
            Assert.Equal(fa, Directory.GetFiles(b).Select(Path.GetFileName).Order().ToArray());
            foreach (var f in fa) Assert.Equal(File.ReadAllBytes(Path.Combine(a, f!)), File.ReadAllBytes(Path.Combine(b, f!)));
        }
        finally { Directory.Delete(a, true); Directory.Delete(b, true); }
    }

    [Fact]
    public void Object_i_does_not_depend_on_how_many_objects_are_simulated()
    {
        var small = new AlertSimulator(new SimulationOptions { Objects = 5, Seed = 9 }).SimulateObject(3);
        var large = new AlertSimulator(new SimulationOptions { Objects = 5000, Seed = 9 }).SimulateObject(3);
        Assert.Equal(small.ClassName, large.ClassName);
        Assert.Equal(small.Observations.Select(o => o.Flux), large.Observations.Select(o => o.Flux));
    }
}
