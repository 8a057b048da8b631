using System.CommandLine;
using System.Reflection;

namespace Alerts.Pipeline.Commands;

public static class VersionCommand
{
    public static Command Create()
    {
        var cmd = new Command("version", "Print the version of alerts and of its native dependencies.");
        cmd.SetAction(_ =>
        {
            Console.WriteLine($"alerts {Assembly.GetExecutingAssembly().GetName().Version}");
            return 0;
        });
        return cmd;
    }
}
