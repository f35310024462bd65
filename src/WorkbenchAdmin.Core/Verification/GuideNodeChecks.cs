using System.Globalization;
using System.Text.RegularExpressions;
using WorkbenchAdmin.Core.Platform;
using WorkbenchAdmin.Core.Configuration;

namespace WorkbenchAdmin.Core.Verification;

/// <summary>One line of /proc/self/mountinfo: where, what, and its options (per mount and the file system's).</summary>
public sealed record MountEntry(string MountPoint, string FileSystem, string Source, IReadOnlyList<string> Options, int Line)
{
    /// <summary>The mounts in a mountinfo file, in its order (a later mount on the same point hides an earlier one).</summary>
    public static IReadOnlyList<MountEntry> Read(string path)
    {
        var list = new List<MountEntry>();
        var number = 0;
        foreach (var line in File.ReadLines(path))
        {
            number++;
            // id parent major:minor root mount-point mount-options [optional fields…] - fstype source super-options
            var f = line.Split(' ');
            var dash = Array.IndexOf(f, "-", 6);
            if (f.Length < 7 || dash < 0 || dash + 3 > f.Length) continue;
            var options = f[5].Split(',').Concat(f[dash + 3].Split(',')).Where(o => o.Length > 0).Distinct().ToList();
            list.Add(new MountEntry(Unescape(f[4]), f[dash + 1], Unescape(f[dash + 2]), options, number));
        }
        return list;
    }

    /// <summary>The mount holding <paramref name="path"/>: the last one whose mount point is the longest prefix of it.</summary>
    public static MountEntry? Holding(IReadOnlyList<MountEntry> mounts, string path) =>
        mounts.Select((m, i) => (m, i))
              .Where(x => path == x.m.MountPoint || x.m.MountPoint == "/" || path.StartsWith(x.m.MountPoint.TrimEnd('/') + "/", StringComparison.Ordinal))
              .OrderByDescending(x => x.m.MountPoint.Length).ThenByDescending(x => x.i).Select(x => x.m).FirstOrDefault();

    // The kernel writes space, tab, newline and backslash in paths as octal escapes (\040).
    private static string Unescape(string s) => Regex.Replace(s, @"\\([0-7]{3})", m => ((char)Convert.ToInt32(m.Groups[1].Value, 8)).ToString());

    public string? Option(string name) =>
        Options.Select(o => o.Split('=', 2)).FirstOrDefault(p => p[0] == name) is { } p ? (p.Length > 1 ? p[1] : "") : null;
}

/// <summary>The guide's remaining node steps: NFS mount options, home directories, the services, launcher sessions.</summary>
internal static class GuideNodeChecks
{
    /// <summary>This class's checks: each id (defined in <see cref="CheckCatalog"/>) with its implementation below.</summary>
    public static IEnumerable<Check> All =>
    [
        Check.Node("storage.nfs-options", NfsOptions),
        Check.Node("storage.home-directories", HomeDirectories),
        Check.Node("config.launcher-sessions", LauncherSessions),
        Check.Node("services.rstudio-server", RStudioServer),
        Check.Node("services.rstudio-launcher", RStudioLauncher),
    ];

    /// <summary>The guide's fstab options for both shared directories.</summary>
    public const string GuideOptions = "auto,noac,nofail,noatime,nolock,intr,tcp,actimeo=1800";
    public const int GuideActimeo = 1800;

    public static IEnumerable<CheckResult> NfsOptions(CheckDefinition c, NodeContext n)
    {
        var paths = new List<(string Path, string What)>();
        if (n.RServer.ServerSharedStoragePath is { } shared) paths.Add((shared, "server-shared-storage-path"));
        if (n.HomeRoot is { } home) paths.Add((home, "the home root"));
        if (paths.Count == 0)
        {
            yield return c.Skip(n.Target, "server-shared-storage-path is unset and no home root was given (see storage.shared-path)");
            yield break;
        }
        // Unreadable: the verifier reports the check as not made, with the reason.
        var mounts = MountEntry.Read(n.Machine.MountInfoPath);
        foreach (var (configured, what) in paths)
        {
            var local = n.Machine.LocalPath(configured);
            if (!Directory.Exists(local))
            {
                yield return c.Skip(n.Target, $"{configured} ({what}) does not exist on this node (see {(what == "the home root" ? "storage.home-owner" : "storage.shared-path")})");
                continue;
            }
            var full = Path.GetFullPath(new DirectoryInfo(local).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? local);
            var mount = MountEntry.Holding(mounts, full);
            if (mount is null || !mount.FileSystem.StartsWith("nfs", StringComparison.Ordinal))
            {
                yield return c.Skip(n.Target, mount is null
                    ? $"{configured} ({what}) is on no mount listed in {n.Machine.MountInfoPath}: not NFS, so the guide's NFS options do not apply (see storage.shared-path)"
                    : $"{configured} ({what}) is on {mount.FileSystem} at {mount.MountPoint} ({n.Machine.MountInfoPath}:{mount.Line}), not NFS: the guide's NFS options do not apply (see storage.shared-path)");
                continue;
            }
            var missing = MissingOptions(mount);
            var at = $"{mount.Source} on {mount.MountPoint} ({n.Machine.MountInfoPath}:{mount.Line})";
            yield return missing.Count == 0
                ? c.Pass(n.Target, $"{configured} ({what}): {at} has noac, noatime, tcp, actimeo={GuideActimeo}{(IsV3(mount) ? ", nolock" : "")} (auto and nofail live in /etc/fstab only; intr is ignored by Linux)", GuideOptions)
                : c.Fail(n.Target, $"{configured} ({what}): {at} lacks {string.Join(", ", missing)}", GuideOptions,
                    $"Give its /etc/fstab line the guide's options ({GuideOptions}), then remount it (umount {mount.MountPoint} && mount {mount.MountPoint}).");
        }
    }

    private static bool IsV3(MountEntry m) => m.Option("vers") is { } v ? v.StartsWith('3') : m.FileSystem == "nfs" && m.Option("nfsvers") is null or "3";

    /// <summary>The guide's options that the kernel does not show in force, as the kernel names them.</summary>
    internal static List<string> MissingOptions(MountEntry m)
    {
        var missing = new List<string>();
        if (m.Option("noatime") is null) missing.Add("noatime");
        if (m.Option("noac") is null) missing.Add("noac");
        if (m.Option("proto") is { } proto && !proto.StartsWith("tcp", StringComparison.Ordinal) || m.Option("udp") is not null) missing.Add($"tcp (proto={m.Option("proto") ?? "udp"})");
        // actimeo=N sets all four attribute cache times; the kernel lists them, not actimeo.
        string[] ac = ["acregmin", "acregmax", "acdirmin", "acdirmax"];
        var wrong = ac.Where(a => m.Option(a) != GuideActimeo.ToString(CultureInfo.InvariantCulture)).ToList();
        if (wrong.Count > 0) missing.Add($"actimeo={GuideActimeo} ({string.Join(", ", wrong.Select(a => $"{a}={m.Option(a) ?? "default"}"))})");
        // NFSv4 locks in the protocol itself; nolock concerns NFSv3's separate lock manager.
        if (IsV3(m) && m.Option("nolock") is null && m.Option("local_lock") is not ("all" or "posix")) missing.Add("nolock");
        return missing;
    }

    public static IEnumerable<CheckResult> HomeDirectories(CheckDefinition c, NodeContext n)
    {
        if (n.HomeRoot?.TrimEnd('/') is { } homeRoot && !Directory.Exists(n.Machine.LocalPath(homeRoot)))
        {
            yield return c.Skip(n.Target, $"the home root {homeRoot} does not exist on this node (see storage.home-owner)");
            yield break;
        }
        var passwd = n.Machine.PasswdPath;
        var users = File.ReadLines(passwd).Select(l => l.Split(':')).Where(f => f.Length >= 7 && uint.TryParse(f[2], out var uid) && uid is >= 1000 and <= 65533)
                        .Select(f => (User: f[0], Home: f[5])).ToList();
        if (users.Count == 0)
        {
            yield return c.Skip(n.Target, $"no user with a UID from 1000 to 65533 in {passwd} on this node (users from LDAP/SSSD are not listed there)");
            yield break;
        }
        var root = n.HomeRoot?.TrimEnd('/');
        var problems = new List<string>();
        foreach (var (user, home) in users)
        {
            var local = n.Machine.LocalPath(home);
            if (root is not null && !home.StartsWith(root + "/", StringComparison.Ordinal)) problems.Add($"{user}: {home} is not under {root}");
            else if (!Directory.Exists(local)) problems.Add($"{user}: {home} does not exist");
            else if (n.Machine.NetworkFileSystem(local) is null) problems.Add($"{user}: {home} is on a local file system");
        }
        var scope = $"{users.Count} user{(users.Count == 1 ? "" : "s")} of {passwd}, checked on this node (cluster.users compares the users of every node)";
        var expected = root is null ? "every user's home directory on shared storage" : $"every user's home directory in {root}, on shared storage";
        yield return problems.Count == 0
            ? c.Pass(n.Target, $"{scope}: every home directory exists on shared storage", expected)
            : c.Fail(n.Target, $"{problems.Count} of {scope}: {string.Join("; ", problems.Take(5))}{(problems.Count > 5 ? "; …" : "")}", expected,
                $"Create home directories on the shared storage ({root ?? "/nfs/workbench/home"}/<user>) and set each user's home there (usermod -d, or override_homedir with SSSD), the same on every node.");
    }

    public static IEnumerable<CheckResult> RStudioServer(CheckDefinition c, NodeContext n) => [Service(c, n, "rstudio-server")];
    public static IEnumerable<CheckResult> RStudioLauncher(CheckDefinition c, NodeContext n) => [Service(c, n, "rstudio-launcher")];

    private static CheckResult Service(CheckDefinition c, NodeContext n, string unit)
    {
        string? text;
        try { text = n.Machine.SystemdUnitState(unit); }
        catch (Exception e) when (e is IOException or System.ComponentModel.Win32Exception)
        {
            return c.Unchecked(n.Target, $"systemctl show {unit} failed: {e.Message}", $"Run 'systemctl status {unit}' to see why.");
        }
        if (text is null) return c.Skip(n.Target, $"systemd is not running on this machine (no /run/systemd/system): {unit} is not a systemd service here");
        return Judge(c, n.Target, unit, SystemdUnitState.Parse(text));
    }

    internal static CheckResult Judge(CheckDefinition c, string target, string unit, SystemdUnitState s)
    {
        const string expected = "enabled and active";
        if (s.LoadState == "not-found") return c.Fail(target, $"{unit} is not installed (LoadState=not-found)", expected, $"Install Posit Workbench on this node, then: systemctl enable --now {unit}");
        var found = $"{unit}: ActiveState={s.ActiveState}, UnitFileState={s.UnitFileState}";
        if (s.ActiveState == "active" && s.UnitFileState is "enabled" or "enabled-runtime" or "static" or "generated" or "alias") return c.Pass(target, found, expected);
        var fix = s.ActiveState == "active" ? $"systemctl enable {unit} (it would not start after a reboot)" : $"systemctl enable --now {unit}; if it fails, journalctl -u {unit}";
        return c.Fail(target, found, expected, fix);
    }

    public static IEnumerable<CheckResult> LauncherSessions(CheckDefinition c, NodeContext n)
    {
        var rserverPath = n.Root.PathOf(ConfigFiles.RServer);
        var launcherPath = n.Root.PathOf(ConfigFiles.Launcher);
        var rserver = n.Root.TryLoad(ConfigFiles.RServer);
        var enabledLine = rserver?.Find(null, "launcher-sessions-enabled");
        var defaultCluster = rserver?.Find(null, "launcher-default-cluster");
        var launcherDoc = n.Root.TryLoad(ConfigFiles.Launcher);
        // [server] is the launcher's own (address, port); each [cluster] is a cluster sessions may run on.
        var launcher = LauncherConfig.From(launcherDoc);
        var hasCluster = launcher.Clusters.Count > 0;
        var clusters = string.Join(", ", launcher.Clusters.Select(k => k.Name ?? $"(unnamed, line {k.Line})"));
        var where = enabledLine is null ? $"launcher-sessions-enabled is unset in {rserverPath} (on by default)" : $"launcher-sessions-enabled={enabledLine.Value} ({rserverPath}:{enabledLine.Number})";
        if (!n.RServer.LauncherSessionsEnabled)
        {
            yield return c.Warn(n.Target,
                hasCluster ? $"{where}, yet {launcherPath} configures [cluster] {clusters}: sessions do not go through the launcher" : $"{where}: sessions do not go through the launcher",
                "launcher-sessions-enabled=1 with a launcher.conf [cluster] (JupyterLab, Jupyter Notebook and VS Code need it)",
                $"Set launcher-sessions-enabled=1 in {rserverPath}{(hasCluster ? "" : $" and add a [cluster] section (name=Local, type=Local) to {launcherPath}")}, then restart rstudio-server and rstudio-launcher.");
            yield break;
        }
        var problems = new List<string>();
        if (launcherDoc is null) problems.Add($"{launcherPath} is missing");
        else
        {
            if (!launcher.HasServerSection) problems.Add($"{launcherPath} has no [server] section");
            if (!hasCluster) problems.Add($"{launcherPath} has no [cluster] section (the plugin sessions run on)");
            foreach (var unnamed in launcher.Clusters.Where(k => k.Name is null))
                problems.Add($"the [cluster] at {launcherPath}:{unnamed.Line} has no name");
            if (launcher.Port != n.RServer.LauncherPort)
                problems.Add($"rserver.conf's launcher-port is {n.RServer.LauncherPort} but launcher.conf's port is {launcher.Port}{(launcherDoc.Find(LauncherConfig.Section, "port") is { } p ? $" ({launcherPath}:{p.Number})" : "")}");
            if (!string.IsNullOrEmpty(defaultCluster?.Value) && hasCluster && launcher.Clusters.All(k => k.Name != defaultCluster.Value))
                problems.Add($"launcher-default-cluster={defaultCluster.Value} ({rserverPath}:{defaultCluster.Number}) names no [cluster] of {launcherPath}");
        }
        yield return problems.Count == 0
            ? c.Pass(n.Target, $"{where}; {launcherPath} has [server] (port {launcher.Port}) and [cluster] {clusters}")
            : c.Fail(n.Target, $"{where}, but {string.Join("; ", problems)}", "launcher.conf with [server] on rserver.conf's launcher-port and a named [cluster] for each cluster",
                $"Complete {launcherPath} ([server] address=0.0.0.0, port={n.RServer.LauncherPort}; [cluster] name=Local, type=Local, and one [cluster] with a name of its own for each further cluster), then restart rstudio-launcher.");
    }
}
