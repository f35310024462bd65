using WorkbenchAdmin.Core.Platform;

namespace WorkbenchAdmin.Core.Tests.Support;

/// <summary>Real machine, except that chosen directories count as NFS mounts and chosen names resolve.</summary>
public sealed class TestMachine : Machine
{
    public HashSet<string> NfsPaths { get; } = [];
    /// <summary>The machine's host name as the code sees it; null for the real one.</summary>
    public string? Name { get; init; }
    public override string HostName() => Name ?? base.HostName();
    public Dictionary<string, string[]> Hosts { get; } = new(StringComparer.OrdinalIgnoreCase);
    public string? Passwd { get; set; }
    /// <summary>Paths this node sees elsewhere (as if a different file system were mounted there).</summary>
    public Dictionary<string, string> Mounts { get; } = [];

    /// <summary>How long the shared storage takes to answer (an NFS stall), for code that must not depend on it being quick.</summary>
    public TimeSpan SharedStorageDelay { get; set; }

    public override string LocalPath(string path)
    {
        Thread.Sleep(SharedStorageDelay);
        return Mounts.GetValueOrDefault(path) ?? path;
    }

    public override string PasswdPath => Passwd ?? base.PasswdPath;

    public string? MountInfo { get; set; }
    public override string MountInfoPath => MountInfo ?? base.MountInfoPath;

    /// <summary>systemctl show output per unit, as captured on a node; null when systemd is absent (as in CI).</summary>
    public Dictionary<string, string>? Units { get; set; }
    public override string? SystemdUnitState(string unit) => Units is null ? null : Units.GetValueOrDefault(unit, "LoadState=not-found\nActiveState=inactive\nUnitFileState=\n");

    public override string? NetworkFileSystem(string path) =>
        NfsPaths.Any(p => path == p || path.StartsWith(p.TrimEnd('/') + "/", StringComparison.Ordinal)) ? "nfs" : base.NetworkFileSystem(path);

    public override IReadOnlyList<string> Resolve(string host, CancellationToken cancellation) =>
        Hosts.TryGetValue(host, out var addresses) ? addresses : base.Resolve(host, cancellation);
}
