using System.Diagnostics;

namespace WorkbenchAdmin.Core.Tests.Support;

/// <summary>
/// The network-namespace hosts of tests/fixtures/netns-cluster/netns-cluster.sh, driven from xunit: nodes with their
/// own address, host name and mounts on a private bridge. Dispose runs the script's idempotent `down`.
/// </summary>
public sealed class NetnsHosts : IDisposable
{
    public static readonly string Script = Path.Combine(RepoPaths.Root, "tests", "fixtures", "netns-cluster", "netns-cluster.sh");

    /// <summary>Why the hosts cannot be made here (not root, no iproute2, no namespaces), or null.</summary>
    public static string? UnsupportedReason { get; } = FindUnsupportedReason();

    private static string? FindUnsupportedReason()
    {
        if (!OperatingSystem.IsLinux()) return "network namespaces need Linux";
        var (code, output) = Run("check");
        return code == 0 ? null : $"cannot build hosts in network namespaces: {output.Trim()}";
    }

    private readonly TempDirectory _dir = new();

    public NetnsHosts(int nodes = 3)
    {
        var (code, output) = Run("up", _dir.Path, nodes.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (code != 0) { Dispose(); throw new InvalidOperationException($"netns-cluster.sh up failed: {output}"); }
        Slot = int.Parse(File.ReadAllText(Path.Combine(_dir.Path, "slot")).Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }

    public string Directory => _dir.Path;
    public int Slot { get; }
    public string Network => $"169.254.{47 + Slot}.0/24";
    public string Bridge => $"169.254.{47 + Slot}.1";
    public string Address(int node) => $"169.254.{47 + Slot}.1{node}";
    public string MountPoint => Path.Combine(Directory, "mnt", "shared");

    /// <summary>Runs a netns-cluster.sh command on this cluster (its directory goes first); its exit code and output.</summary>
    public (int Code, string Output) Do(string command, params string[] args) => Run([command, Directory, .. args]);

    /// <summary>Like <see cref="Do"/>, failing the test with the script's output when it fails.</summary>
    public string Must(string command, params string[] args)
    {
        var (code, output) = Do(command, args);
        if (code != 0) throw new InvalidOperationException($"netns-cluster.sh {command} {string.Join(' ', args)} failed ({code}): {output}");
        return output;
    }

    private static (int Code, string Output) Run(params string[] args)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Script);
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(60_000)) { process.Kill(true); return (-1, $"timed out: {string.Join(' ', args)}"); }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    public void Dispose()
    {
        Run("down", _dir.Path);
        _dir.Dispose();
    }
}

/// <summary>A fact that needs the netns hosts: skipped, saying why, where they cannot be made.</summary>
public sealed class NetnsFactAttribute : FactAttribute
{
    public NetnsFactAttribute()
    {
        if (NetnsHosts.UnsupportedReason is { } reason) Skip = reason;
    }
}
