using System.Collections.Concurrent;
using Xunit;

namespace Alerts.Tests.Shared;

/// <summary>An independent tool a test checks our output against (Debian packages; ./test.sh installs them all).</summary>
public enum Referee
{
    /// <summary>kcat, reads our Kafka topics (Debian kcat).</summary>
    Kcat,
    /// <summary>the Prometheus server, scrapes our metrics and evaluates our rules (Debian prometheus).</summary>
    Prometheus,
    /// <summary>promtool, checks our rule and configuration files (Debian prometheus).</summary>
    Promtool,
    /// <summary>Apache's avro library under Debian's python3 (python3-avro).</summary>
    PythonAvro,
    /// <summary>the onnx library and its checker under Debian's python3 (python3-onnx).</summary>
    PythonOnnx,
    /// <summary>scikit-learn under Debian's python3, the independent Gaussian process (python3-sklearn).</summary>
    PythonSklearn,
}

/// <summary>
/// Where each referee lives and whether it is installed. A test that needs one is skipped, with the same kind of reason
/// everywhere, when it is absent (<see cref="RefereeFactAttribute"/>, <see cref="SharedDataFactAttribute"/>); it
/// never fails for a tool this machine lacks.
/// </summary>
public static class Referees
{
    private static readonly ConcurrentDictionary<Referee, bool> Present = new();

    /// <summary>The Debian package that provides the referee.</summary>
    public static string Package(Referee r) => r switch
    {
        Referee.Kcat => "kcat",
        Referee.Prometheus or Referee.Promtool => "prometheus",
        Referee.PythonAvro => "python3-avro",
        Referee.PythonOnnx => "python3-onnx",
        Referee.PythonSklearn => "python3-sklearn",
        _ => throw new ArgumentOutOfRangeException(nameof(r), r, null),
    };

    /// <summary>What the test runs: a binary path, or Debian's interpreter with a module.</summary>
    public static string What(Referee r) => r switch
    {
        Referee.Kcat => "/usr/bin/kcat",
        Referee.Prometheus => "/usr/bin/prometheus",
        Referee.Promtool => "/usr/bin/promtool",
        Referee.PythonAvro => $"{DebianPython.Interpreter} with the avro module",
        Referee.PythonOnnx => $"{DebianPython.Interpreter} with the onnx module",
        Referee.PythonSklearn => $"{DebianPython.Interpreter} with scikit-learn",
        _ => throw new ArgumentOutOfRangeException(nameof(r), r, null),
    };

    public static bool IsPresent(Referee r) => Present.GetOrAdd(r, static r => r switch
    {
        Referee.Kcat or Referee.Prometheus or Referee.Promtool => File.Exists(What(r)),
        Referee.PythonAvro => DebianPython.CanImport("avro.datafile", "avro.io"),
        Referee.PythonOnnx => DebianPython.CanImport("onnx", "onnx.checker"),
        Referee.PythonSklearn => DebianPython.CanImport("sklearn.gaussian_process"),
        _ => false,
    });

    /// <summary>The skip reason naming every absent referee and its package, or null when all are present.</summary>
    public static string? MissingReason(params Referee[] needs)
    {
        var missing = needs.Distinct().Where(r => !IsPresent(r)).ToList();
        if (missing.Count == 0) return null;
        return "needs " + string.Join(", ", missing.Select(What)) +
               $" (apt-get install {string.Join(' ', missing.Select(Package).Distinct())}; ./test.sh installs it)";
    }
}

/// <summary>A fact skipped, with <see cref="Referees.MissingReason"/>, where one of its referees is not installed.</summary>
public sealed class RefereeFactAttribute : FactAttribute
{
    public RefereeFactAttribute(params Referee[] needs)
    {
        if (Referees.MissingReason(needs) is { } reason) Skip = reason;
    }
}

/// <summary>A theory skipped, with <see cref="Referees.MissingReason"/>, where one of its referees is not installed.</summary>
public sealed class RefereeTheoryAttribute : TheoryAttribute
{
    public RefereeTheoryAttribute(params Referee[] needs)
    {
        if (Referees.MissingReason(needs) is { } reason) Skip = reason;
    }
}
