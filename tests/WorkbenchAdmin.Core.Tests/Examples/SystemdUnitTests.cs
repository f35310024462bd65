using System.Diagnostics;
using WorkbenchAdmin.Core.Tests.Support;

namespace WorkbenchAdmin.Core.Tests.Examples;

/// <summary>
/// examples/systemd: the node unit and the heartbeat live and die with rstudio-server. A heartbeat never starts
/// rstudio-server or re-registers the node, and when rstudio-server stops or fails, the node leaves (Offline).
/// </summary>
public class SystemdUnitTests
{
    private static readonly string Units = Path.Combine(RepoPaths.Root, "examples", "systemd");
    private const string Server = "rstudio-server.service", Node = "workbenchadmin-node.service", Heartbeat = "workbenchadmin-heartbeat.service",
                         Balancer = "workbenchadmin-balancer.service";

    /// <summary>Section → key → every value (space-separated lists split), as systemd reads a unit file.</summary>
    private static Dictionary<string, Dictionary<string, List<string>>> Read(string unit)
    {
        var sections = new Dictionary<string, Dictionary<string, List<string>>>();
        Dictionary<string, List<string>>? current = null;
        foreach (var raw in File.ReadLines(Path.Combine(Units, unit)))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] is '#' or ';') continue;
            if (line.StartsWith('[')) { sections[line.Trim('[', ']')] = current = []; continue; }
            var eq = line.IndexOf('=');
            var key = line[..eq].Trim();
            if (!current!.TryGetValue(key, out var values)) current[key] = values = [];
            values.AddRange(key.StartsWith("Exec", StringComparison.Ordinal) ? [line[(eq + 1)..].Trim()] : line[(eq + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        }
        return sections;
    }

    private static List<string> Values(string unit, string section, string key) =>
        Read(unit).GetValueOrDefault(section)?.GetValueOrDefault(key) ?? [];

    [Fact]
    public void TheNodeUnitStartsWithRstudioServerAndLeavesWhenItStopsOrFails()
    {
        Assert.Contains(Server, Values(Node, "Unit", "BindsTo"));
        Assert.Contains(Server, Values(Node, "Unit", "After"));
        Assert.Equal([Server], Values(Node, "Install", "WantedBy"));
        Assert.Contains("Unregister-WbNode", Assert.Single(Values(Node, "Service", "ExecStop")));
    }

    [Fact]
    public void AHeartbeatNeverStartsRstudioServerOrRegistersTheNodeAgain()
    {
        // Requires= (or Wants=/BindsTo=) would start the node unit, re-registering a node whose rstudio-server stopped.
        foreach (var pull in new[] { "Requires", "Wants", "BindsTo" }) Assert.Empty(Values(Heartbeat, "Unit", pull));
        Assert.Equal([Server, Node], Values(Heartbeat, "Unit", "Requisite").Order(StringComparer.Ordinal));
        Assert.Superset(new HashSet<string> { Server, Node }, Values(Heartbeat, "Unit", "After").ToHashSet());
        Assert.Contains(Server, Values(Heartbeat, "Unit", "PartOf"));
    }

    [Fact]
    public void TheHeartbeatIsOneLongLivedProcessStartedWithRstudioServerAndRestartedIfItEnds()
    {
        // A pwsh started every 5 s by a timer costs a process start and a module import per beat; one process beats on.
        Assert.Equal(["simple"], Values(Heartbeat, "Service", "Type"));
        Assert.Contains("Update-WbNodeStatus -EverySec", Assert.Single(Values(Heartbeat, "Service", "ExecStart")));
        Assert.Equal(["always"], Values(Heartbeat, "Service", "Restart"));
        // Not multi-user.target: started at boot on its own, it would fail its Requisite= before rstudio-server is up.
        Assert.Equal([Server], Values(Heartbeat, "Install", "WantedBy"));
        Assert.False(File.Exists(Path.Combine(Units, "workbenchadmin-heartbeat.timer")), "the timer is gone: the service beats by itself");
    }

    [Fact]
    public void TheDecisionServiceRunsTheInstalledProgramWithItsSocketDirectoryRootOnly()
    {
        // The installed copy, so the service finds the same policy pointer beside it as the program Workbench runs.
        Assert.Equal([$"{WorkbenchAdmin.Core.Configuration.LoadBalancerConfig.DefaultCustomScript} {WorkbenchAdmin.Core.Live.DecisionService.ServeArgument}"],
                     Values(Balancer, "Service", "ExecStart"));
        Assert.Equal(["simple"], Values(Balancer, "Service", "Type"));
        Assert.Equal(["always"], Values(Balancer, "Service", "Restart"));
        // systemd makes /run/<RuntimeDirectory>: the directory of the policy's default socket, reachable by root alone.
        Assert.Equal([Path.GetFileName(Path.GetDirectoryName(BalancerPolicy.DefaultServiceSocket))!], Values(Balancer, "Service", "RuntimeDirectory"));
        Assert.Equal("/run", Path.GetDirectoryName(Path.GetDirectoryName(BalancerPolicy.DefaultServiceSocket)));
        Assert.Equal(["0700"], Values(Balancer, "Service", "RuntimeDirectoryMode"));
        // /var/lib/<StateDirectory>: the policy's default state-directory, which ProtectSystem= leaves writable.
        Assert.Equal(["/var/lib/" + Values(Balancer, "Service", "StateDirectory").Single()], [BalancerPolicy.DefaultStateDirectory]);
        Assert.Equal(["yes"], Values(Balancer, "Service", "NoNewPrivileges"));
        // A node without the program installed does not start it (and restart it every 2 s) at all.
        Assert.Equal([WorkbenchAdmin.Core.Configuration.LoadBalancerConfig.DefaultCustomScript], Values(Balancer, "Unit", "ConditionFileIsExecutable"));
        // Ready before the first login, but independent of rstudio-server: without it the program decides itself.
        Assert.Contains(Server, Values(Balancer, "Unit", "Before"));
        Assert.Empty(Values(Balancer, "Unit", "Requires").Concat(Values(Balancer, "Unit", "BindsTo")));
    }

    [ToolFact("/usr/bin/systemd-analyze", "systemd")]
    public void SystemdAcceptsTheUnits()
    {
        using var dir = new TempDirectory();
        foreach (var unit in new[] { Node, Heartbeat, Balancer }) File.Copy(Path.Combine(Units, unit), dir.File(unit));
        File.WriteAllText(dir.File(Server), "[Unit]\nDescription=stand-in for Workbench\n[Service]\nExecStart=/bin/true\n");
        var start = new ProcessStartInfo("/usr/bin/systemd-analyze", ["verify", "--man=no", dir.File(Node), dir.File(Heartbeat), dir.File(Balancer)])
        {
            RedirectStandardError = true, RedirectStandardOutput = true, WorkingDirectory = dir.Path,
        };
        using var verify = Process.Start(start)!;
        var output = verify.StandardError.ReadToEnd() + verify.StandardOutput.ReadToEnd();
        verify.WaitForExit();
        // pwsh may live elsewhere on a build machine, and the installed balancer is not installed here; anything
        // else systemd says is a mistake in a unit.
        var problems = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.Contains("is not executable")).ToList();
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }
}
